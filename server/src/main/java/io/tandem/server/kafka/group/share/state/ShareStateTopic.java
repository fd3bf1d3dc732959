package io.tandem.server.kafka.group.share.state;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.log.RecordBuffers;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The broker side of {@code __share_group_state}: creates the topic on first use (cleanup policy delete, as Kafka
 * does), appends the share coordinator's records to the partitions this broker leads, prunes what no share-partition
 * needs, and replays a partition into the coordinator when this broker becomes its leader.
 */
public final class ShareStateTopic implements ShareStateCoordinator.StateLog {
    private static final System.Logger LOG = System.getLogger(ShareStateTopic.class.getName());
    private final KafkaBroker broker;
    private final ShareCoordinatorConfig config;

    public ShareStateTopic(KafkaBroker broker, ShareCoordinatorConfig config) {
        this.broker = broker;
        this.config = config;
    }

    @Override
    public int partitionCount() {
        TopicInfo topic = broker.metadata().topic(TopicNames.SHARE_GROUP_STATE);
        return topic == null ? config.stateTopicPartitions() : topic.partitionCount();
    }

    @Override
    public boolean leads(int index) {
        TopicInfo topic = broker.metadata().topic(TopicNames.SHARE_GROUP_STATE);
        return topic != null && broker.isLeader(topic, index);
    }

