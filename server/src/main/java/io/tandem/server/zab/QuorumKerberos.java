package io.tandem.server.zab;

import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosLogin;
import io.tandem.server.kerberos.KerberosName;
import io.tandem.server.kerberos.RenewalPolicy;
import io.tandem.server.kerberos.RenewingLogin;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

/**
 * Kerberos (SASL GSSAPI) between quorum members, as Apache ZooKeeper 3.9 does it when a {@code QuorumServer} or
 * {@code QuorumLearner} JAAS section uses Krb5LoginModule (SaslQuorumAuthLearner, SaslQuorumAuthServer,
 * SaslQuorumServerCallbackHandler, SecurityUtils):
 * <ul>
 * <li>The learner (the member that dials) asks for a ticket to {@code quorum.auth.kerberos.servicePrincipal}
 * (default {@code zkquorum/localhost}), its {@code _HOST} replaced by the dialled member's host as its server line
 * spells it, lower-cased.</li>
 * <li>The server (the member that accepts) accepts tickets with the keys of its own login's principal.</li>
 * <li>A learner is authorized when its authenticated and authorization ids are equal and, for a
 * {@code service/host@REALM} principal, {@code host} is the host of one of the ensemble's server lines (a
 * {@code user@REALM} principal has no host to check and is authorized, as in Apache).</li>
 * </ul>
 *
 * <p>The logins are made at start-up (a missing keytab stops the member there) and renewed as Apache's Login renews
 * them ({@link RenewingLogin}), so a learner dialling after its first ticket expired still authenticates. A learner's
 * first token asks
 * the KDC for a service ticket (a network round trip inside {@code initSecContext}), and an acceptor may write the
 * JDK's replay cache, so every GSSAPI step runs on {@link #tokens}, a small bounded pool, never on a Netty event loop.
 */
final class QuorumKerberos {
    private static final Logger LOG = System.getLogger(QuorumTransport.class.getName());
    static final String SERVICE_PRINCIPAL = "quorum.auth.kerberos.servicePrincipal";
    /** Apache's QuorumAuth.QUORUM_KERBEROS_SERVICE_PRINCIPAL_DEFAULT_VALUE. */
    static final String SERVICE_PRINCIPAL_DEFAULT = "zkquorum/localhost";
    /** The service principal's host part that Apache replaces with the dialled member's host. */
    private static final String HOST_PLACEHOLDER = "_HOST";
    /**
     * Threads computing GSSAPI tokens for every member of the JVM: exchanges happen only when quorum connections are
     * (re)made, a handful at a time, so two threads keep a slow KDC from holding up the other exchanges.
     */
    private static final int TOKEN_THREADS = 2;
    /**
     * Token computations waiting for a thread; each quorum connection has at most one pending, and connections before
     * authentication are bounded by the members that dial, so a full queue means a stuck KDC: the exchange fails and
     * the connection is redialled later.
     */
    private static final int TOKEN_QUEUE_MAX = 64;
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();
    private static final ThreadPoolExecutor TOKENS = tokenPool();

    private final Subject serverLogin;
    private final Subject learnerLogin;
    private final String servicePrincipal;

    QuorumKerberos(Subject serverLogin, Subject learnerLogin, String servicePrincipal) {
        this.serverLogin = serverLogin;
        this.learnerLogin = learnerLogin;
        this.servicePrincipal = servicePrincipal;
    }

