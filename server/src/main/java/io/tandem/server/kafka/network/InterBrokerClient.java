package io.tandem.server.kafka.network;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.internal.ThreadExecutorMap;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The broker's one client for requests to other brokers, as Kafka's NetworkClient: one {@link InterBrokerConnection}
 * per broker on a Netty event loop of its own, several requests in flight per connection (up to
 * {@link Settings#maxInFlight}), answers matched by correlation id, request.timeout.ms per request counted from when
 * it goes on the wire (a connection's set-up has its own bound, socket.connection.setup.timeout.ms growing to its max),
 * reconnect.backoff.ms / reconnect.backoff.max.ms between attempts, and the inter-broker listener's security (TLS,
 * SASL) on every connection. Every inter-broker sender uses it, in one of Kafka's two ways:
 * <ul>
 *   <li>{@link #send} returns at once and no thread waits for the answer, as Kafka's InterBrokerSendThread senders
 *       (transaction markers, AddPartitionsToTxn, share state);</li>
 *   <li>{@link #sendAndReceive} waits for the one answer on the caller's own thread, as Kafka's BlockingSend /
 *       NetworkClientUtils.sendAndReceive: only for a thread that does nothing else (the controller's send thread per
 *       broker, a follower's fetcher, the AlterPartition sender), never an event loop or a request handler.</li>
 * </ul>
 *
 * <p>Futures complete on the client's work thread, never on an event loop, since what a sender does with an answer
 * may touch the disk (a marker's completion writes the transaction log) or send again. Its queue holds at most one
 * completion per request, and requests are bounded per connection ({@link Settings#queuedRequestsMax} waiting plus
 * {@link Settings#maxInFlight}), connections by the cluster's size. What may block while a connection is set up (the
 * broker's name resolved, the SASL client's steps, which for GSSAPI ask a KDC for a ticket) runs on handshake threads
 * ({@link #HANDSHAKE_THREADS_MAX}, started when needed and gone when idle), so one slow KDC or DNS answer holds up
 * neither the answers of other connections nor, up to that many at once, their set-up.
 */
public final class InterBrokerClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InterBrokerClient.class.getName());
    /** Largest answer accepted from a broker (a replica fetch answer is bounded by its request's max bytes). */
    public static final int RESPONSE_BYTES_MAX = 100 * 1024 * 1024;
    /**
     * A retried authentication failure is logged once per distinct reason, then at most this often: a retrying
     * sender repeats it every backoff, and it does not heal by retrying.
     */
    static final long AUTH_FAILURE_LOG_INTERVAL_MS = 30_000;
    /** Connections set up at once without waiting for one another's DNS or KDC answers; more queue. */
    static final int HANDSHAKE_THREADS_MAX = 8;
    /** An idle handshake thread ends after this long. */
    static final long HANDSHAKE_THREAD_IDLE_MS = 10_000;

    /**
     * @param maxInFlight              requests on the wire per connection at once (Kafka's inter-broker clients: 1)
     * @param requestTimeoutMs         request.timeout.ms: from the write to the answer (and, for a request not yet
     *                                 written, from its hand-over)
     * @param reconnectBackoffMs       reconnect.backoff.ms: the wait after a first failed connection
     * @param reconnectBackoffMaxMs    reconnect.backoff.max.ms: the doubling wait's cap
     * @param connectionSetupTimeoutMs socket.connection.setup.timeout.ms: connect, TLS, ApiVersions and SASL together,
     *                                 the first attempt's bound (doubling per attempt that failed while setting up)
     * @param connectionSetupTimeoutMaxMs socket.connection.setup.timeout.max.ms: the doubling bound's cap
     * @param queuedRequestsMax        requests waiting per connection beyond those in flight; more fail at once
     * @param timeoutCheckMs           how often deadlines are checked while a connection carries requests
     */
    public record Settings(String clientId, int maxInFlight, int requestTimeoutMs, long reconnectBackoffMs,
                           long reconnectBackoffMaxMs, int connectionSetupTimeoutMs, long connectionSetupTimeoutMaxMs,
                           int queuedRequestsMax, long timeoutCheckMs) {
        /** Kafka's inter-broker channels (TransactionMarkerChannelManager, the share persister's NetworkUtils). */
        public static final int KAFKA_MAX_IN_FLIGHT = 1;
        public static final long KAFKA_RECONNECT_BACKOFF_MS = 50;
        public static final long KAFKA_RECONNECT_BACKOFF_MAX_MS = 50;
        /** Kafka's socket.connection.setup.timeout.ms default. */
        public static final int KAFKA_CONNECTION_SETUP_TIMEOUT_MS = 10_000;
        /** Kafka's socket.connection.setup.timeout.max.ms default. */
        public static final long KAFKA_CONNECTION_SETUP_TIMEOUT_MAX_MS = 30_000;
        /**
         * Kafka's request.timeout.ms default, also that of the keys Kafka 3.9's broker gives its own clients:
         * controller.socket.timeout.ms (the controller's channels to brokers, a broker's channel to the controller)
         * and replica.socket.timeout.ms (a follower's fetcher).
         */
        public static final int KAFKA_REQUEST_TIMEOUT_MS = 30_000;
        static final int QUEUED_REQUESTS_MAX = 10_000;
        static final long TIMEOUT_CHECK_MS = 50;

        public Settings {
            if (maxInFlight < 1 || requestTimeoutMs < 1 || reconnectBackoffMs < 0 || connectionSetupTimeoutMs < 1
                    || connectionSetupTimeoutMaxMs < 1 || queuedRequestsMax < 1 || timeoutCheckMs < 1) {
                throw new IllegalArgumentException("inter-broker client settings out of range: " + clientId);
            }
        }

        /** These settings with at most {@code max} requests waiting per connection. */
        public Settings withQueuedRequestsMax(int max) {
            return new Settings(clientId, maxInFlight, requestTimeoutMs, reconnectBackoffMs, reconnectBackoffMaxMs,
                    connectionSetupTimeoutMs, connectionSetupTimeoutMaxMs, max, timeoutCheckMs);
        }

        /** These settings with socket.connection.setup.timeout.ms {@code ms} and its max {@code maxMs}. */
        public Settings withConnectionSetupTimeout(int ms, long maxMs) {
            return new Settings(clientId, maxInFlight, requestTimeoutMs, reconnectBackoffMs, reconnectBackoffMaxMs,
                    ms, maxMs, queuedRequestsMax, timeoutCheckMs);
        }

        /**
         * Kafka's settings for a channel one dedicated thread waits on, one answer at a time: the controller's channel
         * to a broker (ControllerChannelManager) and a follower's fetcher (ReplicaFetcherBlockingSend) both build
         * their NetworkClient with max in flight 1 and reconnect backoffs of 0, since their thread paces the retries.
         */
        public static Settings kafkaBlocking(String clientId, int requestTimeoutMs) {
            return new Settings(clientId, 1, requestTimeoutMs, 0, 0, KAFKA_CONNECTION_SETUP_TIMEOUT_MS,
                    KAFKA_CONNECTION_SETUP_TIMEOUT_MAX_MS, QUEUED_REQUESTS_MAX, TIMEOUT_CHECK_MS);
        }

        /** Kafka's settings for an inter-broker channel, with {@code maxInFlight} requests per connection. */
        public static Settings kafka(String clientId, int maxInFlight, int requestTimeoutMs) {
            return new Settings(clientId, maxInFlight, requestTimeoutMs, KAFKA_RECONNECT_BACKOFF_MS,
                    KAFKA_RECONNECT_BACKOFF_MAX_MS, KAFKA_CONNECTION_SETUP_TIMEOUT_MS,
                    KAFKA_CONNECTION_SETUP_TIMEOUT_MAX_MS, QUEUED_REQUESTS_MAX, TIMEOUT_CHECK_MS);
        }
    }

    /**
     * A failed TLS handshake or SASL exchange: it does not heal by retrying, so it is logged as a warning. It carries
     * the Kafka error Kafka's broker-side senders pass on for it (AddPartitionsToTxnManager's
     * {@code Errors.forException} of the client's AuthenticationException): the SASL exchange's own error, and for a
     * failed TLS handshake, an SslAuthenticationException, INVALID_CONFIG (Kafka 4.x's AuthenticationException is an
     * InvalidConfigurationException; Kafka's protocol has no TLS error code).
     */
    public static final class AuthenticationFailure extends IOException {
        private final short error;

        AuthenticationFailure(String message, Throwable cause, short error) {
            super(message, cause);
            this.error = error;
        }

        /** The Kafka error code a request failed by this gets passed on as. */
        public short error() {
            return error;
        }
    }

    private final Settings settings;
    private final InterBrokerSecurity security;
    private final EventLoopGroup group;
    private final ThreadPoolExecutor work;
    private final ThreadPoolExecutor handshakes;
    private final Map<Integer, InterBrokerConnection> connections = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private String lastAuthFailure;
    private long lastAuthFailureLoggedMs;

    public InterBrokerClient(Settings settings, InterBrokerSecurity security) {
        this.settings = settings;
        this.security = security;
        // One event loop: the connections only frame bytes and match answers, the work thread does the rest.
        this.group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory(settings.clientId() + "-network", true), NioIoHandler.newFactory());
        // Bounded by the requests (see the class comment), so the queue needs no bound of its own.
        this.work = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(settings.clientId() + "-work", true));
        // A step goes to an idle handshake thread, else to a new one (up to the max), else waits for one. The queue
        // is bounded by the connections, each with at most one step under way.
        HandOffQueue steps = new HandOffQueue();
        this.handshakes = new ThreadPoolExecutor(0, HANDSHAKE_THREADS_MAX, HANDSHAKE_THREAD_IDLE_MS,
                TimeUnit.MILLISECONDS, steps, new DefaultThreadFactory(settings.clientId() + "-handshake", true),
                (step, pool) -> {
                    if (pool.isShutdown()) throw new RejectedExecutionException("closed");
                    steps.enqueue(step);
                });
    }

    /**
     * A thread pool's queue that takes a task only when an idle thread takes it at once: otherwise the pool starts a
     * thread, and only at its max does the task wait ({@link #enqueue}, from the pool's rejection handler). A plain
     * queue would make the pool start a thread per task up to its core size, idle ones there or not.
     */
    private static final class HandOffQueue extends java.util.concurrent.LinkedTransferQueue<Runnable> {
        @Override
        public boolean offer(Runnable task) {
            return tryTransfer(task);
        }

        void enqueue(Runnable task) {
            super.offer(task);
        }
    }

    Settings settings() {
        return settings;
    }

    InterBrokerSecurity security() {
        return security;
    }

    /** Where a connection's set-up steps that may block run (name resolution, SASL client steps). */
    Executor handshakeWork() {
        return handshakes;
    }

    /**
     * Sends to {@code peer}'s endpoint on the inter-broker listener (followed if it registers elsewhere) at exactly
     * {@code version}: a range of one, checked against the broker's ApiVersions as every request is (see
     * {@link #send(BrokerRegistration, ApiKey, short, short, ApiMessage)}).
     */
    public CompletableFuture<ApiMessage> send(BrokerRegistration peer, ApiKey key, short version, ApiMessage request) {
        return send(peer, key, version, version, request);
    }

    /**
     * Sends to {@code peer} at the highest version in [{@code minVersion}, {@code maxVersion}] it advertised in
     * ApiVersions on the connection, as Kafka's NetworkClient picks a request builder's version; when it serves none
     * of them the future fails with {@link UnsupportedVersion} and nothing is sent (Kafka's versionMismatch). Every
     * request to another broker takes this path, so none is ever written at a version its broker does not serve.
     */
    public CompletableFuture<ApiMessage> send(BrokerRegistration peer, ApiKey key, short minVersion, short maxVersion,
                                              ApiMessage request) {
        ListenerEndpoint endpoint = security.endpoint(peer);
        if (endpoint == null) {
            String reason = "broker " + peer.brokerId() + " has no endpoint on the inter-broker listener "
                    + security.listenerName();
            logAuthenticationFailure(reason);
            return CompletableFuture.failedFuture(new IOException(reason));
        }
        return send(peer.brokerId(), InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port()), key,
                minVersion, maxVersion, request);
    }

    /**
     * A request the broker serves at no version in the sender's range: it was not sent. Kafka's senders get it as
     * the ClientResponse's versionMismatch (an UnsupportedVersionException, UNSUPPORTED_VERSION on the wire).
     */
    public static final class UnsupportedVersion extends IOException {
        public UnsupportedVersion(String message) {
            super(message);
        }
    }

    /** Sends to broker {@code brokerId} at {@code address} at exactly {@code version} (a range of one). */
    public CompletableFuture<ApiMessage> send(int brokerId, InetSocketAddress address, ApiKey key, short version,
                                              ApiMessage request) {
        return send(brokerId, address, key, version, version, request);
    }

    /**
     * Sends to broker {@code brokerId} at {@code address}, at the highest version in range the broker serves; the
     * future fails with an IOException if it cannot ({@link UnsupportedVersion} when no version in range is served).
     */
    public CompletableFuture<ApiMessage> send(int brokerId, InetSocketAddress address, ApiKey key, short minVersion,
                                              short maxVersion, ApiMessage request) {
        if (minVersion > maxVersion) throw new IllegalArgumentException(key.apiName() + " v" + minVersion + "-"
                + maxVersion + " is no range");
        if (closed) return CompletableFuture.failedFuture(closedFailure());
        InterBrokerConnection connection = connections.computeIfAbsent(brokerId,
                id -> new InterBrokerConnection(this, id, address, group.next()));
        try {
            return connection.send(address, key, minVersion, maxVersion, request);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(closedFailure());
        }
    }

    /**
     * Sends and waits for the answer on the caller's thread, as Kafka's NetworkClientUtils.sendAndReceive: for a
     * thread that exists to talk to that broker one request at a time. The wait ends with the answer, or the
     * request's failure (refused or lost connection, no answer within request.timeout.ms, the client closed), or the
     * caller's interruption (the request may still be answered; nobody reads it).
     *
     * @throws IOException          the request failed ({@link AuthenticationFailure} when the broker refused this one)
     * @throws InterruptedException the caller was interrupted (its owner is stopping it)
     */
    public ApiMessage sendAndReceive(BrokerRegistration peer, ApiKey key, short version, ApiMessage request)
            throws IOException, InterruptedException {
        return sendAndReceive(peer, key, version, version, request);
    }

    /** {@link #sendAndReceive} at the highest version in range the broker serves (else {@link UnsupportedVersion}). */
    public ApiMessage sendAndReceive(BrokerRegistration peer, ApiKey key, short minVersion, short maxVersion,
                                     ApiMessage request) throws IOException, InterruptedException {
        checkMayWait();
        return await(send(peer, key, minVersion, maxVersion, request));
    }

    /** {@link #sendAndReceive} to broker {@code brokerId} at {@code address}. */
    public ApiMessage sendAndReceive(int brokerId, InetSocketAddress address, ApiKey key, short version,
                                     ApiMessage request) throws IOException, InterruptedException {
        checkMayWait();
        return await(send(brokerId, address, key, version, version, request));
    }

    private static ApiMessage await(CompletableFuture<ApiMessage> answer) throws IOException, InterruptedException {
        try {
            return answer.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw io;
            throw new IOException(String.valueOf(cause), cause);
        }
    }

    /**
     * Waiting on any Netty event loop stalls every connection it serves (on this client's own loop, the answer could
     * never come); on this client's work or handshake thread it waits for itself. Always on, as a check.
     */
    private void checkMayWait() {
        Thread current = Thread.currentThread();
        String name = current.getName();
        String own = settings.clientId() + "-";
        if (ThreadExecutorMap.currentExecutor() != null || name.startsWith(own + "network-")
                || name.startsWith(own + "work-") || name.startsWith(own + "handshake-")) {
            throw new IllegalStateException(name + " may not wait for an answer from another broker");
        }
    }

    /**
     * Drops the connection to {@code brokerId} (the broker left the cluster): what it carried fails, and a later
     * request opens a new one.
     */
    public void disconnect(int brokerId) {
        InterBrokerConnection connection = connections.remove(brokerId);
        if (connection == null) return;
        try {
            connection.close();
        } catch (RejectedExecutionException e) {
            // The event loop already stopped: the client is closed and failed everything.
        }
    }

    /** Completes a caller's future on the work thread (an answer). */
    void complete(CompletableFuture<ApiMessage> answer, ApiMessage response) {
        try {
            work.execute(() -> answer.complete(response));
        } catch (RejectedExecutionException e) {
            answer.completeExceptionally(closedFailure());
        }
    }

    /** Fails a caller's future on the work thread. */
    void fail(CompletableFuture<ApiMessage> answer, IOException why) {
        try {
            work.execute(() -> answer.completeExceptionally(why));
        } catch (RejectedExecutionException e) {
            answer.completeExceptionally(why);
        }
    }

    synchronized void logAuthenticationFailure(String reason) {
        long now = System.currentTimeMillis();
        if (reason.equals(lastAuthFailure) && now - lastAuthFailureLoggedMs < AUTH_FAILURE_LOG_INTERVAL_MS) return;
        lastAuthFailure = reason;
        lastAuthFailureLoggedMs = now;
        String who = security.saslUser() == null ? "" : ", as " + security.saslUser();
        LOG.log(System.Logger.Level.WARNING, "{0}: {1} (listener {2}, {3}{4})", settings.clientId(), reason,
                security.listenerName(), security.protocol(), who);
    }

    private IOException closedFailure() {
        return new IOException("the inter-broker client " + settings.clientId() + " is closed");
    }

    /** Fails every request under way or waiting, closes the connections and stops the threads. */
    @Override
    public void close() {
        closed = true;
        List<InterBrokerConnection> all = new ArrayList<>(connections.values());
        connections.clear();
        for (InterBrokerConnection c : all) {
            try {
                c.close();
            } catch (RejectedExecutionException e) {
                // The event loop already stopped.
            }
        }
        // The loop first runs the closes just handed to it (they fail what the connections carried).
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        group.terminationFuture().addListener(f -> {
            work.shutdown();
            handshakes.shutdown();
        });
    }

    /** Waits until every thread of a closed client has ended; false if some still run after {@code timeout}. */
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        if (!group.awaitTermination(timeout, unit)) return false;
        long left = deadline - System.nanoTime();
        return work.awaitTermination(left, TimeUnit.NANOSECONDS)
                && handshakes.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
