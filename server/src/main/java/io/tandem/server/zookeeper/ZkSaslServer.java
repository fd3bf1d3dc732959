package io.tandem.server.zookeeper;

import javax.security.sasl.SaslException;

/**
 * One connection's SASL exchange on the client port: DIGEST-MD5 ({@link DigestSaslServer}) or GSSAPI
 * ({@link ZkKerberos}), both the JDK's servers run by {@link JdkSaslServer}.
 */
interface ZkSaslServer {
    /** The reply to a client token; SaslException when authentication fails. */
    byte[] evaluate(byte[] token) throws SaslException;

    boolean isComplete();

    /** The id the {@code sasl} scheme gets, once complete. */
    String authorizedId();

    void dispose();
}
