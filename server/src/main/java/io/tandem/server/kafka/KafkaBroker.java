package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.group.share.state.ShareStateTopic;
import io.tandem.server.kafka.handlers.Handlers;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.security.ListenerTls;
import io.tandem.server.kafka.security.ListenerSecurity;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.security.PasswordEncoder;
import io.tandem.server.kafka.security.Authorization;
import io.tandem.server.kafka.security.ScramCredentialStore;
import io.tandem.server.kafka.security.DelegationTokens;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.purgatory.DelayedResponse;
import io.tandem.server.kafka.replica.ControllerLink;
import io.tandem.server.kafka.replica.ReplicaManager;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.ConnectionLimitSettings;
import io.tandem.server.kafka.network.ConnectionLimits;
import io.tandem.server.kafka.network.ListenerLimits;
import io.tandem.server.kafka.network.RequestDispatcher;
import io.tandem.server.kafka.producer.ProducerIdManager;
import io.tandem.server.kafka.purgatory.DelayedOperationPurgatory;
import io.tandem.server.kafka.txn.TransactionService;
import io.tandem.storage.log.PageCacheWarmer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * One Kafka broker: the listener, the request handlers, the partitions on disk, the group coordinators
 * ({@link BrokerGroups}) and the metadata in Kafka's ZooKeeper layout. This class is the broker's request-facing
 * view (what handlers and coordinators read), the local partitions and the order of start and stop; the services on
 * the metadata store and their wiring are {@link BrokerServices}, the listeners {@link BrokerListeners}, the parked
 * operations and replication waits {@link BrokerPurgatories}, security {@link BrokerSecurity}, topics
 * {@link BrokerTopics}. {@link #start} returns once the broker is registered and serving.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());
    /** Long polls and acks=all produces parked at once; beyond this they are answered at once. */
    static final int PARKED_OPERATIONS_MAX = 100_000;
    /** Kafka's replica.lag.time.max.ms: an ISR member not caught up for this long leaves the ISR. */
    static final long REPLICA_LAG_TIME_MAX_MS = 30_000;

    private final BrokerConfig config;
    private final TopicConfigs topicConfigs;
    private final ListenerLimits listenerLimits;
    private final RequestDispatcher requestExecutor;
    private final ScheduledExecutorService scheduler;
    /** The group timer's thread; null until the services start. */
    private BrokerMaintenance maintenance;
    private final LogManager logs;
    /** Long polls, acks=all produces and internal replication waits, parked until they can be answered. */
    private final BrokerPurgatories purgatories;
    /** The metadata store and every service on it: controller, replicas, groups, transactions, dynamic configs. */
    private final BrokerServices services;
    private final BrokerConfigDescriber describer;
    private final TandemConfig brokerSettings;
    /** max.connections and max.connections.per.ip, counted over all listeners together as Kafka counts them. */
    private final ConnectionLimits connectionLimits;
    /** One server per listener, bound before or after the metadata store connects (see startServices). */
    private final BrokerListeners listeners;
    /** Listeners' and the inter-broker client's security, credentials, tokens, password encoders, the authorizer. */
    private final BrokerSecurity security;
    /** Client quotas (produce, fetch, request), read from the metadata store once it connects. */
    private final ClientQuotas clientQuotas;
    private ApiRegistry registry;
    private final BrokerTopics topics = new BrokerTopics(this);
    private final OffsetsPartitions offsetsPartitions = new OffsetsPartitions(this);
    /** Consumers' and followers' incremental fetch sessions: one cache, as Kafka's FetchManager has. */
    private final io.tandem.server.kafka.handlers.FetchSessions fetchSessions;
    /** Faults cold fetched ranges into the page cache on handler threads, before the event loop sends them. */
    private final PageCacheWarmer pageCache = new PageCacheWarmer();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    /** The reason this broker stopped itself ({@link #fail}); incomplete while it serves or after a plain close. */
    private final java.util.concurrent.CompletableFuture<String> failure = new java.util.concurrent.CompletableFuture<>();

    private KafkaBroker(BrokerConfig config, TandemConfig tandemConfig) throws IOException {
        this.config = config;
        this.listeners = new BrokerListeners(config);
        this.fetchSessions = new io.tandem.server.kafka.handlers.FetchSessions(config.fetchSessionCacheSlots());
        // Checked first, so a bad limit refuses to start before anything is opened or registered.
        this.listenerLimits = new ListenerLimits(config.socketRequestMaxBytes(), config.networkThreads(),
                config.maxConnections(), config.maxConnectionsPerIp(), config.connectionsMaxIdleMs(),
                config.queuedMaxRequestBytes(), config.failedAuthenticationDelayMs());
        try {
            this.connectionLimits = new ConnectionLimits(ConnectionLimitSettings.from(tandemConfig.settings()));
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        // The store is known once the metadata store connects; SCRAM exchanges only run after that.
        this.security = BrokerSecurity.build(config, tandemConfig, this::metadataStore);
        try {
            this.topicConfigs = new TopicConfigs(tandemConfig);
            // No caller-runs: a request waiting for a handler thread keeps its connection unread instead.
            this.requestExecutor = new RequestDispatcher(config.ioThreads(), config.queuedMaxRequests());
            this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "kafka-scheduler");
                t.setDaemon(true);
                return t;
            });
            this.purgatories = new BrokerPurgatories(PARKED_OPERATIONS_MAX);
            try {
                this.clientQuotas = ClientQuotas.fromSettings(tandemConfig.settings(), System::currentTimeMillis,
                        scheduler::execute);
                connectionLimits.rates(clientQuotas.connectionRates());
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
            this.logs = new LogManager(config.logDir(), config.brokerId(), System::currentTimeMillis, scheduler);
            logs.onCoordinatorAppend(purgatories.fetch()::checkAndComplete);
            this.services = new BrokerServices(tandemConfig);
            this.brokerSettings = tandemConfig;
            // Tandem's own defaults for these two: the log directory under the data directory, the configured port.
            this.describer = new BrokerConfigDescriber(tandemConfig.settings(), Map.of(
                    "log.dir", tandemConfig.dataDir().resolve("kafka-logs").toString(),
                    "listeners", "PLAINTEXT://:" + config.port()));
        } catch (IOException | RuntimeException e) {
            // Its Kerberos logins are shared with other users of the JVM (SharedLogin): let them go.
            security.close();
            throw e;
        }
    }

    /**
     * Starts a broker. {@code zookeeperConnect} is the ensemble to keep metadata in (this node's own ZooKeeper, or
     * the zookeeper.connect setting); null keeps Kafka's ZooKeeper layout in a local directory instead.
     */
    public static KafkaBroker start(TandemConfig tandemConfig, String zookeeperConnect) throws IOException {
        BrokerConfig config = BrokerConfig.from(tandemConfig);
        KafkaBroker broker = new KafkaBroker(config, tandemConfig);
        try {
            broker.startServices(zookeeperConnect != null ? zookeeperConnect : config.zookeeperConnect());
            return broker;
        } catch (Exception e) {
            broker.close();
            if (e instanceof IOException io) throw io;
            throw new IOException("cannot start the Kafka broker: " + e.getMessage(), e);
        }
    }

    private void startServices(String zookeeperConnect) throws Exception {
        registry = Handlers.registry(this);
        registry.requestQuota(clientQuotas.requestTimeQuota());
        if (config.listeners().stream().anyMatch(l -> l.port() == 0)) {
            // A free port is only known after binding; nobody can connect before start() returns it anyway.
            startListeners();
            services.start(this, zookeeperConnect, security, listeners, offsetsPartitions, scheduler);
        } else {
            services.start(this, zookeeperConnect, security, listeners, offsetsPartitions, scheduler);
            startListeners();
        }
        maintenance = BrokerMaintenance.schedule(this, scheduler, security.tokenExpiryCheckIntervalMs(),
                services.replicaLagTimeMaxMs());
        LOG.log(System.Logger.Level.INFO, "Kafka broker {0} serving on port {1}", config.brokerId(), Integer.toString(port()));
    }

    private void startListeners() throws InterruptedException {
        listeners.start(listenerLimits, registry, requestExecutor, security.listeners(), connectionLimits);
        // Dynamic connection limits read before the listeners were bound.
        if (services.dynamicConfig() != null) services.dynamicConfig().applyConnectionLimits(topicConfigs.dynamic());
    }

    /** The metadata store once it is connected, else null. */
    private ZnodeStore metadataStore() {
        return services == null || services.metadata() == null ? null : services.metadata().store();
    }

    /** The high watermark of a led partition moved, or its leadership changed: parked operations re-check. */
    public void highWatermarkMoved(TopicPartition tp) {
        purgatories.highWatermarkMoved(tp);
    }

    /** The offsets partition that holds the group's commits, led here, or NOT_COORDINATOR. */
    public Partition offsetsPartitionFor(String groupId) {
        return offsetsPartitions.forGroup(groupId);
    }

    /**
     * Calls {@code then} once the partition's high watermark reaches {@code requiredOffset} (NONE), the partition
     * moves away (NOT_LEADER_OR_FOLLOWER), or the timeout passes (REQUEST_TIMED_OUT): acks=all for internal
     * writes, parked in the produce purgatory rather than holding a request thread.
     */
    public void whenReplicated(Partition partition, long requiredOffset, long timeoutMs,
                               java.util.function.Consumer<Short> then) {
        purgatories.whenReplicated(partition, requiredOffset, () -> !partition.isLeader(), timeoutMs, then);
    }

    /**
     * As {@link #whenReplicated(Partition, long, long, java.util.function.Consumer)}, for records appended under
     * {@code leaderEpoch}: a new epoch, even with this broker leading again, is NOT_LEADER_OR_FOLLOWER, since the
     * log may have been truncated below {@code requiredOffset} and filled again by another leader.
     */
    public void whenReplicated(Partition partition, long requiredOffset, int leaderEpoch, long timeoutMs,
                               java.util.function.Consumer<Short> then) {
        purgatories.whenReplicated(partition, requiredOffset,
                () -> !partition.isLeader() || partition.leaderEpoch() != leaderEpoch, timeoutMs, then);
    }

    /** The local partition of a topic this broker hosts (opening its log on first use), or null if not hosted here. */
    public Partition localPartition(TopicInfo topic, int partition) {
        List<Integer> replicas = topic.replicas().get(partition);
        if (replicas == null || !replicas.contains(config.brokerId())) return null;
        TopicPartition tp = new TopicPartition(topic.name(), partition);
        Partition existing = logs.get(tp);
        if (existing != null) return existing;
        try {
            return logs.getOrCreate(tp, topicConfigs.logConfig(topic.configs()));
        } catch (IOException e) {
            throw new ApiException(KAFKA_STORAGE_ERROR, "cannot open the log of " + tp + ": " + e.getMessage());
        }
    }

    /** Whether this broker leads the partition: the controller's last LeaderAndIsr for it said so. */
    public boolean isLeader(TopicInfo topic, int partition) {
        Partition local = logs.get(new TopicPartition(topic.name(), partition));
        return local != null && local.isLeader();
    }

    /**
     * The partition's log for a client request that only the leader may serve (produce, fetch, list offsets, ...):
     * NOT_LEADER_OR_FOLLOWER on any other broker, replica or not, so clients go to the leader, as with Kafka.
     */
    public Partition leaderPartition(TopicInfo topic, int partition) {
        Partition local = isLeader(topic, partition) ? localPartition(topic, partition) : null;
        if (local == null) {
            throw new ApiException(NOT_LEADER_OR_FOLLOWER, "Leader not local for partition " + topic.name() + "-"
                    + partition + " on broker " + config.brokerId());
        }
        return local;
    }

    /** num.io.threads changed at runtime: the request handler pool grows or shrinks to it. */
    void resizeRequestHandlers(int threads) {
        if (threads == requestExecutor.threads()) return;
        requestExecutor.resize(threads);
        LOG.log(System.Logger.Level.INFO, "Request handler threads resized to {0}", threads);
    }

    /**
     * Runs the rest of a request on a request handler thread (Kafka's KafkaRequestHandler.wrapAsyncCallback): a
     * produce or offset commit whose partition the transaction coordinator has just verified or added goes on there,
     * not on the inter-broker client's or the coordinator's thread that answered. It counts as a request waiting for a
     * handler (queued.max.requests); the request it continues is still in hand, so its connection is not read
     * meanwhile and each connection adds at most one. When the pool is shut down before it runs (refused now, or
     * dropped from the queue at stop) the request is given up through {@code waiting} ({@link RequestDropped}): its
     * frame and budget bytes go back and its connection closes, instead of the frame leaking.
     */
    public void continueOnRequestHandler(Runnable continuation, io.tandem.server.kafka.network.Responder waiting) {
        RequestDispatcher.FrameHolder task = new RequestDispatcher.FrameHolder() {
            @Override
            public void run() {
                continuation.run();
            }

            @Override
            public void dropped() {
                waiting.fail(io.tandem.server.kafka.network.RequestDropped.BROKER_STOPPING);
            }
        };
        try {
            requestExecutor.submit(task);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            task.dropped();
        }
    }

    /**
     * Dynamic max.connections, max.connections.per.ip (and its overrides) and the listeners' max.connections, over
     * {@code dynamic} (the cluster default's, then this broker's settings) over the static ones: every listener judges
     * new connections by these, and a broker now over max.connections closes connections down to it. Overrides
     * naming a host that does not resolve leave the limits as they are (Kafka's reconfiguration fails the same way).
     */
    void updateConnectionLimits(java.util.List<Map<String, String>> dynamic) {
        Map<String, String> merged = new java.util.HashMap<>(staticSettings());
        dynamic.forEach(merged::putAll);
        try {
            connectionLimits.update(ConnectionLimitSettings.from(merged));
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, "Connection limits not changed: {0}", e.getMessage());
        }
    }

    /** The broker's static settings (server.properties), under its dynamic ones. */
    Map<String, String> staticSettings() {
        return brokerSettings.settings();
    }

    /** Requests decoded and waiting for a request handler thread (Kafka's RequestQueueSize). */
    public int requestQueueSize() {
        return requestExecutor.waiting();
    }

    /** The request handler pool's size now (num.io.threads, static or dynamic). */
    public int requestHandlerThreads() {
        return requestExecutor.threads();
    }

    public BrokerConfig config() {
        return config;
    }

    public TopicConfigs topicConfigs() {
        return topicConfigs;
    }

    public DynamicBrokerConfig dynamicConfig() {
        return services.dynamicConfig();
    }

    /** The TLS listeners' contexts by listener name: dynamic broker configuration reloads their stores. */
    public Map<String, ListenerTls> listenerTls() {
        Map<String, ListenerTls> tls = new LinkedHashMap<>();
        security.listeners().forEach((name, listener) -> {
            if (listener.tls() != null) tls.put(name, listener.tls());
        });
        return tls;
    }

    /** Each listener's security by listener name: dynamic broker configuration starts SASL ones with their logins. */
    public Map<String, ListenerSecurity> listenerSecurity() {
        return security.listeners();
    }

    /**
     * The mechanism this broker logs in to other brokers with on a SASL inter-broker listener
     * (sasl.mechanism.inter.broker.protocol), null when that listener does not use SASL.
     */
    public String interBrokerSaslMechanism() {
        if (security.interBroker().saslUser() == null) return null;
        return brokerSettings.get("sasl.mechanism.inter.broker.protocol", "GSSAPI").trim()
                .toUpperCase(java.util.Locale.ROOT);
    }

    /** The encoder of dynamic password configs, null when password.encoder.secret is not set. */
    public PasswordEncoder passwordEncoder() {
        return security.passwordEncoder();
    }

    /** The decoder of values encrypted with password.encoder.old.secret, null when it is not set. */
    public PasswordEncoder oldPasswordEncoder() {
        return security.oldPasswordEncoder();
    }

    public BrokerConfigDescriber configDescriber() {
        return describer;
    }

    /** The inter-broker listener's client side: how this broker reaches the others. */
    public InterBrokerSecurity interBrokerSecurity() {
        return security.interBroker();
    }

    /** Topic creation and deletion, config changes, the offsets topic. */
    public BrokerTopics topics() {
        return topics;
    }

    public ClusterMetadata metadata() {
        return services.metadata();
    }

    public GroupCoordinator groups() {
        return services.groups().classic();
    }

    /** The consumer group (KIP-848) coordinator; it shares the classic coordinator's lock and offsets. */
    public ConsumerGroupCoordinator consumerGroups() {
        return services.groups().consumer();
    }

    public io.tandem.server.kafka.group.share.ShareGroupCoordinator shareGroups() {
        return services.groups() == null ? null : services.groups().share(); // null until the store connected
    }

    /** The partitions' end offsets from their leaders (DescribeShareGroupOffsets' lag). */
    public io.tandem.server.kafka.group.share.PartitionEndOffsets partitionEndOffsets() {
        return services.groups().endOffsets();
    }

    /** The share coordinator: the share-partition state of the __share_group_state partitions led here. */
    public ShareStateCoordinator shareState() {
        return services.groups().shareState();
    }

    /** Group-level configs (ConfigResource GROUP). */
    public io.tandem.server.kafka.group.share.GroupConfigs groupConfigs() {
        return services.groups().groupConfigs();
    }

    public ShareStateTopic shareStateTopic() {
        return services.groups().shareStateTopic();
    }

    /** How this broker's share-partitions and group coordinator reach share coordinators (here or elsewhere). */
    public io.tandem.server.kafka.group.share.ShareCoordinatorPersister sharePersister() {
        return services.groups().sharePersister();
    }

    public ProducerIdManager producerIds() {
        return services.producerIds();
    }

    /** The transaction coordinator and marker writer of this broker. */
    public TransactionService transactions() {
        return services.transactions();
    }

    public LogManager logs() {
        return logs;
    }

    public PageCacheWarmer pageCache() {
        return pageCache;
    }

    public DelayedOperationPurgatory<DelayedResponse> fetchPurgatory() {
        return purgatories.fetch();
    }

    public DelayedOperationPurgatory<DelayedResponse> producePurgatory() {
        return purgatories.produce();
    }

    public ControllerLink controllerLink() {
        return services.controllerLink();
    }

    public ReplicaManager replicas() {
        return services.replicas();
    }

    public KafkaController controller() {
        return services.controller();
    }

    /** The API handlers this broker serves (the metrics observe requests through it). */
    public ApiRegistry apiRegistry() {
        return registry;
    }

    /** The inter-broker listener's bound port. */
    public int port() {
        return port(config.interBroker().name());
    }

    /** The bound port of the named listener, -1 when there is none. */
    public int port(String listenerName) {
        return listeners.port(listenerName);
    }

    /** SCRAM credentials in ZooKeeper (AlterUserScramCredentials, DescribeUserScramCredentials, authentication). */
    public Authorization authorization() {
        return security.authorization();
    }

    public io.tandem.server.kafka.handlers.FetchSessions fetchSessions() {
        return fetchSessions;
    }

    public DelegationTokens delegationTokens() {
        return security.delegationTokens();
    }

    public ScramCredentialStore scramCredentials() {
        return security.scramCredentials();
    }

    /** Client quotas: their store (DescribeClientQuotas, AlterClientQuotas) and their enforcement. */
    public ClientQuotas clientQuotas() {
        return clientQuotas;
    }

    /**
     * Stops this broker from inside, for good, on a condition under which a Kafka broker exits its process (the
     * cluster's {@code /feature} finalized a level it does not support): it moves its leaderships away, leaves the
     * cluster (its registration goes with its session) and stops serving, on a thread of its own, since the caller
     * may be one that stopping waits for. The process is the embedder's: {@link #failure()} tells it, and
     * {@code tandem start} exits non-zero. A broker already stopping or stopped is left as it is.
     */
    public void fail(String reason) {
        if (closed.get()) return;
        Thread stopper = new Thread(() -> {
            if (stop()) failure.complete(reason);
        }, "kafka-broker-" + config.brokerId() + "-fatal-stop");
        stopper.start();
    }

    /** Completes with the reason once the broker stopped itself ({@link #fail}); never after a plain close. */
    public java.util.concurrent.CompletionStage<String> failure() {
        return failure.minimalCompletionStage();
    }

    /**
     * Stops the broker; a second call (the embedder's close after {@link #fail}) only waits until the first one is
     * done, so whatever the embedder stops next (this node's ZooKeeper) outlives the broker's controlled shutdown.
     */
    @Override
    public void close() {
        if (stop()) return;
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the broker unless it was stopped already; true when this call stopped it. */
    private boolean stop() {
        if (!closed.compareAndSet(false, true)) return false;
        try {
            stopServices();
        } finally {
            stopped.countDown();
        }
        return true;
    }

    private void stopServices() {
        List<Exception> failures = new ArrayList<>();
        services.controlledShutdown();
        listeners.close();
        if (security.authorization().enabled()) security.authorization().authorizer().close();
        services.close();
        // After the listeners and the inter-broker channels: nothing of this broker uses its Kerberos logins now.
        security.close();
        scheduler.shutdownNow();
        if (maintenance != null) maintenance.close();
        try {
            requestExecutor.close(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        purgatories.close();
        try {
            logs.close();
        } catch (IOException e) {
            failures.add(e);
        }
        services.closeMetadata();
        for (Exception e : failures) LOG.log(System.Logger.Level.WARNING, "Error while stopping the broker", e);
    }
}
