package io.tandem.server.kafka.group;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.log.RecordBuffers;
import io.tandem.server.kafka.producer.VerificationGuard;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Makes committed offsets and classic groups (with their members) durable in the compacted
 * {@code __consumer_offsets} topic in Kafka's record format, and replays that topic into the coordinator when this
 * broker takes the lead of one of its partitions (at start-up, or when the coordinator moves here).
 */
public final class OffsetsTopicStore implements GroupStore {
    private static final System.Logger LOG = System.getLogger(OffsetsTopicStore.class.getName());

    /**
     * How long a group record's write waits for the in-sync replicas (Kafka's offsets.commit.timeout.ms default):
     * past it the write fails with REQUEST_TIMED_OUT.
     */
    public static final long COMMIT_TIMEOUT_MS = 5_000;

    private final int partitionCount;
    /** The offsets topic partition by index, created when first needed. */
    private final IntFunction<Partition> partitions;
    private final Replication replication;
    /**
     * Where a replicated write's outcome goes on: not on the thread that moved the high watermark, which holds a
     * purgatory operation's monitor, since the outcome takes the coordinator's lock, under which appends and
     * replication waits (taking such monitors) are made.
     */
    private final Executor callbacks;

    /** How the store waits for its appends to reach the in-sync replicas (the broker's produce purgatory). */
    @FunctionalInterface
    public interface Replication {
        /**
         * Calls {@code then} with NONE once {@code partition}'s high watermark reaches {@code requiredOffset},
         * NOT_LEADER_OR_FOLLOWER once this broker no longer leads it, or REQUEST_TIMED_OUT after {@code timeoutMs}.
         * A new leader epoch with this broker still leading (the controller shrank the ISR) is no failure, as for
         * Kafka's DelayedProduce; a lead lost and won back unloaded the groups meanwhile, so nobody waits then.
         */
        void whenReplicated(Partition partition, long requiredOffset, long timeoutMs, Consumer<Short> then);
    }

    public OffsetsTopicStore(int partitionCount, IntFunction<Partition> partitions, Replication replication,
                             Executor callbacks) {
        this.partitionCount = partitionCount;
        this.partitions = partitions;
        this.replication = replication;
        this.callbacks = callbacks;
    }

    private void append(String groupId, List<byte[][]> keyValues) {
        Partition.AppendResult result = append(groupId, keyValues, RecordBatch.NO_PRODUCER_ID, (short) -1);
        if (result.error() != 0) {
            throw new IllegalStateException("cannot append the offsets of group " + groupId + ": "
                    + result.errorMessage());
        }
    }

    private Partition partitionOf(String groupId) {
        return partitions.apply(OffsetsTopicCodec.partitionFor(groupId, partitionCount));
    }

    private Partition.AppendResult append(String groupId, List<byte[][]> keyValues, long producerId,
                                          short producerEpoch) {
        return append(partitionOf(groupId), keyValues, producerId, producerEpoch, null);
    }

