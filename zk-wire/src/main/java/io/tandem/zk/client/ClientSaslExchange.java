package io.tandem.zk.client;

import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.GetSASLRequest;
import io.tandem.zk.wire.proto.SetSASLResponse;
import java.net.InetSocketAddress;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * One connection's SASL exchange (opcode 102 packets, Apache's ZooKeeperSaslClient): the first token (empty for
 * DIGEST-MD5, which has no initial response; GSSAPI's AP-REQ), then one token per server challenge until the mechanism
 * completes. Its steps run on {@link ClientSessionSasl}'s token threads, one at a time (the next step needs the
 * server's answer to the previous token); only {@link #dispose()} may come from the event loop while a step runs, and
 * it then leaves the disposing to that step, so the SASL client is never used by two threads at once.
 */
final class ClientSaslExchange {
    private final SaslLogin login;
    private final InetSocketAddress server;
    /** Created by the first step; touched only by steps (and by dispose once no step runs). */
    private SaslClient client;
    /** Written by steps, read by the event loop once the step's result is there. */
    private volatile boolean complete;
    /** Who logs in, for the event loop's messages (asking a GSSAPI login may renew it, so never on the loop). */
    private volatile String username;
    private boolean stepRunning;
    private boolean disposed;

    ClientSaslExchange(SaslLogin login, InetSocketAddress server) {
        this.login = login;
        this.server = server;
    }

    /** The first step: creates the client (GSSAPI may ask the KDC) and returns the first token. */
    byte[] firstToken() throws SaslException {
        return step(null);
    }

    /**
     * The token to answer the server's with, null when there is none; a SaslException when the server is refused
     * (its token does not verify) or the mechanism fails (the KDC refuses a ticket).
     */
    byte[] respond(byte[] serverToken) throws SaslException {
        return step(serverToken == null ? new byte[0] : serverToken);
    }

    private byte[] step(byte[] serverToken) throws SaslException {
        synchronized (this) {
            if (disposed) throw new SaslException("the connection's SASL exchange has ended");
            stepRunning = true;
        }
        try {
            if (serverToken == null) {
                username = login.username();
                client = login.newClient(server);
                byte[] first = client.hasInitialResponse() ? client.evaluateChallenge(new byte[0]) : new byte[0];
                complete = client.isComplete();
                return first;
            }
            if (client.isComplete()) return null;
            byte[] next = client.evaluateChallenge(serverToken);
            complete = client.isComplete();
            return next;
        } finally {
            boolean disposeNow;
            synchronized (this) {
                stepRunning = false;
                disposeNow = disposed;
            }
            if (disposeNow) disposeClient();
        }
    }

    /** Who logs in, once the first step has run. */
    String username() {
        return username;
    }

    /** Whether the mechanism has completed on the client's side (the last step's outcome). */
    boolean isComplete() {
        return complete;
    }

    /** Ends the exchange; a step running now disposes the client when it returns. */
    void dispose() {
        synchronized (this) {
            if (disposed) return;
            disposed = true;
            if (stepRunning) return;
        }
        disposeClient();
    }

    private void disposeClient() {
        if (client == null) return;
        try {
            client.dispose();
        } catch (SaslException ignored) {
            // Nothing is held that outlives the exchange; a failed dispose leaves nothing behind to clean.
        }
    }

    /** One SASL packet on its way, answered with the server's next token. */
    static PendingRequest request(byte[] token) {
        return new PendingRequest(OpCode.SASL, null, new GetSASLRequest(token), SetSASLResponse::read, null);
    }
}
