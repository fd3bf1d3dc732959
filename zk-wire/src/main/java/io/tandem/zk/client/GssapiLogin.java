package io.tandem.zk.client;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * SASL GSSAPI (Kerberos) as Apache's ZooKeeper 3.9 client runs it when its JAAS section logs in with a Kerberos
 * principal: the ticket asked for is {@code serviceUser/host@realm} (SaslServerPrincipal and
 * SecurityUtils.createSaslClient), where
 * <ul>
 * <li>{@code serviceUser} is {@code zookeeper.sasl.client.username} (default {@code zookeeper});</li>
 * <li>{@code host} is the server's host name as the connect string names it or, with
 * {@code zookeeper.sasl.client.canonicalize.hostname} (default true), the canonical name of its address unless that
 * is only the address again;</li>
 * <li>{@code realm} is {@code zookeeper.server.realm}, default the client principal's own realm.</li>
 * </ul>
 * The JDK's GSSAPI client is created, and every step evaluated, as the login ({@code Subject.doAs}), so the JDK finds
 * the ticket-granting ticket there and asks the KDC for the service ticket: a network round trip, and host name
 * canonicalisation a DNS lookup, which is why {@link ClientSessionSasl} never calls this on the event loop.
 *
 * <p>{@code login} is asked for a subject once per connection ({@link #newClient}), so a supplier may log in anew
 * when its owner starts a new session, as Apache's client logs in once per ZooKeeper handle; such a supplier
 * implements {@link Logins}, so that naming the principal in messages never logs in.
 *
 * @param login                supplies the logged-in subject, once per connection (it may log in again)
 * @param serviceUser          {@code zookeeper.sasl.client.username}
 * @param canonicalizeHostname {@code zookeeper.sasl.client.canonicalize.hostname}
 * @param serverRealm          {@code zookeeper.server.realm}, or null for the client principal's realm
 */
public record GssapiLogin(Supplier<Subject> login, String serviceUser, boolean canonicalizeHostname,
                          String serverRealm) implements SaslLogin {
    public static final String MECHANISM = "GSSAPI";

    /** A supplier that may log in anew when asked, and names its principal without logging in. */
    public interface Logins extends Supplier<Subject> {
        /** The principal the logins are made as, for messages; never asks the KDC. */
        String principal();
    }

    public GssapiLogin {
        Objects.requireNonNull(login, "login");
        Objects.requireNonNull(serviceUser, "serviceUser");
    }

    /**
     * The Kerberos principal of the login, for logs and errors; asks {@code login} unless it is {@link Logins}, so
     * not on a loop.
     */
    @Override
    public String username() {
        if (login instanceof Logins logins) return logins.principal();
        String principal = principal(login.get());
        return principal == null ? "(no Kerberos principal)" : principal;
    }

    /** Apache's SaslServerPrincipal.getServerPrincipal: {@code serviceUser/host}, without a realm. */
    public String serverPrincipal(InetSocketAddress server) throws SaslException {
        String host = server.getHostName();
        if (canonicalizeHostname) {
            InetAddress address = server.getAddress();
            if (address == null) {
                throw new SaslException("Unable to canonicalize address " + server + " because it's not resolvable");
            }
            String canonical = address.getCanonicalHostName();
            // A failed reverse lookup gives the address back: Apache keeps the name then, never a literal address.
            if (!canonical.equals(address.getHostAddress())) host = canonical;
        }
        return serviceUser + "/" + host;
    }

    @Override
    @SuppressWarnings("removal") // Subject.doAs is how the JDK 17 GSS initiator finds the login's ticket
    public SaslClient newClient(InetSocketAddress server) throws SaslException {
        Subject subject = login.get();
        String client = principal(subject);
        if (client == null) throw new SaslException("the Kerberos login holds no Kerberos principal");
        String realm = serverRealm != null ? serverRealm : new KerberosPrincipal(client).getRealm();
        String service = serverPrincipal(server);
        int slash = service.indexOf('/');
        String serviceName = service.substring(0, slash);
        String serviceHost = service.substring(slash + 1);
        try {
            SaslClient created = Subject.doAs(subject, (PrivilegedExceptionAction<SaslClient>) () ->
                    Sasl.createSaslClient(new String[] {MECHANISM}, client, serviceName, serviceHost, null,
                            GssapiLogin::authorize));
            if (created == null) throw new SaslException("this JVM has no SASL " + MECHANISM + " client");
            return new AsLogin(created, subject, service + "@" + realm);
        } catch (PrivilegedActionException e) {
            throw new SaslException("cannot create a GSSAPI client for " + service + "@" + realm, e.getCause());
        }
    }

    /** Apache's SaslClientCallbackHandler for GSSAPI: only the authorization check, ids must be equal. */
    private static void authorize(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (!(callback instanceof AuthorizeCallback authorize)) throw new UnsupportedCallbackException(callback);
            boolean same = authorize.getAuthenticationID().equals(authorize.getAuthorizationID());
            authorize.setAuthorized(same);
            if (same) authorize.setAuthorizedID(authorize.getAuthorizationID());
        }
    }

    private static String principal(Subject subject) {
        Set<KerberosPrincipal> principals = subject == null ? Set.of()
                : subject.getPrincipals(KerberosPrincipal.class);
        return principals.isEmpty() ? null : principals.iterator().next().getName();
    }

    @Override
    public String toString() {
        return "GssapiLogin[serviceUser=" + serviceUser + ", canonicalizeHostname=" + canonicalizeHostname
                + ", serverRealm=" + serverRealm + "]";
    }

    /** The JDK's client with each step run inside the login it was created as (Apache's createSaslToken). */
    private record AsLogin(SaslClient client, Subject subject, String service) implements SaslClient {
        @Override
        public String getMechanismName() {
            return client.getMechanismName();
        }

        @Override
        public boolean hasInitialResponse() {
            return client.hasInitialResponse();
        }

        @Override
        @SuppressWarnings("removal")
        public byte[] evaluateChallenge(byte[] challenge) throws SaslException {
            try {
                return Subject.doAs(subject, (PrivilegedExceptionAction<byte[]>) () ->
                        client.evaluateChallenge(challenge));
            } catch (PrivilegedActionException e) {
                // The JDK's message names the Kerberos error (an unknown service principal, a clock skew, ...).
                throw new SaslException("GSSAPI with " + service + " failed: " + e.getCause().getMessage(),
                        e.getCause());
            }
        }

        @Override
        public boolean isComplete() {
            return client.isComplete();
        }

        @Override
        public byte[] unwrap(byte[] incoming, int offset, int len) throws SaslException {
            return client.unwrap(incoming, offset, len);
        }

        @Override
        public byte[] wrap(byte[] outgoing, int offset, int len) throws SaslException {
            return client.wrap(outgoing, offset, len);
        }

        @Override
        public Object getNegotiatedProperty(String propName) {
            return client.getNegotiatedProperty(propName);
        }

        @Override
        public void dispose() throws SaslException {
            client.dispose();
        }
    }
}