    /**
     * Appends one batch; with a producer id it is that producer's transactional batch. Its sequence is -1, as the
     * sequence rules are for clients' batches: a coordinator's writes are ordered by its own lock.
     */
    private static Partition.AppendResult append(Partition partition, List<byte[][]> keyValues, long producerId,
                                                 short producerEpoch, VerificationGuard verificationGuard) {
        ByteBuf buf = RecordBuffers.allocate();
        try {
            long now = System.currentTimeMillis();
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
                if (producerId != RecordBatch.NO_PRODUCER_ID) {
                    builder.producer(producerId, producerEpoch, -1).transactional(true);
                }
                for (byte[][] kv : keyValues) builder.append(now, kv[0], kv[1]);
                builder.build();
            }
            return partition.append(RecordBuffers.asAppended(buf), LogValidator.forCoordinator(now), 0,
                    verificationGuard);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            buf.release();
        }
    }

    /**
     * Appends records of other coordinators' kinds (the consumer groups' records) in one batch on the group's offsets
     * partition; fails like an offset commit when this broker does not lead it.
     */
    public void appendRecords(String groupId, List<byte[][]> keyValues) {
        if (!keyValues.isEmpty()) append(groupId, keyValues);
    }

    @Override
    public short transactionalOffsetsCommitted(String groupId, long producerId, short producerEpoch,
                                               Map<TopicPartition, CommittedOffset> offsets,
                                               VerificationGuard verificationGuard) {
        List<byte[][]> records = new ArrayList<>();
        for (Map.Entry<TopicPartition, CommittedOffset> e : offsets.entrySet()) {
            records.add(new byte[][]{OffsetsTopicCodec.offsetKey(groupId, e.getKey()),
                    OffsetsTopicCodec.offsetValue(e.getValue())});
        }
        return append(partitionOf(groupId), records, producerId, producerEpoch, verificationGuard).error();
    }

    @Override
    public void offsetsCommitted(String groupId, Map<TopicPartition, CommittedOffset> offsets) {
        List<byte[][]> records = new ArrayList<>();
        for (Map.Entry<TopicPartition, CommittedOffset> e : offsets.entrySet()) {
            records.add(new byte[][]{OffsetsTopicCodec.offsetKey(groupId, e.getKey()),
                    OffsetsTopicCodec.offsetValue(e.getValue())});
        }
        append(groupId, records);
    }

    @Override
    public void offsetsDeleted(String groupId, Collection<TopicPartition> deleted) {
        List<byte[][]> records = new ArrayList<>();
        for (TopicPartition tp : deleted) records.add(new byte[][]{OffsetsTopicCodec.offsetKey(groupId, tp), null});
        append(groupId, records);
    }

    @Override
    public void groupDeleted(String groupId, Collection<TopicPartition> offsets) {
        List<byte[][]> records = new ArrayList<>();
        for (TopicPartition tp : offsets) records.add(new byte[][]{OffsetsTopicCodec.offsetKey(groupId, tp), null});
        records.add(new byte[][]{OffsetsTopicCodec.groupKey(groupId), null});
        append(groupId, records);
    }

    @Override
    public void groupRecordDeleted(String groupId) {
        append(groupId, List.<byte[][]>of(new byte[][]{OffsetsTopicCodec.groupKey(groupId), null}));
    }

    @Override
    public void groupStored(String groupId, GroupMetadataCodec.StoredGroup group, long nowMs, Written written) {
        List<byte[][]> records = List.<byte[][]>of(new byte[][]{OffsetsTopicCodec.groupKey(groupId),
                GroupMetadataCodec.encode(group)});
        Partition partition;
        Partition.AppendResult result;
        try {
            partition = partitionOf(groupId);
            result = append(partition, records, RecordBatch.NO_PRODUCER_ID, (short) -1, null);
        } catch (ApiException e) {
            written.done(storeGroupError(e.error()), nowMs);
            return;
        }
        if (result.error() != ErrorCodes.NONE) {
            written.done(storeGroupError(result.error()), nowMs);
            return;
        }
        whenReplicated(partition, result.lastOffset() + 1, written);
    }

    @Override
    public void whenWritten(String groupId, long nowMs, Written written) {
        Partition partition;
        try {
            partition = partitionOf(groupId);
        } catch (ApiException e) {
            written.done(storeGroupError(e.error()), nowMs);
            return;
        }
        whenReplicated(partition, partition.logEndOffset(), written);
    }

    private void whenReplicated(Partition partition, long requiredOffset, Written written) {
        replication.whenReplicated(partition, requiredOffset, COMMIT_TIMEOUT_MS, error -> {
            try {
                callbacks.execute(() -> written.done(storeGroupError(error), System.currentTimeMillis()));
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // The broker stops (its parked writes are answered after the callbacks' thread went): the group
                // coordinator already answered the members waiting for a group record, but an OffsetCommit or a
                // TxnOffsetCommit still holds its request frame until told; told here, on the stopping thread.
                written.done(ErrorCodes.NOT_COORDINATOR, System.currentTimeMillis());
            }
        });
    }

    /** What a member is answered when its group's record could not be written (Kafka's storeGroup callback). */
    public static short storeGroupError(short appendError) {
        if (appendError == ErrorCodes.NONE) return ErrorCodes.NONE;
        if (appendError == ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION || appendError == ErrorCodes.NOT_ENOUGH_REPLICAS
                || appendError == ErrorCodes.NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
            return ErrorCodes.COORDINATOR_NOT_AVAILABLE;
        }
        if (appendError == ErrorCodes.NOT_LEADER_OR_FOLLOWER || appendError == ErrorCodes.KAFKA_STORAGE_ERROR) {
            return ErrorCodes.NOT_COORDINATOR;
        }
        if (appendError == ErrorCodes.REQUEST_TIMED_OUT) return ErrorCodes.REBALANCE_IN_PROGRESS;
        if (appendError == ErrorCodes.MESSAGE_TOO_LARGE || appendError == ErrorCodes.RECORD_LIST_TOO_LARGE
                || appendError == ErrorCodes.INVALID_FETCH_SIZE) {
            return ErrorCodes.UNKNOWN_SERVER_ERROR;
        }
        return appendError;
    }

    /** Replays one offsets-topic partition into the coordinator, oldest record first. */
    public static void load(Partition partition, GroupCoordinator coordinator) throws IOException {
        load(partition, coordinator, (key, value) -> { });
    }

    /**
     * Replays one offsets-topic partition, oldest record first: offsets, group records and their tombstones into the
     * classic coordinator, every other non-transactional record (key and value, null for a tombstone) to {@code others}
     * (the consumer groups' records).
     */
    public static void load(Partition partition, GroupCoordinator coordinator,
                            java.util.function.BiConsumer<byte[], byte[]> others) throws IOException {
        long offset = partition.logStartOffset();
        int loaded = 0;
        // Transactional offset commits by producer id, applied by their COMMIT marker, dropped by their ABORT.
        Map<Long, List<PendingOffset>> pending = new LinkedHashMap<>();
        // The classic groups this partition holds, whose members' sessions start once it is read.
        Set<String> touched = new LinkedHashSet<>();
        while (offset < partition.logEndOffset()) {
            LogSlice slice = partition.log().read(offset, 1 << 20, Long.MAX_VALUE, true);
            if (slice.isEmpty()) break;
            ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
            try {
                for (RecordBatch batch : RecordBatches.of(bytes)) {
                    if (batch.isControl()) {
                        if (batch.isTransactional()) {
                            List<PendingOffset> done = pending.remove(batch.producerId());
                            if (done != null && isCommitMarker(batch)) {
                                for (PendingOffset p : done) coordinator.loadOffset(p.groupId(), p.partition(), p.offset());
                            }
                        }
                        continue;
                    }
                    try (RecordIterator records = batch.records()) {
                        while (records.hasNext()) {
                            Record record = records.next();
                            if (!record.hasKey()) continue;
                            byte[] keyBytes = ByteBufUtil.getBytes(record.key());
                            OffsetsTopicCodec.Key key = OffsetsTopicCodec.readKey(keyBytes);
                            if (key == null) {
                                if (!batch.isTransactional()) {
                                    others.accept(keyBytes, record.hasValue()
                                            ? ByteBufUtil.getBytes(record.value()) : null);
                                }
                                continue;
                            }
                            touched.add(key.groupId());
                            if (key.partition() == null) {
                                if (record.hasValue()) {
                                    coordinator.loadGroupMetadata(key.groupId(), GroupMetadataCodec.decode(
                                            ByteBufUtil.getBytes(record.value())));
                                } else {
                                    coordinator.loadGroupDeletion(key.groupId());
                                }
                            } else if (batch.isTransactional()) {
                                if (record.hasValue()) {
                                    pending.computeIfAbsent(batch.producerId(), id -> new ArrayList<>()).add(
                                            new PendingOffset(key.groupId(), key.partition(), OffsetsTopicCodec
                                                    .readOffsetValue(ByteBufUtil.getBytes(record.value()))));
                                }
                            } else {
                                coordinator.loadOffset(key.groupId(), key.partition(), record.hasValue()
                                        ? OffsetsTopicCodec.readOffsetValue(ByteBufUtil.getBytes(record.value()))
                                        : null);
                                loaded++;
                            }
                        }
                    }
                }
            } finally {
                bytes.release();
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
        // Transactions still open: their offsets wait for the marker, as if just committed.
        for (Map.Entry<Long, List<PendingOffset>> e : pending.entrySet()) {
            for (PendingOffset p : e.getValue()) {
                coordinator.loadPendingTransactionalOffset(p.groupId(), e.getKey(), p.partition(), p.offset());
            }
        }
        // As Kafka's onGroupLoaded: every loaded member's session timer starts now, when the partition is read.
        coordinator.groupsLoaded(touched, System.currentTimeMillis());
        if (loaded > 0) {
            LOG.log(System.Logger.Level.INFO, "Loaded {0} offset records from {1}", loaded, partition.topicPartition());
        }
    }

    private record PendingOffset(String groupId, TopicPartition partition, CommittedOffset offset) {
    }

    private static boolean isCommitMarker(RecordBatch batch) {
        try (RecordIterator records = batch.records()) {
            return records.hasNext() && ControlRecordType.parse(records.next().key()) == ControlRecordType.COMMIT;
        }
    }
}
