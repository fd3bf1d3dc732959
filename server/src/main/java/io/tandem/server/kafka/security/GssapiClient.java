package io.tandem.server.kafka.security;

import io.tandem.server.kerberos.GssapiServers;
import io.tandem.server.kerberos.KerberosLogin;

import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.AuthorizeCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

/**
 * This broker's side of one GSSAPI (Kerberos) exchange with another broker, as Kafka 3.9's SaslClientAuthenticator
 * runs it: the JDK's GSSAPI SaslClient, created as the broker's Kerberos login ({@code Subject.doAs}) with the login's
 * principal as the authorization id, for the service {@code sasl.kerberos.service.name} on the host dialled (so the
 * ticket asked for is {@code service/host@REALM}), each step evaluated inside the login.
 *
 * <p>The first step asks the KDC for the service ticket, a network round trip of unbounded length (and a re-login,
 * when the ticket-granting ticket is due, is another). So the client is created and every step runs on
 * {@link #TOKENS}, a small bounded pool, and the calling thread (one of the inter-broker client's handshake threads,
 * there for such waits) waits for it at most {@link #STEP_MS_MAX}: no step ever runs on a Netty event loop, and a
 * stuck KDC fails the exchange (the channel retries later) instead of holding the thread for ever.
 */
final class GssapiClient implements SaslClient {
    /**
     * Threads computing GSSAPI tokens for every broker of the JVM: exchanges happen only when inter-broker connections
     * are (re)made, a handful at a time, so two keep one slow KDC answer from holding up the others.
     */
    private static final int TOKEN_THREADS = 2;
    /**
     * Steps waiting for a thread; each inter-broker channel has at most one pending, and a broker has a few channels
     * per peer, so a full queue means a stuck KDC: the exchange fails and the channel dials again later.
     */
    private static final int TOKEN_QUEUE_MAX = 64;
    /** Longest one step (a KDC round trip, or a re-login and one) may take before the exchange is abandoned. */
    static final long STEP_MS_MAX = 30_000;
    private static final AtomicInteger THREAD_NUMBER = new AtomicInteger();
    private static final ThreadPoolExecutor TOKENS = tokenPool();

    private final GssapiClientLogin login;
    private final String host;
    /** Touched only on {@link #TOKENS}, one step at a time; volatile so isComplete() on the caller sees it. */
    private volatile SaslClient client;
    private Subject subject;

    GssapiClient(GssapiClientLogin login, String host) {
        this.login = login;
        this.host = host;
    }

    private static ThreadPoolExecutor tokenPool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(TOKEN_THREADS, TOKEN_THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(TOKEN_QUEUE_MAX), task -> {
                    Thread thread = new Thread(task, "kafka-gssapi-client-" + THREAD_NUMBER.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        // Idle between reconnections: no thread stays for nothing.
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    @Override
    public String getMechanismName() {
        return GssapiServers.MECHANISM;
    }

    /** The JDK's GSSAPI client opens with its AP-REQ, as Kafka's first SaslAuthenticate carries it. */
    @Override
    public boolean hasInitialResponse() {
        return true;
    }

    @Override
    public byte[] evaluateChallenge(byte[] challenge) throws SaslException {
        return onTokenThread(() -> {
            if (client == null) {
                subject = login.subject();
                client = create(subject);
            }
            return doAs(subject, () -> client.evaluateChallenge(challenge));
        });
    }

    @SuppressWarnings("removal") // Subject.doAs is how the JDK 17 GSS initiator finds the login's ticket
    private SaslClient create(Subject as) throws SaslException {
        String principal = KerberosLogin.principal(as);
        SaslClient created = doAs(as, () -> Sasl.createSaslClient(new String[] {GssapiServers.MECHANISM}, principal,
                login.serviceName(), host, Map.of(), callbacks -> {
                    // Kafka's SaslClientCallbackHandler: the authorization id is the authenticated one.
                    for (Callback callback : callbacks) {
                        if (callback instanceof AuthorizeCallback authorize) {
                            boolean same = authorize.getAuthenticationID().equals(authorize.getAuthorizationID());
                            authorize.setAuthorized(same);
                            if (same) authorize.setAuthorizedID(authorize.getAuthorizationID());
                        } else {
                            throw new UnsupportedCallbackException(callback);
                        }
                    }
                }));
        if (created == null) throw new SaslException("the JDK offers no " + GssapiServers.MECHANISM + " SaslClient");
        return created;
    }

    @SuppressWarnings("removal")
    private static <T> T doAs(Subject as, PrivilegedExceptionAction<T> action) throws SaslException {
        try {
            return Subject.doAs(as, action);
        } catch (PrivilegedActionException e) {
            throw e.getCause() instanceof SaslException sasl ? sasl
                    : new SaslException("GSSAPI step failed: " + e.getCause(), e.getCause());
        }
    }

    private byte[] onTokenThread(Callable<byte[]> step) throws SaslException {
        Future<byte[]> future;
        try {
            future = TOKENS.submit(step);
        } catch (RejectedExecutionException e) {
            throw new SaslException(TOKEN_QUEUE_MAX + " GSSAPI steps are already waiting for the KDC");
        }
        try {
            return future.get(STEP_MS_MAX, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new SaslException("a GSSAPI step (the KDC's answer) took more than " + STEP_MS_MAX + " ms");
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new SaslException("interrupted while waiting for a GSSAPI step");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof SaslException sasl ? sasl
                    : new SaslException("GSSAPI step failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public boolean isComplete() {
        SaslClient current = client;
        return current != null && current.isComplete();
    }

    @Override
    public byte[] unwrap(byte[] incoming, int offset, int len) throws SaslException {
        return started().unwrap(incoming, offset, len);
    }

    @Override
    public byte[] wrap(byte[] outgoing, int offset, int len) throws SaslException {
        return started().wrap(outgoing, offset, len);
    }

    @Override
    public Object getNegotiatedProperty(String propName) {
        SaslClient current = client;
        if (current == null) throw new IllegalStateException("the GSSAPI exchange has not started");
        return current.getNegotiatedProperty(propName);
    }

    private SaslClient started() throws SaslException {
        SaslClient current = client;
        if (current == null) throw new SaslException("the GSSAPI exchange has not started");
        return current;
    }

    @Override
    public void dispose() throws SaslException {
        SaslClient current = client;
        if (current != null) current.dispose();
    }
}
