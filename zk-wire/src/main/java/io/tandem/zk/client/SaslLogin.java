package io.tandem.zk.client;

import java.net.InetSocketAddress;
import java.util.function.Supplier;
import javax.security.auth.Subject;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * How a {@link ZkClient} logs in with SASL on every connection, as Apache's ZooKeeperSaslClient chooses from its JAAS
 * section's subject (SecurityUtils.createSaslClient): DIGEST-MD5 with a user name and password ({@link DigestLogin}),
 * or GSSAPI (Kerberos) as the subject's principal ({@link GssapiLogin}).
 */
public sealed interface SaslLogin permits DigestLogin, GssapiLogin {
    /** Apache's default for {@code zookeeper.sasl.client.username}: the protocol, or the service of the ticket. */
    String DEFAULT_PROTOCOL = "zookeeper";

    /** DIGEST-MD5 as {@code username}, for the protocol {@code zookeeper}. */
    static DigestLogin digest(String username, String password) {
        return new DigestLogin(username, password, DEFAULT_PROTOCOL);
    }

    /** DIGEST-MD5 as {@code username}, for the protocol {@code protocol} ({@code zookeeper.sasl.client.username}). */
    static DigestLogin digest(String username, String password, String protocol) {
        return new DigestLogin(username, password, protocol);
    }

    /**
     * GSSAPI as the Kerberos principal of {@code login}'s subject, asking for a ticket to
     * {@code serviceUser/<server host>} as Apache's SaslServerPrincipal names it. {@code login} is asked once per
     * exchange (so it may log in again when its ticket-granting ticket is due), on a token thread, never on the
     * client's event loop.
     */
    static GssapiLogin gssapi(Supplier<Subject> login, String serviceUser, boolean canonicalizeHostname,
                              String serverRealm) {
        return new GssapiLogin(login, serviceUser, canonicalizeHostname, serverRealm);
    }

    /**
     * The identity the login authenticates as, for logs and errors (never a secret). A GSSAPI login is asked for its
     * current subject, which may log in again: not for an event loop.
     */
    String username();

    /**
     * A SASL client for one connection to {@code server} (the address as the connect string names it), each step of
     * which runs inside the login. May ask a KDC, so {@link ClientSessionSasl} calls it on its token threads.
     */
    SaslClient newClient(InetSocketAddress server) throws SaslException;
}