    private static ThreadPoolExecutor tokenPool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(TOKEN_THREADS, TOKEN_THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(TOKEN_QUEUE_MAX), task -> {
                    Thread thread = new Thread(task, "quorum-gssapi-" + THREAD_NUMBER.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        // Idle between reconnections: no thread stays for nothing.
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Where GSSAPI steps run; a rejected task (a full queue) is the caller's failed exchange. */
    static Executor tokens() {
        return TOKENS;
    }

    /**
     * Checks a {@code quorum.auth.kerberos.servicePrincipal} value: {@code service/host}, with or without a realm
     * (Apache adds the learner's own realm to a principal without one).
     */
    static String checkServicePrincipal(String value) {
        String principal = value == null || value.isBlank() ? SERVICE_PRINCIPAL_DEFAULT : value.trim();
        KerberosName name = KerberosName.parse(principal.contains("@") ? principal : principal + "@REALM");
        if (name.hostName() == null || name.serviceName().isEmpty() || name.hostName().isEmpty()) {
            throw new IllegalArgumentException(SERVICE_PRINCIPAL + " must be service/host (or service/_HOST), "
                    + "optionally @REALM: " + principal);
        }
        return principal;
    }

    /** Logs a JAAS section's Krb5LoginModule in now (start-up), renewed from then on as Apache's Login. */
    static Subject login(String section, java.util.Map<String, ?> options) {
        return RenewingLogin.start("the JAAS section " + section, options, RenewalPolicy.ZOOKEEPER);
    }

    boolean kerberosServer() {
        return serverLogin != null;
    }

    boolean kerberosLearner() {
        return learnerLogin != null;
    }

    /**
     * The principal a learner asks a ticket for when it dials {@code host}: Apache's getServerPrincipal ({@code _HOST}
     * replaced by the host, lower-cased), in the learner's own realm when it names none (Apache's createSaslClient,
     * without the {@code zookeeper.server.realm} property, which is a client-side setting Tandem does not read).
     */
    String servicePrincipalFor(String host) {
        String realm = KerberosName.parse(KerberosLogin.principal(learnerLogin)).realm();
        KerberosName name = KerberosName.parse(servicePrincipal.contains("@") ? servicePrincipal
                : servicePrincipal + "@" + realm);
        String hostName = name.hostName().equals(HOST_PLACEHOLDER) ? host.toLowerCase(Locale.ROOT) : name.hostName();
        return new KerberosName(name.serviceName(), hostName, name.realm()).toString();
    }

    /** The learner's side of one exchange with the member at {@code host}; call on {@link #tokens()}. */
    @SuppressWarnings("removal") // Subject.doAs is how the JDK 17 GSS initiator finds the subject's ticket
    SaslClient newLearner(String host) throws SaslException {
        KerberosName service = KerberosName.parse(servicePrincipalFor(host));
        String client = KerberosLogin.principal(learnerLogin);
        try {
            SaslClient learner = Subject.doAs(learnerLogin, (PrivilegedExceptionAction<SaslClient>) () ->
                    Sasl.createSaslClient(new String[] {GssapiServers.MECHANISM}, client, service.serviceName(),
                            service.hostName(), null, callbacks -> {
                                for (Callback callback : callbacks) {
                                    if (!(callback instanceof AuthorizeCallback)) {
                                        throw new UnsupportedCallbackException(callback);
                                    }
                                }
                            }));
            if (learner == null) throw new SaslException("the JDK offers no " + GssapiServers.MECHANISM + " SaslClient");
            return learner;
        } catch (PrivilegedActionException e) {
            throw new SaslException("cannot create a GSSAPI client for " + service, e.getCause());
        }
    }

    /** One learner step inside its login (the first asks the KDC for the service ticket); call on {@link #tokens()}. */
    @SuppressWarnings("removal")
    byte[] evaluate(SaslClient learner, byte[] challenge) throws SaslException {
        try {
            return Subject.doAs(learnerLogin, (PrivilegedExceptionAction<byte[]>) () ->
                    learner.evaluateChallenge(challenge));
        } catch (PrivilegedActionException e) {
            throw e.getCause() instanceof SaslException sasl ? sasl
                    : new SaslException("GSSAPI step failed", e.getCause());
        }
    }

    /**
     * The server's side of one exchange, authorizing as Apache's SaslQuorumServerCallbackHandler: equal ids and, for a
     * principal with a host, a host of {@code memberHosts}.
     */
    SaslServer newServer(Set<String> memberHosts) throws SaslException {
        return GssapiServers.create(serverLogin, null, callbacks -> {
            for (Callback callback : callbacks) {
                if (callback instanceof AuthorizeCallback authorize) {
                    String authorizationId = authorize.getAuthorizationID();
                    boolean authorized = authorize.getAuthenticationID().equals(authorizationId);
                    String[] components = authorizationId.split("[/@]");
                    if (authorized && components.length == 3) authorized = memberHosts.contains(components[1]);
                    if (!authorized) {
                        LOG.log(Level.WARNING, "quorum SASL: {0} is not authorized to connect (its host is no "
                                + "member''s)", authorizationId);
                    }
                    authorize.setAuthorized(authorized);
                    if (authorized) authorize.setAuthorizedID(authorizationId);
                } else {
                    throw new UnsupportedCallbackException(callback);
                }
            }
        });
    }
}