    @Override
    public long append(int index, List<byte[][]> keyValues) {
        // Never created here: an append is for a partition this broker already leads, so the topic exists; a write
        // under the coordinators' locks goes no further than the led partition.
        Partition partition = ledPartition(index);
        ByteBuf buf = RecordBuffers.allocate();
        try {
            long now = System.currentTimeMillis();
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
                for (byte[][] kv : keyValues) builder.append(now, kv[0], kv[1]);
                builder.build();
            }
            // acks=all, as Kafka's coordinator runtime appends: refused when the ISR is below min.insync.replicas
            // (COORDINATOR_NOT_AVAILABLE, as Kafka maps NOT_ENOUGH_REPLICAS), and answered once replicated.
            Partition.AppendResult result = partition.append(RecordBuffers.asAppended(buf),
                    LogValidator.forCoordinator(now), config.stateTopicMinIsr());
            if (result.error() == NOT_ENOUGH_REPLICAS) {
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, result.errorMessage());
            }
            if (result.error() == NOT_LEADER_OR_FOLLOWER) {
                throw new ApiException(NOT_COORDINATOR, result.errorMessage());
            }
            if (result.error() != NONE) throw new ApiException(result.error(), result.errorMessage());
            return result.baseOffset();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            buf.release();
        }
    }

    @Override
    public long endOffset(int index) {
        return ledPartition(index).logEndOffset();
    }

    @Override
    public void whenCommitted(int index, long offset, Consumer<Short> then) {
        TopicInfo topic = broker.metadata().topic(TopicNames.SHARE_GROUP_STATE);
        Partition partition = topic != null && broker.isLeader(topic, index) ? broker.localPartition(topic, index) : null;
        if (partition == null) {
            then.accept(NOT_COORDINATOR);
            return;
        }
        // Waits out a new leader epoch under this same leader (the controller shrank or grew the ISR): the log keeps
        // the records, and Kafka's coordinator runtime fails a pending write only when the leader changes. A leader
        // change unloads the coordinator's partition, which the coordinator checks when this completes. Kafka's
        // CoordinatorOperationExceptionHelper: a moved leader is NOT_COORDINATOR (the persister looks the coordinator
        // up again), a timed-out replication COORDINATOR_NOT_AVAILABLE.
        broker.whenReplicated(partition, offset, config.writeTimeoutMs(), error -> then.accept(error == NONE ? NONE
                : error == NOT_LEADER_OR_FOLLOWER ? NOT_COORDINATOR : COORDINATOR_NOT_AVAILABLE));
    }

    private Partition ledPartition(int index) {
        TopicInfo topic = broker.metadata().topic(TopicNames.SHARE_GROUP_STATE);
        if (topic == null) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "the share group state topic does not exist yet");
        }
        Partition partition = broker.isLeader(topic, index) ? broker.localPartition(topic, index) : null;
        if (partition == null) {
            throw new ApiException(NOT_COORDINATOR, "this broker does not lead " + TopicNames.SHARE_GROUP_STATE + "-"
                    + index);
        }
        return partition;
    }

    @Override
    public void prune(int index, long offset) {
        TopicInfo topic = broker.metadata().topic(TopicNames.SHARE_GROUP_STATE);
        Partition partition = topic != null && broker.isLeader(topic, index) ? broker.localPartition(topic, index) : null;
        if (partition == null) return;
        // Never past the high watermark: followers may not have the snapshot yet.
        long before = Math.min(offset, partition.highWatermark());
        if (before <= partition.logStartOffset()) return;
        try {
            partition.log().deleteRecordsBefore(before);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot prune " + partition.topicPartition() + ": " + e.getMessage());
        }
    }

    /**
     * {@code __share_group_state}, created on first use and returned as soon as it is written, its partitions still
     * leaderless; with fewer live brokers than its replication factor that is COORDINATOR_NOT_AVAILABLE, as for the
     * other internal topics (see {@code BrokerTopics.ensureInternalTopic}).
     */
    public TopicInfo ensureTopic() {
        return broker.topics().ensureInternalTopic(TopicNames.SHARE_GROUP_STATE, config.stateTopicReplicationFactor(),
                "share.coordinator.state.topic.replication.factor", this::createTopic);
    }

    /**
     * Writes {@code __share_group_state} with Kafka's configs for it
     * (ShareCoordinatorService.shareGroupStateTopicConfigs, as KIP-932 defines them): delete, not compact, since a
     * share-partition's updates share one key and each holds only what changed; old records are pruned below the
     * snapshots instead, and never deleted by time.
     */
    public TopicInfo createTopic() throws Exception {
        Map<String, String> topicConfig = new LinkedHashMap<>();
        topicConfig.put("cleanup.policy", "delete");
        topicConfig.put("retention.ms", "-1");
        topicConfig.put("compression.type", "producer");
        topicConfig.put("min.insync.replicas", Short.toString(config.stateTopicMinIsr()));
        topicConfig.put("segment.bytes", Integer.toString(config.stateTopicSegmentBytes()));
        return broker.topics().writeInternalTopic(TopicNames.SHARE_GROUP_STATE, config.stateTopicPartitions(),
                config.stateTopicReplicationFactor(), topicConfig);
    }

    /** Replays one state partition into the coordinator, oldest record first (it was just elected its leader). */
    public static void load(Partition partition, ShareStateCoordinator coordinator) throws IOException {
        coordinator.unload(partition.topicPartition().partition());
        long offset = partition.logStartOffset();
        int loaded = 0;
        while (offset < partition.logEndOffset()) {
            LogSlice slice = partition.log().read(offset, 1 << 20, Long.MAX_VALUE, true);
            if (slice.isEmpty()) break;
            ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
            try {
                for (RecordBatch batch : RecordBatches.of(bytes)) {
                    if (batch.isControl()) continue;
                    try (RecordIterator records = batch.records()) {
                        while (records.hasNext()) {
                            Record record = records.next();
                            if (!record.hasKey()) continue;
                            coordinator.replay(record.offset(), ByteBufUtil.getBytes(record.key()),
                                    record.hasValue() ? ByteBufUtil.getBytes(record.value()) : null);
                            loaded++;
                        }
                    }
                }
            } finally {
                bytes.release();
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
        if (loaded > 0) {
            LOG.log(System.Logger.Level.INFO, "Loaded {0} share state records from {1}", loaded,
                    partition.topicPartition());
        }
    }

    public static boolean isStatePartition(TopicPartition tp) {
        return tp.topic().equals(TopicNames.SHARE_GROUP_STATE);
    }
}
