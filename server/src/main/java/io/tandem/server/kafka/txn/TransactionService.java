package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.DynamicBrokerConfig;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;


/**
 * The broker's transaction support, wired together: the coordinator of the transactional ids whose
 * {@code __transaction_state} partitions this broker leads (they move with that leadership, like groups with
 * {@code __consumer_offsets}), the marker sender it completes transactions with, and the writer that appends
 * markers to the partitions this broker leads. One thread ({@code kafka-txn-coordinator-N}) loads state
 * partitions, runs the timeouts and continues after replicated writes.
 */
public final class TransactionService implements AutoCloseable {
    private final KafkaBroker broker;
    private final TransactionConfig config;
    private final ScheduledExecutorService executor;
    /** Hand-overs {@link #schedule}d and not run yet, each with what tells its request it was dropped. */
    private final Map<Runnable, Runnable> pending = new java.util.concurrent.ConcurrentHashMap<>();
    private final TransactionCoordinator coordinator;
    private final TransactionStateManager state;
    private final TransactionViews views;
    private final TransactionMarkerWriter writer;
    private final TransactionMarkerSender sender;
    private final ImplicitPartitionAdder adder;
    private final FinalizedFeatures features;

    private TransactionService(KafkaBroker broker, TransactionConfig config) {
        this.broker = broker;
        this.config = config;
        int brokerId = broker.config().brokerId();
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kafka-txn-coordinator-" + brokerId);
            t.setDaemon(true);
            return t;
        });
        TransactionStateLog stateLog = new TransactionStateLog() {
            @Override
            public Partition ledPartition(int index) {
                Partition p = broker.logs().get(new TopicPartition(TopicNames.TRANSACTION_STATE, index));
                return p != null && p.isLeader() ? p : null;
            }

            @Override
            public void whenReplicated(Partition partition, long requiredOffset, long timeoutMs, Consumer<Short> then) {
                broker.whenReplicated(partition, requiredOffset, timeoutMs, then);
            }

            @Override
            public int partitionCount() {
                try {
                    TopicInfo topic = broker.metadata().topic(TopicNames.TRANSACTION_STATE);
                    return topic == null ? -1 : topic.partitionCount();
                } catch (ApiException e) {
                    // The metadata store is unreachable: the configured count stands in until it answers.
                    return -1;
                }
            }
        };
        this.state = new TransactionStateManager(config, stateLog, executor, System::currentTimeMillis);
        this.coordinator = new TransactionCoordinator(config, state, broker.producerIds(), executor,
                System::currentTimeMillis);
        this.views = new TransactionViews(state, System::currentTimeMillis);
        this.writer = new TransactionMarkerWriter(broker);
        this.sender = new TransactionMarkerSender(brokerId, broker.metadata(), writer, coordinator, executor,
                broker.interBrokerSecurity(), broker.config().interBrokerTimeouts());
        coordinator.markers(sender);
        this.adder = new ImplicitPartitionAdder(brokerId, coordinator, broker.metadata(), broker.interBrokerSecurity(),
                broker.config().interBrokerTimeouts());
        try {
            this.features = FinalizedFeatures.start(broker.metadata().store(), brokerId, config.transactionVersion(),
                    executor, snapshot -> state.transactionVersion(snapshot.level(Features.TRANSACTION_VERSION)),
                    broker::fail);
        } catch (FinalizedFeatures.IncompatibleFeaturesException e) {
            executor.shutdownNow();
            throw e;
        } catch (Exception e) {
            executor.shutdownNow();
            throw new IllegalStateException("Could not read the finalized features: " + e, e);
        }
    }

    /** Wires the transaction support of a broker whose metadata and producer ids are up. */
    public static TransactionService start(KafkaBroker broker, TransactionConfig config) {
        TransactionService service = new TransactionService(broker, config);
        service.coordinator.startSchedules();
        return service;
    }

    public TransactionCoordinator coordinator() {
        return coordinator;
    }

    /** DescribeTransactions and ListTransactions. */
    public TransactionViews views() {
        return views;
    }

    /** Transaction version 2's implicit AddPartitionsToTxn (Produce v12+, TxnOffsetCommit v5+). */
    public ImplicitPartitionAdder partitionAdder() {
        return adder;
    }

    public TransactionMarkerWriter markerWriter() {
        return writer;
    }

    public TransactionConfig config() {
        return config;
    }

    /**
     * Runs {@code task} after {@code delayMs} on the coordinator's thread (Kafka's broker scheduler): only for short
     * hand-overs, such as a Produce's next round of AddPartitionsToTxn, which goes on on a request handler thread.
     * When the broker stops first (the task refused now, or still waiting when the executor shuts down),
     * {@code dropped} runs instead, so the request waiting for it gives back its frame rather than leak it.
     */
    public void schedule(Runnable task, long delayMs, Runnable dropped) {
        Runnable once = new Runnable() {
            @Override
            public void run() {
                if (pending.remove(this) != null) task.run();
            }
        };
        pending.put(once, dropped);
        try {
            executor.schedule(once, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            if (pending.remove(once) != null) dropped.run();
        }
    }

    /** At stop: the hand-overs that will not run now are told so (see {@link #schedule}). */
    private void dropPending() {
        for (Runnable task : List.copyOf(pending.keySet())) {
            Runnable dropped = pending.remove(task);
            if (dropped != null) dropped.run();
        }
    }

    /**
     * {@code transaction.partition.verification.enable} in force: the dynamic value (this broker's, else the cluster
     * default) over the static one, read at each request as Kafka's ReplicaManager reads it, so a change applies to
     * the next Produce and TxnOffsetCommit.
     */
    public boolean partitionVerificationEnabled() {
        return DynamicBrokerConfig.booleanSetting(broker.topicConfigs().dynamic(),
                TransactionConfig.PARTITION_VERIFICATION_ENABLE, config.partitionVerificationEnable());
    }

    /** The finalized features (transaction.version) ApiVersions reports and UpdateFeatures changes. */
    public FinalizedFeatures features() {
        return features;
    }

    /** LeaderAndIsr made this broker the leader of a partition: a state partition's transactions load. */
    public void becameLeader(Partition partition) {
        if (partition.topicPartition().topic().equals(TopicNames.TRANSACTION_STATE)) {
            coordinator.onElection(partition.topicPartition().partition(), partition.leaderEpoch());
        }
    }

    /**
     * This broker resigned a state partition ({@code why}: it became a follower of it, or its replica here was
     * deleted): its transactions unload, as Kafka's onResignation, and its transactional ids answer NOT_COORDINATOR.
     */
    public void resigned(int statePartition, String why) {
        state.unload(statePartition, why);
    }

    /**
     * {@code __transaction_state}, created on first use as Kafka does when the first transactional producer looks for
     * its coordinator; returned as soon as it is written, its partitions still leaderless (see
     * {@code BrokerTopics.ensureInternalTopic}, which also answers COORDINATOR_NOT_AVAILABLE with fewer live brokers
     * than its replication factor, in Kafka's words).
     */
    public TopicInfo ensureStateTopic() {
        return broker.topics().ensureInternalTopic(TopicNames.TRANSACTION_STATE, config.stateLogReplicationFactor(),
                "transaction.state.log.replication.factor", this::createStateTopic);
    }

    /**
     * Writes {@code __transaction_state} with Kafka's configs for it (TransactionCoordinator.transactionTopicConfigs):
     * compacted, uncompressed, min.insync.replicas from transaction.state.log.min.isr.
     */
    public TopicInfo createStateTopic() throws Exception {
        Map<String, String> topicConfig = new LinkedHashMap<>();
        topicConfig.put("unclean.leader.election.enable", "false");
        topicConfig.put("compression.type", "uncompressed");
        topicConfig.put("cleanup.policy", "compact");
        topicConfig.put("min.insync.replicas", Integer.toString(config.stateLogMinIsr()));
        topicConfig.put("segment.bytes", Integer.toString(config.stateLogSegmentBytes()));
        return broker.topics().writeInternalTopic(TopicNames.TRANSACTION_STATE, config.stateLogPartitions(),
                config.stateLogReplicationFactor(), topicConfig);
    }

    @Override
    public void close() {
        adder.close();
        sender.close();
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dropPending();
    }
}
