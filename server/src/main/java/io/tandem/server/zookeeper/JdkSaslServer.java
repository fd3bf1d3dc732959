package io.tandem.server.zookeeper;

import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

/**
 * A client port exchange run by one of the JDK's SaslServers (DIGEST-MD5 from {@link DigestSaslServer}, GSSAPI from
 * {@link ZkKerberos}), as Apache's ZooKeeperSaslServer wraps its own: tokens go to the JDK's server, its authorization
 * id is the {@code sasl} id, and what it throws fails this exchange only. Event loop only.
 */
final class JdkSaslServer implements ZkSaslServer {
    private final SaslServer server;

    JdkSaslServer(SaslServer server) {
        this.server = server;
    }

    /**
     * The reply to a client token; SaslException when authentication fails. The exchange's state is the JDK
     * server's and bounded by it: a token after completion fails too.
     */
    @Override
    public byte[] evaluate(byte[] token) throws SaslException {
        try {
            return server.evaluateResponse(token == null ? new byte[0] : token);
        } catch (SaslException e) {
            // The JDK's reason (a checksum failure, a replayed ticket) is in the cause: keep it for the log.
            if (e.getCause() == null) throw e;
            throw new SaslException(e.getMessage() + " (" + e.getCause().getMessage() + ")", e);
        } catch (RuntimeException e) {
            // The JDK's servers throw unchecked exceptions on some malformed tokens; they fail this exchange only.
            throw new SaslException("malformed SASL token: " + e, e);
        }
    }

    @Override
    public boolean isComplete() {
        return server.isComplete();
    }

    @Override
    public String authorizedId() {
        return server.getAuthorizationID();
    }

    @Override
    public void dispose() {
        try {
            server.dispose();
        } catch (SaslException ignored) {
            // nothing held that outlives the connection
        }
    }
}
