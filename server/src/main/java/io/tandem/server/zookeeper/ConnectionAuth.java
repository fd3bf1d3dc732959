package io.tandem.server.zookeeper;

import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.AuthPacket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import javax.security.sasl.SaslException;

/**
 * The ids one client connection has authenticated as, and the three ways it gains them, as Apache's providers grant
 * them: addauth packets (digest, ip, x509), SASL DIGEST-MD5 or GSSAPI tokens ({@code sasl}, and {@code super} for a
 * zookeeper.superUser), and the TLS client certificate ({@code x509}: its subject DN). Changed on the connection's
 * event loop; {@link #ids} is read from any thread.
 */
final class ConnectionAuth {
    private static final Logger LOG = System.getLogger(ConnectionAuth.class.getName());
    /**
     * Distinct ids one connection may authenticate as (Apache has no limit, but every list a client can grow needs
     * one; real clients hold one or two).
     */
    static final int AUTH_IDS_MAX = 100;

    final CopyOnWriteArrayList<Id> ids = new CopyOnWriteArrayList<>();
    private final ZkServer server;
    private final Supplier<SocketAddress> peer;
    /** Whether the connection came in on the secure client port, which has a Kerberos login of its own. */
    private final BooleanSupplier securePort;
    /** The SASL exchange, from the first SASL packet on. */
    private ZkSaslServer sasl;

    ConnectionAuth(ZkServer server, Supplier<SocketAddress> peer, BooleanSupplier securePort) {
        this.server = server;
        this.peer = peer;
        this.securePort = securePort;
    }

    /** An addauth packet: true when it succeeded (Apache then answers OK, else AUTHFAILED and closes). */
    boolean addauth(AuthPacket auth) {
        String scheme = auth.scheme() == null ? "" : auth.scheme();
        return switch (scheme) {
            case "digest" -> {
                String idPassword = new String(auth.auth() == null ? new byte[0] : auth.auth(), StandardCharsets.UTF_8);
                String digest = Acls.digest(idPassword);
                yield (!digest.equals(server.superDigest()) || add(new Id("super", "")))
                        && add(new Id("digest", digest));
            }
            case "ip" -> true; // the ip id was added when the connection opened
            // Apache's X509AuthenticationProvider authenticates the TLS client certificate again; its id is held.
            case "x509" -> server.security.x509Scheme && ids.stream().anyMatch(id -> id.scheme().equals("x509"));
            // sasl included: Apache's SASLAuthenticationProvider fails every addauth.
            default -> false;
        };
    }

    /**
     * One SASL token: the server's reply token. SaslException when authentication fails (or SASL is not configured);
     * when the exchange completes the {@code sasl} id is added.
     */
    byte[] sasl(byte[] token, long sessionId) throws SaslException {
        ZkSecurity security = server.security;
        if (security.saslUsers == null) {
            throw new SaslException("SASL is not configured (no JAAS Server section)");
        }
        if (sasl == null) {
            ZkKerberos kerberos = security.kerberos(securePort.getAsBoolean());
            sasl = kerberos != null ? kerberos.newServer()
                    : DigestSaslServer.create(security.saslUsers, security.saslSuperPassword);
        }
        byte[] reply = sasl.evaluate(token);
        if (sasl.isComplete()) {
            String user = sasl.authorizedId();
            if (!add(new Id("sasl", user)) || (security.saslSuperUsers.contains(user) && !add(new Id("super", "")))) {
                throw new SaslException("too many ids on the connection");
            }
            LOG.log(Level.INFO, () -> "Session 0x" + Long.toHexString(sessionId) + ": adding SASL authorization for "
                    + "authorizationID: " + user);
        }
        return reply;
    }

    /**
     * The TLS peer's certificate chain (null or empty: none presented) after the handshake; false when the
     * connection must close, as Apache's NettyServerCnxnFactory closes it when no x509 provider is registered.
     */
    boolean certificate(Certificate[] chain) {
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
            return true; // ssl.clientAuth=want or none: no certificate, no x509 id
        }
        if (!server.security.x509Scheme) {
            LOG.log(Level.WARNING, () -> "Closing ZooKeeper connection from " + peer.get()
                    + ": X509 Auth provider not found: x509 (authProvider.x509 is not set)");
            return false;
        }
        String subject = certificate.getSubjectX500Principal().getName();
        if (subject.equals(server.security.x509SuperUser)) {
            add(new Id("super", subject));
        }
        add(new Id("x509", subject));
        LOG.log(Level.DEBUG, () -> "Authenticated Id '" + subject + "' for scheme 'x509'");
        return true;
    }

    /** Whether the connection may send requests (enforce.auth.enabled). */
    boolean admitted() {
        return server.security.admits(ids);
    }

    List<Id> ids() {
        return ids;
    }

    /**
     * Adds an id once, as Apache's addAuthInfo does (a repeated addauth does not grow the list); false when the
     * connection already holds {@link #AUTH_IDS_MAX} ids.
     */
    boolean add(Id id) {
        if (ids.contains(id)) {
            return true;
        }
        if (ids.size() >= AUTH_IDS_MAX) {
            LOG.log(Level.WARNING, () -> "Refusing addauth from " + peer.get() + ": the connection already holds "
                    + AUTH_IDS_MAX + " ids");
            return false;
        }
        return ids.addIfAbsent(id);
    }

    void dispose() {
        if (sasl != null) {
            sasl.dispose();
        }
    }
}
