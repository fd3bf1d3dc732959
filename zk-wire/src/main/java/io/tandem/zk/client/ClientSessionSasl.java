package io.tandem.zk.client;

import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.proto.SetSASLResponse;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.security.sasl.SaslException;

/**
 * The SASL login of a {@link ClientSession}'s connections, as Apache's ZooKeeperSaslClient runs it: on every
 * connection the first token, then one token per server answer until the mechanism completes and the server has
 * answered the last token, or until either side fails. It owns the token computation ({@link ClientSaslExchange})
 * apart from the session engine's connection and request bookkeeping.
 *
 * <p>Every step is computed on {@link #TOKENS}, a small pool shared by the JVM's clients, never on the event loop: a
 * GSSAPI step asks the KDC for a ticket (a network round trip) and may canonicalise a host name (a DNS lookup). Its
 * result comes back to the event loop, which sends the token, unless the connection (and its exchange) has gone in
 * the meantime. Pings keep flowing while a step runs, so a slow KDC does not cost the session. The methods here are
 * called on the session's event loop only.
 */
final class ClientSessionSasl {
    /**
     * Threads computing tokens for every client of the JVM: logins happen only when connections are (re)made, so two
     * keep one slow KDC answer from holding up the others.
     */
    private static final int TOKEN_THREADS = 2;
    /**
     * Steps waiting for a thread. Each connection has at most one, so a full queue means a stuck KDC: the connection
     * is dropped and made again later, as after any connection loss.
     */
    private static final int TOKEN_QUEUE_MAX = 64;
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();
    private static final ThreadPoolExecutor TOKENS = tokenPool();

    /** What the session does with the exchange's steps; called on the session's event loop. */
    interface Steps {
        /** Sends (and flushes) one SASL packet on the current connection. */
        void send(PendingRequest tokenRequest);

        /** The login succeeded: the connection is ready for requests. */
        void authenticated();

        /** The login failed for good (Apache's AUTH_FAILED). */
        void failed(String why);

        /** The login could not go on on this connection (no token thread): drop it and connect again. */
        void abandon(String why);
    }

    private final SaslLogin login;
    private final Executor loop;
    /** The exchange of the current connection while it runs; requests wait until it succeeds. */
    private ClientSaslExchange exchange;

    ClientSessionSasl(SaslLogin login, Executor loop) {
        this.login = login;
        this.loop = loop;
    }

    private static ThreadPoolExecutor tokenPool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(TOKEN_THREADS, TOKEN_THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(TOKEN_QUEUE_MAX), task -> {
                    Thread thread = new Thread(task, "zk-client-sasl-" + THREAD_NUMBER.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        // Idle between reconnections: no thread stays for nothing.
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Whether the client logs in with SASL at all. */
    boolean enabled() {
        return login != null;
    }

    /** Whether the current connection's exchange is still running (requests must wait). */
    boolean inProgress() {
        return exchange != null;
    }

    /** Starts the exchange of a new connection to {@code server} by sending its first token. */
    void start(InetSocketAddress server, Steps steps) {
        ClientSaslExchange started = new ClientSaslExchange(login, server);
        exchange = started;
        runStep(started, started::firstToken, steps);
    }

    /** The server's answer to a SASL token: the next token, success, or a failure that ends the client. */
    void onReply(int err, JuteInput in, Steps steps) {
        ClientSaslExchange current = exchange;
        if (current == null) return; // the connection's exchange already ended
        if (err != 0) {
            steps.failed("the server refused the SASL login of " + current.username() + " (error " + err + ")");
            return;
        }
        if (current.isComplete()) {
            // The answer to the client's last token (GSSAPI's security layer): the server accepted it.
            succeed(steps);
            return;
        }
        byte[] serverToken = SetSASLResponse.read(in).token();
        runStep(current, () -> current.respond(serverToken), steps);
    }

    private interface Step {
        byte[] run() throws SaslException;
    }

    private void runStep(ClientSaslExchange of, Step step, Steps steps) {
        try {
            TOKENS.execute(() -> {
                byte[] token = null;
                String failure = null;
                try {
                    token = step.run();
                } catch (SaslException | RuntimeException e) {
                    failure = e.toString();
                }
                byte[] result = token;
                String why = failure;
                try {
                    loop.execute(() -> afterStep(of, result, why, steps));
                } catch (RejectedExecutionException clientClosed) {
                    of.dispose(); // the client's threads are gone; nothing waits for this exchange
                }
            });
        } catch (RejectedExecutionException e) {
            steps.abandon(TOKEN_QUEUE_MAX + " SASL steps are already waiting for a token thread (a stuck KDC?)");
        }
    }

    /** Back on the event loop with a step's token (or failure). */
    private void afterStep(ClientSaslExchange of, byte[] token, String failure, Steps steps) {
        if (of != exchange) return; // the connection went while the step ran; the next one has its own exchange
        if (failure != null) {
            steps.failed(failure);
        } else if (token != null) {
            // Complete or not, the server's answer comes first: it may still refuse the last token.
            steps.send(ClientSaslExchange.request(token));
        } else if (of.isComplete()) {
            succeed(steps); // the last server token verified (DIGEST-MD5's rspauth) and nothing is left to send
        } else {
            steps.send(ClientSaslExchange.request(new byte[0]));
        }
    }

    private void succeed(Steps steps) {
        dispose();
        steps.authenticated();
    }

    /** Ends the current connection's exchange, if any (the connection is gone or the client ends). */
    void dispose() {
        if (exchange != null) exchange.dispose();
        exchange = null;
    }
}
