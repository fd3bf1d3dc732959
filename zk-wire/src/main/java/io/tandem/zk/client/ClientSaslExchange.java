package io.tandem.zk.client;

import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.GetSASLRequest;
import io.tandem.zk.wire.proto.SetSASLResponse;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * One connection's SASL exchange (opcode 102 packets, Apache's ZooKeeperSaslClient): the first token (empty for
 * DIGEST-MD5, which has no initial response), then one token per server challenge until the mechanism completes.
 * DIGEST-MD5 is pure computation, so it runs on the client's event loop.
 */
final class ClientSaslExchange {
    private final SaslClient client;

    ClientSaslExchange(SaslLogin login) throws SaslException {
        this.client = login.newClient();
    }

    byte[] firstToken() throws SaslException {
        return client.hasInitialResponse() ? client.evaluateChallenge(new byte[0]) : new byte[0];
    }

    /** The token to send for the server's, or null when there is none; a SaslException when the server is refused. */
    byte[] respond(byte[] serverToken) throws SaslException {
        if (client.isComplete()) {
            return null;
        }
        return client.evaluateChallenge(serverToken == null ? new byte[0] : serverToken);
    }

    boolean isComplete() {
        return client.isComplete();
    }

    void dispose() {
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
