package io.tandem.server.kafka;

import io.netty.util.HashedWheelTimer;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.group.OffsetsTopicStore;
import io.tandem.server.kafka.handlers.Handlers;
import io.tandem.server.kafka.handlers.DelayedFetch;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.StopReplicaRequest;
import io.tandem.kafka.wire.message.StopReplicaResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.network.BrokerChannel;
import io.tandem.server.kafka.purgatory.DelayedResponse;
import io.tandem.server.kafka.replica.ReplicaManager;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.KafkaServer;
import io.tandem.server.kafka.producer.ProducerIdManager;
import io.tandem.server.kafka.purgatory.DelayedOperationPurgatory;
import io.tandem.server.kafka.txn.TransactionConfig;
import io.tandem.server.kafka.txn.TransactionService;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * One Kafka broker: the listener, the request handlers, the partitions on disk, the group coordinator and the
 * metadata in Kafka's ZooKeeper layout. {@link #start} returns once the broker is registered and serving.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaBroker.class.getName());
    /** Long polls and acks=all produces parked at once; beyond this they are answered at once. */
    static final int PARKED_OPERATIONS_MAX = 100_000;
    /** How often the group coordinator's deadlines are checked. */
    static final long GROUP_TICK_MS = 100;
    /** Kafka's replica.lag.time.max.ms: an ISR member not caught up for this long leaves the ISR. */
    static final long REPLICA_LAG_TIME_MAX_MS = 30_000;
    /** Kafka's replica.fetch.max.bytes: what a follower asks per partition per fetch. */
    static final int REPLICA_FETCH_MAX_BYTES = 1_048_576;
    /** How long a broker that is not the controller waits for a new topic's first leaders (CreateTopics). */
    static final long TOPIC_LEADERS_WAIT_MS = 30_000;
    /** The offsets topic rolls smaller segments than other topics so compaction can run (Kafka's value). */
    static final String OFFSETS_TOPIC_SEGMENT_BYTES = "104857600";

    private final BrokerConfig config;
    private final TopicConfigs topicConfigs;
    private final ThreadPoolExecutor requestExecutor;
    private final ScheduledExecutorService scheduler;
    private final HashedWheelTimer timer;
    private final LogManager logs;
    private final DelayedOperationPurgatory<DelayedFetch> fetchPurgatory;
    private final long replicaLagTimeMaxMs;
    private final int replicaFetchMaxBytes;
    private final DelayedOperationPurgatory<DelayedResponse> producePurgatory;
    private ClusterMetadata metadata;
    private ReplicaManager replicas;
    private KafkaController controller;
    private BrokerChannel controllerChannel;
    private final BrokerConfigDescriber describer;
    private DynamicBrokerConfig dynamicConfig;
    private GroupCoordinator groups;
    private ProducerIdManager producerIds;
    private final TransactionConfig transactionConfig;
    private TransactionService transactions;
    private KafkaServer server;
    private volatile boolean offsetsTopicReady;

    private KafkaBroker(BrokerConfig config, TandemConfig tandemConfig) throws IOException {
        this.config = config;
        this.topicConfigs = new TopicConfigs(tandemConfig);
        AtomicInteger threadIds = new AtomicInteger();
        this.requestExecutor = new ThreadPoolExecutor(config.ioThreads(), config.ioThreads(), 60, TimeUnit.SECONDS,
                // queued.max.requests: requests waiting for a handler thread before new ones run on the caller.
                new ArrayBlockingQueue<>(config.queuedMaxRequests()), r -> {
                    Thread t = new Thread(r, "kafka-request-handler-" + threadIds.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kafka-scheduler");
            t.setDaemon(true);
            return t;
        });
        this.timer = new HashedWheelTimer(r -> {
            Thread t = new Thread(r, "kafka-purgatory-timer");
            t.setDaemon(true);
            return t;
        }, 10, TimeUnit.MILLISECONDS);
        this.logs = new LogManager(config.logDir(), config.brokerId(), System::currentTimeMillis, scheduler);
        this.fetchPurgatory = new DelayedOperationPurgatory<>(timer, PARKED_OPERATIONS_MAX);
        this.producePurgatory = new DelayedOperationPurgatory<>(timer, PARKED_OPERATIONS_MAX);
        this.replicaLagTimeMaxMs = tandemConfig.getLong("replica.lag.time.max.ms", REPLICA_LAG_TIME_MAX_MS);
        this.replicaFetchMaxBytes = tandemConfig.getInt("replica.fetch.max.bytes", REPLICA_FETCH_MAX_BYTES);
        this.transactionConfig = TransactionConfig.from(tandemConfig);
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
        ApiRegistry registry = Handlers.registry(this);
        if (config.port() == 0) {
            // A free port is only known after binding; nobody can connect before start() returns it anyway.
            server = KafkaServer.start(config.bindHost(), 0, config.socketRequestMaxBytes(), config.networkThreads(),
                    registry, requestExecutor);
            startMetadata(zookeeperConnect, server.port());
        } else {
            startMetadata(zookeeperConnect, config.port());
            server = KafkaServer.start(config.bindHost(), config.port(), config.socketRequestMaxBytes(),
                    config.networkThreads(), registry, requestExecutor);
        }
        scheduler.scheduleWithFixedDelay(this::tickGroups, GROUP_TICK_MS, GROUP_TICK_MS, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::maintainLogs, config.logRetentionCheckIntervalMs(),
                config.logRetentionCheckIntervalMs(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(fetchPurgatory::purgeCompleted, 1, 1, TimeUnit.SECONDS);
        scheduler.scheduleWithFixedDelay(producePurgatory::purgeCompleted, 1, 1, TimeUnit.SECONDS);
        long isrCheckMs = Math.max(replicaLagTimeMaxMs / 2, 1);
        scheduler.scheduleWithFixedDelay(() -> replicas.maintainIsr(logs.partitions().values()), isrCheckMs,
                isrCheckMs, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::refreshDynamicConfig, DynamicBrokerConfig.REFRESH_MS,
                DynamicBrokerConfig.REFRESH_MS, TimeUnit.MILLISECONDS);
        LOG.log(System.Logger.Level.INFO, "Kafka broker {0} serving on port {1}", config.brokerId(), Integer.toString(server.port()));
    }

    private void startMetadata(String zookeeperConnect, int port) throws Exception {
        long startNanos = System.nanoTime();
        ZnodeStore store = zookeeperConnect == null ? new LocalZnodeStore(config.logDir().resolve("metadata"))
                : ZkZnodeStore.connect(zookeeperConnect, Duration.ofMillis(config.zookeeperSessionTimeoutMs()),
                Duration.ofSeconds(30));
        String host = config.advertisedHost() != null ? config.advertisedHost()
                : config.bindHost() != null ? config.bindHost() : "127.0.0.1";
        int advertisedPort = config.advertisedPort() != null ? config.advertisedPort() : port;
        metadata = new ClusterMetadata(store, new BrokerRegistration(config.brokerId(), host, advertisedPort,
                "PLAINTEXT", config.rack(), System.currentTimeMillis()));
        long connectedNanos = System.nanoTime();
        metadata.start();
        // Dynamic broker settings are in force before any log opens, as in Kafka.
        dynamicConfig = new DynamicBrokerConfig(this, store);
        dynamicConfig.refresh();
        LOG.log(System.Logger.Level.INFO, "Kafka metadata store connected in {0} ms, registered in {1} ms",
                Long.toString((connectedNanos - startNanos) / 1_000_000),
                Long.toString((System.nanoTime() - connectedNanos) / 1_000_000));
        producerIds = new ProducerIdManager(metadata::reserveProducerIdBlock);
        groups = new GroupCoordinator(new GroupConfig(config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.groupMaxSize(),
                config.offsetMetadataMaxBytes()), new OffsetsTopicStore(config.offsetsTopicPartitions(),
                index -> offsetsPartition(index)));
        // Before any LeaderAndIsr: leading a __transaction_state partition loads its transactions.
        transactions = TransactionService.start(this, transactionConfig);
        // Open every local partition now: recovery happens at start-up, not on the first request.
        for (TopicInfo topic : metadata.topics()) {
            for (int p : topic.replicas().keySet()) localPartition(topic, p);
        }
        replicas = new ReplicaManager(config.brokerId(), metadata, this::localPartition, this::highWatermarkMoved,
                replicaLagTimeMaxMs, replicaFetchMaxBytes);
        replicas.becameLeaderListener(this::becameLeader);
        replicas.alterPartitionSender(this::sendAlterPartition);
        controller = new KafkaController(config.brokerId(), store, metadata, this::handleFromController);
        metadata.onReregistered(controller::onSessionRenewed);
        // The election is decided before this returns; as controller, this broker already leads its partitions.
        controller.start();
    }

    /** A request the controller sends, handled here when this broker is the controller itself. */
    private void handleFromController(ApiKey key, short version, ApiMessage request) {
        switch (key) {
            case LEADER_AND_ISR -> replicas.becomeLeaderOrFollower((LeaderAndIsrRequest) request, version);
            case UPDATE_METADATA -> replicas.updateMetadata((UpdateMetadataRequest) request);
            case STOP_REPLICA -> stopReplicas((StopReplicaRequest) request, version);
            default -> throw new IllegalArgumentException("not a controller request: " + key);
        }
    }

    /** AlterPartition to the controller: in this process when it is here, else over the wire (v1, by topic name). */
    private AlterPartitionResponse sendAlterPartition(AlterPartitionRequest request) throws Exception {
        int controllerId = metadata.controllerId();
        if (controllerId == config.brokerId() && controller.isActive()) return controller.alterPartition(request);
        BrokerRegistration target = metadata.liveBrokers().stream().filter(b -> b.brokerId() == controllerId)
                .findFirst().orElseThrow(() -> new IOException("controller " + controllerId + " is not known"));
        synchronized (this) {
            if (controllerChannel == null) {
                controllerChannel = new BrokerChannel(target.host(), target.port(), "broker-" + config.brokerId(), 30_000);
            } else {
                controllerChannel.retarget(target.host(), target.port());
            }
        }
        return (AlterPartitionResponse) controllerChannel.send(ApiKey.ALTER_PARTITION, (short) 1, request);
    }

    /** The high watermark of a led partition moved, or its leadership changed: parked operations re-check. */
    public void highWatermarkMoved(TopicPartition tp) {
        fetchPurgatory.checkAndComplete(tp);
        producePurgatory.checkAndComplete(tp);
    }

    /** Leading an offsets partition makes this broker its groups' coordinator: their offsets are loaded. */
    private void becameLeader(Partition partition) {
        transactions.becameLeader(partition);
        if (!partition.topicPartition().topic().equals(TopicNames.CONSUMER_OFFSETS)) return;
        try {
            OffsetsTopicStore.load(partition, groups);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot load " + partition.topicPartition(), e);
        }
    }

    /** StopReplica: stop following the partitions, deleting the logs of deleted topics. */
    public StopReplicaResponse stopReplicas(StopReplicaRequest request, short version) {
        StopReplicaResponse response = new StopReplicaResponse();
        List<TopicPartition> stopped = new ArrayList<>();
        List<TopicPartition> deleted = new ArrayList<>();
        if (version == 0) {
            for (var p : request.ungroupedPartitions) (request.deletePartitions ? deleted : stopped).add(new TopicPartition(p.topicName, p.partitionIndex));
        } else if (version <= 2) {
            for (var t : request.topics) for (int p : t.partitionIndexes) (request.deletePartitions ? deleted : stopped).add(new TopicPartition(t.name, p));
        } else {
            for (var t : request.topicStates) {
                for (var p : t.partitionStates) (p.deletePartition ? deleted : stopped).add(new TopicPartition(t.topicName, p.partitionIndex));
            }
        }
        List<TopicPartition> all = new ArrayList<>(stopped);
        all.addAll(deleted);
        response.errorCode = replicas.stopReplicas(request.controllerEpoch, request.controllerId, all, null);
        if (response.errorCode != NONE) return response;
        for (TopicPartition tp : all) {
            short error = NONE;
            if (deleted.contains(tp)) {
                try {
                    logs.delete(tp);
                } catch (IOException e) {
                    error = KAFKA_STORAGE_ERROR;
                }
            }
            StopReplicaResponse.StopReplicaPartitionError result = new StopReplicaResponse.StopReplicaPartitionError();
            result.topicName = tp.topic();
            result.partitionIndex = tp.partition();
            result.errorCode = error;
            response.partitionErrors.add(result);
        }
        return response;
    }

    private Partition offsetsPartition(int index) {
        TopicInfo offsets = ensureOffsetsTopic();
        Partition partition = isLeader(offsets, index) ? localPartition(offsets, index) : null;
        if (partition == null) {
            throw new ApiException(NOT_COORDINATOR, "this broker does not lead offsets partition " + index);
        }
        return partition;
    }

    /** The offsets partition that holds the group's commits, led here, or NOT_COORDINATOR. */
    public Partition offsetsPartitionFor(String groupId) {
        return offsetsPartition(OffsetsTopicCodec.partitionFor(groupId, config.offsetsTopicPartitions()));
    }

    /**
     * Calls {@code then} once the partition's high watermark reaches {@code requiredOffset} (NONE), the partition
     * moves away (NOT_LEADER_OR_FOLLOWER), or the timeout passes (REQUEST_TIMED_OUT): acks=all for internal
     * writes, parked in the produce purgatory rather than holding a request thread.
     */
    public void whenReplicated(Partition partition, long requiredOffset, long timeoutMs,
                               java.util.function.Consumer<Short> then) {
        DelayedResponse delayed = new DelayedResponse(timeoutMs,
                () -> !partition.isLeader() || partition.highWatermark() >= requiredOffset,
                () -> then.accept(!partition.isLeader() ? NOT_LEADER_OR_FOLLOWER
                        : partition.highWatermark() >= requiredOffset ? NONE : REQUEST_TIMED_OUT));
        producePurgatory.tryCompleteElseWatch(delayed, List.of(partition.topicPartition()));
    }

    /** Creates {@code __consumer_offsets} on first use, as Kafka does when the first group looks for its coordinator. */
    public TopicInfo ensureOffsetsTopic() {
        TopicInfo offsets = metadata.topic(TopicNames.CONSUMER_OFFSETS);
        if (offsets != null && offsetsTopicReady) return offsets;
        synchronized (this) {
            offsets = metadata.topic(TopicNames.CONSUMER_OFFSETS);
            try {
                if (offsets == null) {
                    int replication = config.offsetsTopicReplicationFactor();
                    int live = metadata.liveBrokers().size();
                    if (live < replication) {
                        // Kafka's words and error: the group waits for enough brokers instead of getting fewer copies.
                        throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Number of alive brokers '" + live
                                + "' does not meet the required replication factor '" + replication
                                + "' for the offsets topic (configured via 'offsets.topic.replication.factor'). This"
                                + " error can be ignored if the cluster is starting up and not all brokers are up yet.");
                    }
                    Map<String, String> topicConfig = new LinkedHashMap<>();
                    topicConfig.put("cleanup.policy", "compact");
                    topicConfig.put("compression.type", "producer");
                    topicConfig.put("segment.bytes", OFFSETS_TOPIC_SEGMENT_BYTES);
                    offsets = createTopic(TopicNames.CONSUMER_OFFSETS, config.offsetsTopicPartitions(),
                            replication, null, topicConfig, false);
                }
                // Its partitions' offsets were loaded as this broker became their leader (LeaderAndIsr).
                offsetsTopicReady = true;
            } catch (ApiException e) {
                throw e;
            } catch (Exception e) {
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, "cannot create the offsets topic: " + e.getMessage());
            }
            return offsets;
        }
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

    /** Creates a topic with its logs here; validation of the request is the caller's. */
    public TopicInfo createTopic(String name, int partitions, int replicationFactor,
                                 SortedMap<Integer, List<Integer>> assignment, Map<String, String> configs,
                                 boolean validateOnly) throws Exception {
        long startNanos = System.nanoTime();
        TopicInfo info = metadata.createTopic(name, partitions, replicationFactor, assignment, configs, validateOnly);
        if (!validateOnly) {
            long writtenNanos = System.nanoTime();
            awaitLeaders(info);
            LOG.log(System.Logger.Level.INFO, "Created topic {0} with {1} partitions (metadata {2} ms, leaders {3} ms)",
                    name, info.partitionCount(), Long.toString((writtenNanos - startNanos) / 1_000_000),
                    Long.toString((System.nanoTime() - writtenNanos) / 1_000_000));
        }
        return info;
    }

    /**
     * After this broker wrote a topic's assignment: the controller gives its partitions leaders. Here that happens
     * before this returns; elsewhere the controller's UpdateMetadata is awaited, as Kafka's CreateTopics waits for
     * the new leaders to reach its metadata cache (bounded; clients retry LEADER_NOT_AVAILABLE past it).
     */
    public void awaitLeaders(TopicInfo topic) throws Exception {
        if (controller.isActive()) {
            controller.topicsChanged();
            return;
        }
        long deadline = System.currentTimeMillis() + TOPIC_LEADERS_WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            TopicInfo known = metadata.topic(topic.name());
            if (known != null && known.replicas().keySet().stream().allMatch(p -> known.states().get(p) != null
                    && known.states().get(p).leader() >= 0)) {
                return;
            }
            Thread.sleep(10);
        }
    }

    public void deleteTopic(String name) throws Exception {
        TopicInfo info = metadata.deleteTopic(name);
        for (int p : info.replicas().keySet()) logs.delete(new TopicPartition(name, p));
        // The controller stops the other replicas (StopReplica with delete); as controller, at once.
        if (controller.isActive()) controller.topicsChanged();
        groups.deleteTopicOffsets(List.of(name));
        LOG.log(System.Logger.Level.INFO, "Deleted topic {0}", name);
    }

    /** After a topic's config changed: the logs pick up the new retention, segment and flush settings. */
    public void topicConfigChanged(TopicInfo topic) {
        for (int p : topic.replicas().keySet()) {
            Partition partition = logs.get(new TopicPartition(topic.name(), p));
            if (partition != null) partition.updateConfig(topicConfigs.logConfig(topic.configs()));
        }
    }

    /** Picks up dynamic broker settings changed through another broker. */
    private void refreshDynamicConfig() {
        try {
            dynamicConfig.refresh();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "Cannot re-read the dynamic broker configuration", e);
        }
    }

    /** num.io.threads changed at runtime: the request handler pool grows or shrinks to it. */
    void resizeRequestHandlers(int threads) {
        if (threads == requestExecutor.getMaximumPoolSize()) return;
        if (threads > requestExecutor.getMaximumPoolSize()) {
            requestExecutor.setMaximumPoolSize(threads);
            requestExecutor.setCorePoolSize(threads);
        } else {
            requestExecutor.setCorePoolSize(threads);
            requestExecutor.setMaximumPoolSize(threads);
        }
        LOG.log(System.Logger.Level.INFO, "Request handler threads resized to {0}", threads);
    }

    /** The request handler pool's size now (num.io.threads, static or dynamic). */
    public int requestHandlerThreads() {
        return requestExecutor.getMaximumPoolSize();
    }

    private void tickGroups() {
        try {
            groups.tick(System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Group coordinator tick failed", e);
        }
    }

    private void maintainLogs() {
        logs.runMaintenance();
        try {
            logs.writeCheckpoints();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot write log checkpoints", e);
        }
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

    public BrokerConfigDescriber configDescriber() {
        return describer;
    }

    public ClusterMetadata metadata() {
        return metadata;
    }

    public GroupCoordinator groups() {
        return groups;
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

    public DelayedOperationPurgatory<DelayedFetch> fetchPurgatory() {
        return fetchPurgatory;
    }

    public DelayedOperationPurgatory<DelayedResponse> producePurgatory() {
        return producePurgatory;
    }

    public ReplicaManager replicas() {
        return replicas;
    }

    public KafkaController controller() {
        return controller;
    }

    public int port() {
        return server == null ? -1 : server.port();
    }

    @Override
    public void close() {
        List<Exception> failures = new ArrayList<>();
        if (server != null) server.close();
        if (controller != null) controller.close();
        if (replicas != null) replicas.close();
        if (transactions != null) transactions.close();
        synchronized (this) {
            if (controllerChannel != null) controllerChannel.close();
        }
        scheduler.shutdownNow();
        requestExecutor.shutdown();
        try {
            requestExecutor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.stop();
        try {
            logs.close();
        } catch (IOException e) {
            failures.add(e);
        }
        if (metadata != null) metadata.close();
        for (Exception e : failures) LOG.log(System.Logger.Level.WARNING, "Error while stopping the broker", e);
    }
}
