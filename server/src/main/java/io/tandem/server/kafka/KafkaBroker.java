package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.consumer.ConsumerGroupConfig;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator;
import io.tandem.server.kafka.group.share.state.ShareCoordinatorConfig;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.group.share.state.ShareStateTopic;
import io.tandem.server.kafka.handlers.Handlers;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.security.ListenerTls;
import io.tandem.server.kafka.security.ListenerSecurity;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.server.kafka.security.PasswordEncoder;
import io.tandem.server.kafka.security.Authorization;
import io.tandem.server.kafka.security.ScramCredentialStore;
import io.tandem.server.kafka.security.DelegationTokens;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.purgatory.DelayedResponse;
import io.tandem.server.kafka.replica.ControllerLink;
import io.tandem.server.kafka.replica.ReplicaManager;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.ConnectionLimits;
import io.tandem.server.kafka.network.KafkaServer;
import io.tandem.server.kafka.network.ListenerLimits;
import io.tandem.server.kafka.network.RequestDispatcher;
import io.tandem.server.kafka.producer.ProducerIdManager;
import io.tandem.server.kafka.purgatory.DelayedOperationPurgatory;
import io.tandem.server.kafka.txn.TransactionConfig;
import io.tandem.server.kafka.txn.TransactionService;
import io.tandem.storage.log.LogConfig;
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
 * ({@link BrokerGroups}) and the metadata in Kafka's ZooKeeper layout. This class owns the start-up wiring, the local
 * partitions and the stop; the parked operations and replication waits are {@link BrokerPurgatories}, the
 * listeners' and inter-broker security {@link BrokerSecurity}, topics {@link BrokerTopics}. {@link #start} returns
 * once the broker is registered and serving.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());
    /** Long polls and acks=all produces parked at once; beyond this they are answered at once. */
    static final int PARKED_OPERATIONS_MAX = 100_000;
    /** Kafka's replica.lag.time.max.ms: an ISR member not caught up for this long leaves the ISR. */
    static final long REPLICA_LAG_TIME_MAX_MS = 30_000;
    /** Kafka's replica.fetch.max.bytes: what a follower asks per partition per fetch. */
    static final int REPLICA_FETCH_MAX_BYTES = 1_048_576;

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
    private final long replicaLagTimeMaxMs;
    private final int replicaFetchMaxBytes;
    private final KafkaController.LeaderRebalance leaderRebalance;
    private ClusterMetadata metadata;
    private ReplicaManager replicas;
    private KafkaController controller;
    private ControllerLink controllerLink;
    private final BrokerConfigDescriber describer;
    private DynamicBrokerConfig dynamicConfig;
    private final ConsumerGroupConfig consumerGroupConfig;
    private final io.tandem.server.kafka.group.share.ShareGroupConfig shareGroupConfig;
    private final ShareCoordinatorConfig shareCoordinatorConfig;
    private final TandemConfig brokerSettings;
    /** The classic, consumer and share group coordinators and the share-state coordinator, once metadata is up. */
    private BrokerGroups groups;
    private ProducerIdManager producerIds;
    private final TransactionConfig transactionConfig;
    private TransactionService transactions;
    /** max.connections and max.connections.per.ip, counted over all listeners together as Kafka counts them. */
    private final ConnectionLimits connectionLimits;
    /** One server per listener, by listener name, in the order of the listeners setting. */
    private final Map<String, KafkaServer> servers = new java.util.LinkedHashMap<>();
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

    private KafkaBroker(BrokerConfig config, TandemConfig tandemConfig) throws IOException {
        this.config = config;
        this.fetchSessions = new io.tandem.server.kafka.handlers.FetchSessions(config.fetchSessionCacheSlots());
        // Checked first, so a bad limit refuses to start before anything is opened or registered.
        this.listenerLimits = new ListenerLimits(config.socketRequestMaxBytes(), config.networkThreads(),
                config.maxConnections(), config.maxConnectionsPerIp(), config.connectionsMaxIdleMs(),
                config.queuedMaxRequestBytes(), config.failedAuthenticationDelayMs());
        this.connectionLimits = new ConnectionLimits(config.maxConnections(), config.maxConnectionsPerIp());
        // The store is known once the metadata store connects; SCRAM exchanges only run after that.
        this.security = BrokerSecurity.build(config, tandemConfig, () -> metadata == null ? null : metadata.store());
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
            this.clientQuotas = new ClientQuotas(ClientQuotas.window(tandemConfig.settings()), System::currentTimeMillis,
                    scheduler::execute);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        this.logs = new LogManager(config.logDir(), config.brokerId(), System::currentTimeMillis, scheduler);
        logs.onCoordinatorAppend(purgatories.fetch()::checkAndComplete);
        this.replicaLagTimeMaxMs = tandemConfig.getLong("replica.lag.time.max.ms", REPLICA_LAG_TIME_MAX_MS);
        this.replicaFetchMaxBytes = tandemConfig.getInt("replica.fetch.max.bytes", REPLICA_FETCH_MAX_BYTES);
        this.leaderRebalance = new KafkaController.LeaderRebalance(
                Boolean.parseBoolean(tandemConfig.get("auto.leader.rebalance.enable", "true").trim()),
                tandemConfig.getLong("leader.imbalance.check.interval.seconds", 300) * 1000,
                tandemConfig.getInt("leader.imbalance.per.broker.percentage", 10));
        this.transactionConfig = TransactionConfig.from(tandemConfig);
        this.consumerGroupConfig = ConsumerGroupConfig.from(tandemConfig);
        this.shareGroupConfig = io.tandem.server.kafka.group.share.ShareGroupConfig.from(tandemConfig);
        this.shareCoordinatorConfig = ShareCoordinatorConfig.from(tandemConfig);
        this.brokerSettings = tandemConfig;
        // Tandem's own defaults for these two: the log directory under the data directory, the configured port.
        this.describer = new BrokerConfigDescriber(tandemConfig.settings(), Map.of(
                "log.dir", tandemConfig.dataDir().resolve("kafka-logs").toString(),
                "listeners", "PLAINTEXT://:" + config.port()));
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
            startMetadata(zookeeperConnect);
        } else {
            startMetadata(zookeeperConnect);
            startListeners();
        }
        maintenance = BrokerMaintenance.schedule(this, scheduler, security.tokenExpiryCheckIntervalMs(),
                replicaLagTimeMaxMs);
        LOG.log(System.Logger.Level.INFO, "Kafka broker {0} serving on port {1}", config.brokerId(), Integer.toString(port()));
    }

    private void startListeners() throws InterruptedException {
        for (BrokerConfig.Listener l : config.listeners()) {
            if (servers.containsKey(l.name())) continue;
            // Kafka's protectedListener: the inter-broker one, when there are others, accepts past max.connections.
            boolean protect = config.listeners().size() > 1 && l.name().equals(config.interBrokerListener());
            servers.put(l.name(), KafkaServer.start(l.bindHost(), l.port(), listenerLimits, registry, requestExecutor,
                    security.listeners().get(l.name()), connectionLimits, protect));
        }
        // Dynamic connection limits read before the listeners were bound.
        if (dynamicConfig != null) dynamicConfig.applyConnectionLimits(topicConfigs.dynamic());
    }

    /** Every listener as registered: the inter-broker one first (other brokers and older readers take the first). */
    private List<ListenerEndpoint> endpoints() {
        List<ListenerEndpoint> endpoints = new ArrayList<>();
        BrokerConfig.Listener interBroker = config.interBroker();
        List<BrokerConfig.Listener> ordered = new ArrayList<>(List.of(interBroker));
        for (BrokerConfig.Listener l : config.listeners()) {
            if (l != interBroker) ordered.add(l);
        }
        for (BrokerConfig.Listener l : ordered) {
            String host = l.advertisedHost() != null ? l.advertisedHost() : l.bindHost() != null ? l.bindHost()
                    : "127.0.0.1";
            KafkaServer bound = servers.get(l.name());
            int port = l.advertisedPort() != null ? l.advertisedPort() : bound != null ? bound.port() : l.port();
            endpoints.add(new ListenerEndpoint(l.name(), l.securityProtocol(), host, port));
        }
        return endpoints;
    }

    private void startMetadata(String zookeeperConnect) throws Exception {
        long startNanos = System.nanoTime();
        ZnodeStore store = zookeeperConnect == null ? new LocalZnodeStore(config.logDir().resolve("metadata"))
                : ZkZnodeStore.forBroker(zookeeperConnect, config.zookeeperSessionTimeoutMs(), config.zookeeperSetAcl(),
                brokerSettings.settings());
        // Before this broker registers: its first requests are already decided with every stored ACL.
        if (security.authorization().enabled()) security.authorization().authorizer().start(store);
        clientQuotas.start(store);
        List<ListenerEndpoint> endpoints = endpoints();
        ListenerEndpoint interBroker = endpoints.get(0);
        metadata = new ClusterMetadata(store, new BrokerRegistration(config.brokerId(), interBroker.host(),
                interBroker.port(), interBroker.listenerName(), config.rack(), System.currentTimeMillis(), endpoints));
        metadata.onTopicsDeleted(topics::topicsDeleted);
        // Everything that answers the controller exists before this broker registers: once it is in /brokers/ids
        // a controller may send it LeaderAndIsr or UpdateMetadata at once.
        producerIds = new ProducerIdManager(metadata::reserveProducerIdBlock);
        groups = new BrokerGroups(this, config, consumerGroupConfig, shareGroupConfig, shareCoordinatorConfig,
                brokerSettings, metadata, offsetsPartitions::existing);
        replicas = new ReplicaManager(config.brokerId(), metadata, this::localPartition, this::highWatermarkMoved,
                replicaLagTimeMaxMs, replicaFetchMaxBytes, security.interBroker());
        BrokerCoordinators coordinators = new BrokerCoordinators(this, groups, replicas);
        java.util.function.Consumer<TopicPartition> deleteLog = tp -> {
            try {
                logs.delete(tp);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            // As Kafka's stopReplicas: fetches and produces parked on the partition are answered now (it is gone),
            // and a coordinator of what it held unloads it.
            highWatermarkMoved(tp);
            coordinators.replicaDeleted(tp);
        };
        controllerLink = new ControllerLink(config.brokerId(), metadata, replicas, deleteLog, security.interBroker(),
                io.tandem.server.kafka.replica.ControlledShutdownConfig.from(brokerSettings));
        replicas.localLogs(new ReplicaManager.LocalLogs() {
            @Override
            public java.util.Collection<TopicPartition> onDisk() throws IOException {
                return logs.partitionsOnDisk();
            }

            @Override
            public void delete(TopicPartition tp) {
                deleteLog.accept(tp);
            }
        });
        replicas.alterPartitionSender(controllerLink::sendAlterPartition);
        // Before any LeaderAndIsr: leading a __transaction_state partition loads its transactions.
        transactions = TransactionService.start(this, transactionConfig);
        // Dynamic broker settings are in force before any log opens, as in Kafka.
        dynamicConfig = new DynamicBrokerConfig(this, store);
        // The same notifications name groups whose configs changed; every group's are read before any group request,
        // so the coordinators never read them (under their locks or otherwise).
        dynamicConfig.start(scheduler::execute, Map.of(ClusterMetadata.GROUPS_ENTITY_TYPE,
                (entityType, entityName) -> groups.groupConfigChanged(entityName)));
        groups.loadGroupConfigs();
        long connectedNanos = System.nanoTime();
        metadata.start();
        LOG.log(System.Logger.Level.INFO, "Kafka metadata store connected in {0} ms, registered in {1} ms",
                Long.toString((connectedNanos - startNanos) / 1_000_000),
                Long.toString((System.nanoTime() - connectedNanos) / 1_000_000));
        // Open every local partition now, several at once: recovery happens at start-up, not on the first request.
        Map<TopicPartition, LogConfig> local = new LinkedHashMap<>();
        for (TopicInfo topic : metadata.topics()) {
            LogConfig logConfig = topicConfigs.logConfig(topic.configs());
            topic.replicas().forEach((p, replicas) -> {
                if (replicas.contains(config.brokerId())) local.put(new TopicPartition(topic.name(), p), logConfig);
            });
        }
        logs.openAll(local);
        controller = new KafkaController(config.brokerId(), store, metadata, controllerLink::handleFromController,
                leaderRebalance, security.interBroker());
        controllerLink.controller(controller);
        metadata.onReregistered(controller::onSessionRenewed);
        // The election is decided before this returns; as controller, this broker already leads its partitions.
        controller.start();
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

    /** Dynamic max.connections / max.connections.per.ip: every listener judges new connections by these. */
    void updateConnectionLimits(int connectionsMax, int connectionsPerIpMax) {
        connectionLimits.update(connectionsMax, connectionsPerIpMax);
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
        return dynamicConfig;
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
        return metadata;
    }

    public GroupCoordinator groups() {
        return groups.classic();
    }

    /** The consumer group (KIP-848) coordinator; it shares the classic coordinator's lock and offsets. */
    public ConsumerGroupCoordinator consumerGroups() {
        return groups.consumer();
    }

    public io.tandem.server.kafka.group.share.ShareGroupCoordinator shareGroups() {
        return groups == null ? null : groups.share(); // null until the metadata store connected
    }

    /** The share coordinator: the share-partition state of the __share_group_state partitions led here. */
    public ShareStateCoordinator shareState() {
        return groups.shareState();
    }

    /** Group-level configs (ConfigResource GROUP). */
    public io.tandem.server.kafka.group.share.GroupConfigs groupConfigs() {
        return groups.groupConfigs();
    }

    public ShareStateTopic shareStateTopic() {
        return groups.shareStateTopic();
    }

    public ProducerIdManager producerIds() {
        return producerIds;
    }

    /** The transaction coordinator and marker writer of this broker. */
    public TransactionService transactions() {
        return transactions;
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
        return controllerLink;
    }

    public ReplicaManager replicas() {
        return replicas;
    }

    public KafkaController controller() {
        return controller;
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
        KafkaServer server = servers.get(listenerName.toUpperCase(java.util.Locale.ROOT));
        return server == null ? -1 : server.port();
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

    @Override
    public void close() {
        List<Exception> failures = new ArrayList<>();
        if (controller != null) controllerLink.controlledShutdown();
        for (KafkaServer server : servers.values()) server.close();
        if (security.authorization().enabled()) security.authorization().authorizer().close();
        if (controller != null) controller.close();
        if (replicas != null) replicas.close();
        if (transactions != null) transactions.close();
        if (groups != null) groups.close();
        if (controllerLink != null) controllerLink.close();
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
        if (metadata != null) metadata.close();
        for (Exception e : failures) LOG.log(System.Logger.Level.WARNING, "Error while stopping the broker", e);
    }
}
