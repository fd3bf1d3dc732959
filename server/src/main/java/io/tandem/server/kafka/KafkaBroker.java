package io.tandem.server.kafka;

import io.netty.util.HashedWheelTimer;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.OffsetsTopicStore;
import io.tandem.server.kafka.handlers.Handlers;
import io.tandem.server.kafka.handlers.DelayedFetch;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.network.ApiRegistry;
import io.tandem.server.kafka.network.KafkaServer;
import io.tandem.server.kafka.network.ListenerLimits;
import io.tandem.server.kafka.network.RequestDispatcher;
import io.tandem.server.kafka.producer.ProducerIdManager;
import io.tandem.server.kafka.purgatory.DelayedOperationPurgatory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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
    /** The offsets topic rolls smaller segments than other topics so compaction can run (Kafka's value). */
    static final String OFFSETS_TOPIC_SEGMENT_BYTES = "104857600";

    private final BrokerConfig config;
    private final TopicConfigs topicConfigs;
    private final ListenerLimits listenerLimits;
    private final RequestDispatcher requestExecutor;
    private final ScheduledExecutorService scheduler;
    private final HashedWheelTimer timer;
    private final LogManager logs;
    private final DelayedOperationPurgatory<DelayedFetch> fetchPurgatory;
    private ClusterMetadata metadata;
    private GroupCoordinator groups;
    private ProducerIdManager producerIds;
    private KafkaServer server;
    private volatile boolean offsetsTopicReady;

    private KafkaBroker(BrokerConfig config, TandemConfig tandemConfig) throws IOException {
        this.config = config;
        // Checked first, so a bad limit refuses to start before anything is opened or registered.
        this.listenerLimits = new ListenerLimits(config.socketRequestMaxBytes(), config.networkThreads(),
                config.maxConnections(), config.maxConnectionsPerIp(), config.connectionsMaxIdleMs(),
                config.queuedMaxRequestBytes());
        this.topicConfigs = new TopicConfigs(tandemConfig);
        // No caller-runs: a request waiting for a handler thread keeps its connection unread instead.
        this.requestExecutor = new RequestDispatcher(config.ioThreads(), config.queuedMaxRequests());
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
        this.logs = new LogManager(config.logDir(), System::currentTimeMillis, scheduler);
        this.fetchPurgatory = new DelayedOperationPurgatory<>(timer, PARKED_OPERATIONS_MAX);
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
            server = KafkaServer.start(config.bindHost(), 0, listenerLimits, registry, requestExecutor);
            startMetadata(zookeeperConnect, server.port());
        } else {
            startMetadata(zookeeperConnect, config.port());
            server = KafkaServer.start(config.bindHost(), config.port(), listenerLimits, registry,
                    requestExecutor);
        }
        scheduler.scheduleWithFixedDelay(this::tickGroups, GROUP_TICK_MS, GROUP_TICK_MS, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::maintainLogs, config.logRetentionCheckIntervalMs(),
                config.logRetentionCheckIntervalMs(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(fetchPurgatory::purgeCompleted, 1, 1, TimeUnit.SECONDS);
        scheduler.scheduleWithFixedDelay(this::expireProducers, config.producerIdExpirationCheckIntervalMs(),
                config.producerIdExpirationCheckIntervalMs(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::expireOffsets, config.offsetsRetentionCheckIntervalMs(),
                config.offsetsRetentionCheckIntervalMs(), TimeUnit.MILLISECONDS);
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
        LOG.log(System.Logger.Level.INFO, "Kafka metadata store connected in {0} ms, registered in {1} ms",
                Long.toString((connectedNanos - startNanos) / 1_000_000),
                Long.toString((System.nanoTime() - connectedNanos) / 1_000_000));
        producerIds = new ProducerIdManager(metadata::reserveProducerIdBlock);
        groups = new GroupCoordinator(new GroupConfig(config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupInitialRebalanceDelayMs(), config.groupMaxSize(),
                config.offsetMetadataMaxBytes()), new OffsetsTopicStore(config.offsetsTopicPartitions(),
                index -> offsetsPartition(index)));
        // Open every local partition now: recovery happens at start-up, not on the first request.
        for (TopicInfo topic : metadata.topics()) {
            for (int p : topic.replicas().keySet()) localPartition(topic, p);
        }
        TopicInfo offsets = metadata.topic(TopicNames.CONSUMER_OFFSETS);
        if (offsets != null) loadOffsetsTopic(offsets);
    }

    private Partition offsetsPartition(int index) {
        TopicInfo offsets = ensureOffsetsTopic();
        Partition partition = localPartition(offsets, index);
        if (partition == null) {
            throw new ApiException(NOT_COORDINATOR, "this broker does not lead offsets partition " + index);
        }
        return partition;
    }

    private void loadOffsetsTopic(TopicInfo offsets) throws IOException {
        for (int p : offsets.replicas().keySet()) {
            Partition partition = localPartition(offsets, p);
            if (partition != null) OffsetsTopicStore.load(partition, groups);
        }
        offsetsTopicReady = true;
    }

    /** Creates {@code __consumer_offsets} on first use, as Kafka does when the first group looks for its coordinator. */
    public TopicInfo ensureOffsetsTopic() {
        TopicInfo offsets = metadata.topic(TopicNames.CONSUMER_OFFSETS);
        if (offsets != null && offsetsTopicReady) return offsets;
        synchronized (this) {
            offsets = metadata.topic(TopicNames.CONSUMER_OFFSETS);
            try {
                if (offsets == null) {
                    int replication = Math.min(config.offsetsTopicReplicationFactor(), metadata.liveBrokers().size());
                    Map<String, String> topicConfig = new LinkedHashMap<>();
                    topicConfig.put("cleanup.policy", "compact");
                    topicConfig.put("compression.type", "producer");
                    topicConfig.put("segment.bytes", OFFSETS_TOPIC_SEGMENT_BYTES);
                    offsets = createTopic(TopicNames.CONSUMER_OFFSETS, config.offsetsTopicPartitions(),
                            replication, null, topicConfig, false);
                }
                if (!offsetsTopicReady) loadOffsetsTopic(offsets);
            } catch (IOException e) {
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, "cannot open the offsets topic: " + e.getMessage());
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
            return logs.getOrCreate(tp, topicConfigs.logConfig(topic.configs()),
                    topic.states().get(partition) == null ? 0 : topic.states().get(partition).leaderEpoch());
        } catch (IOException e) {
            throw new ApiException(KAFKA_STORAGE_ERROR, "cannot open the log of " + tp + ": " + e.getMessage());
        }
    }

    /** Creates a topic with its logs here; validation of the request is the caller's. */
    public TopicInfo createTopic(String name, int partitions, int replicationFactor,
                                 SortedMap<Integer, List<Integer>> assignment, Map<String, String> configs,
                                 boolean validateOnly) throws Exception {
        long startNanos = System.nanoTime();
        TopicInfo info = metadata.createTopic(name, partitions, replicationFactor, assignment, configs, validateOnly);
        if (!validateOnly) {
            long writtenNanos = System.nanoTime();
            for (int p : info.replicas().keySet()) localPartition(info, p);
            LOG.log(System.Logger.Level.INFO, "Created topic {0} with {1} partitions (metadata {2} ms, logs {3} ms)",
                    name, info.partitionCount(), Long.toString((writtenNanos - startNanos) / 1_000_000),
                    Long.toString((System.nanoTime() - writtenNanos) / 1_000_000));
        }
        return info;
    }

    public void deleteTopic(String name) throws Exception {
        TopicInfo info = metadata.deleteTopic(name);
        for (int p : info.replicas().keySet()) logs.delete(new TopicPartition(name, p));
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

    private void tickGroups() {
        try {
            groups.tick(System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Group coordinator tick failed", e);
        }
    }

    private void expireProducers() {
        long now = System.currentTimeMillis();
        for (Partition partition : logs.partitions().values()) {
            try {
                partition.expireProducers(now, config.producerIdExpirationMs());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Producer state expiry of " + partition.topicPartition() + " failed", e);
            }
        }
    }

    private void expireOffsets() {
        long startNanos = System.nanoTime();
        try {
            int expired = groups.expireOffsets(System.currentTimeMillis(), config.offsetsRetentionMinutes() * 60_000L);
            if (expired > 0) {
                LOG.log(System.Logger.Level.INFO, "Removed {0} expired offsets in {1} ms", expired,
                        Long.toString((System.nanoTime() - startNanos) / 1_000_000));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Offset expiry failed", e);
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

    public ClusterMetadata metadata() {
        return metadata;
    }

    public GroupCoordinator groups() {
        return groups;
    }

    public ProducerIdManager producerIds() {
        return producerIds;
    }

    public LogManager logs() {
        return logs;
    }

    public DelayedOperationPurgatory<DelayedFetch> fetchPurgatory() {
        return fetchPurgatory;
    }

    public int port() {
        return server == null ? -1 : server.port();
    }

    @Override
    public void close() {
        List<Exception> failures = new ArrayList<>();
        if (server != null) server.close();
        scheduler.shutdownNow();
        try {
            requestExecutor.close(5, TimeUnit.SECONDS);
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
