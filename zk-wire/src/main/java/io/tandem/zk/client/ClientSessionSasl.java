package io.tandem.zk.client;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.proto.SetSASLResponse;
import javax.security.sasl.SaslException;

/**
 * The SASL login of a {@link ClientSession}'s connections, as Apache's ZooKeeperSaslClient runs it: on every
 * connection the first token, then one token per server answer until the mechanism completes or fails. It owns the
 * token computation ({@link ClientSaslExchange}) apart from the session engine, so that computation can move off the
 * event loop without touching connection or request bookkeeping. Used only on the session's event loop.
 */
final class ClientSessionSasl {
    /** What the session does with the exchange's steps; called on the session's event loop. */
    interface Steps {
        /** Sends (and flushes) one SASL packet on the current connection. */
        void send(PendingRequest tokenRequest);

        /** The login succeeded: the connection is ready for requests. */
        void authenticated();

        /** The login failed for good (Apache's AUTH_FAILED). */
        void failed(String why);
    }

    private final SaslLogin login;
    /** The exchange of the current connection while it runs; requests wait until it succeeds. */
    private ClientSaslExchange exchange;

    ClientSessionSasl(SaslLogin login) {
        this.login = login;
    }

    /** Whether the client logs in with SASL at all. */
    boolean enabled() {
        return login != null;
    }

    /** Whether the current connection's exchange is still running (requests must wait). */
    boolean inProgress() {
        return exchange != null;
    }

    /** Starts the exchange of a new connection by sending its first token. */
    void start(Steps steps) {
        try {
            exchange = new ClientSaslExchange(login);
            steps.send(ClientSaslExchange.request(exchange.firstToken()));
        } catch (SaslException e) {
            steps.failed(e.toString());
        }
    }

    /** The server's answer to a SASL token: the next token, success, or a failure that ends the client. */
    void onReply(int err, JuteInput in, Steps steps) {
        if (exchange == null) return; // the connection's exchange already ended
        if (err != 0) {
            steps.failed("the server refused the SASL login of " + login.username() + " (error " + err + ")");
            return;
        }
        try {
            byte[] next = exchange.respond(SetSASLResponse.read(in).token());
            if (next != null) {
                steps.send(ClientSaslExchange.request(next));
            }
            if (exchange.isComplete()) {
                dispose();
                steps.authenticated();
            }
        } catch (SaslException e) {
            steps.failed(e.toString());
        }
    }

    /** Ends the current connection's exchange, if any (the connection is gone or the client ends). */
    void dispose() {
        if (exchange != null) exchange.dispose();
        exchange = null;
    }
}
