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
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Makes committed offsets durable in the compacted {@code __consumer_offsets} topic in Kafka's record format, and
 * replays that topic into the coordinator at start-up.
 */
public final class OffsetsTopicStore implements GroupStore {
    private static final System.Logger LOG = System.getLogger(OffsetsTopicStore.class.getName());

    private final int partitionCount;
    /** The offsets topic partition by index, created when first needed. */
    private final IntFunction<Partition> partitions;

    public OffsetsTopicStore(int partitionCount, IntFunction<Partition> partitions) {
        this.partitionCount = partitionCount;
        this.partitions = partitions;
    }

    private void append(String groupId, List<byte[][]> keyValues) {
        Partition.AppendResult result = append(groupId, keyValues, RecordBatch.NO_PRODUCER_ID, (short) -1);
        if (result.error() != 0) {
            throw new IllegalStateException("cannot append the offsets of group " + groupId + ": "
                    + result.errorMessage());
        }
    }

    /**
     * Appends one batch; with a producer id it is that producer's transactional batch. Its sequence is -1, as the
     * sequence rules are for clients' batches: a coordinator's writes are ordered by its own lock.
     */
    private Partition.AppendResult append(String groupId, List<byte[][]> keyValues, long producerId,
                                          short producerEpoch) {
        Partition partition = partitions.apply(OffsetsTopicCodec.partitionFor(groupId, partitionCount));
        ByteBuf buf = ByteBufAllocator.DEFAULT.heapBuffer();
        try {
            long now = System.currentTimeMillis();
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
                if (producerId != RecordBatch.NO_PRODUCER_ID) {
                    builder.producer(producerId, producerEpoch, -1).transactional(true);
                }
                for (byte[][] kv : keyValues) builder.append(now, kv[0], kv[1]);
                builder.build();
            }
            return partition.append(buf, LogValidator.forCoordinator(now), 0);
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
                                               Map<TopicPartition, CommittedOffset> offsets) {
        List<byte[][]> records = new ArrayList<>();
        for (Map.Entry<TopicPartition, CommittedOffset> e : offsets.entrySet()) {
            records.add(new byte[][]{OffsetsTopicCodec.offsetKey(groupId, e.getKey()),
                    OffsetsTopicCodec.offsetValue(e.getValue())});
        }
        return append(groupId, records, producerId, producerEpoch).error();
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
    public void groupDeleted(String groupId) {
        List<byte[][]> records = new ArrayList<>();
        records.add(new byte[][]{OffsetsTopicCodec.groupKey(groupId), null});
        append(groupId, records);
    }

    /** Replays one offsets-topic partition into the coordinator, oldest record first. */
    public static void load(Partition partition, GroupCoordinator coordinator) throws IOException {
        load(partition, coordinator, (key, value) -> { });
    }

    /**
     * Replays one offsets-topic partition, oldest record first: offsets and group deletions into the classic
     * coordinator, every other non-transactional record (key and value, null for a tombstone) to {@code others}
     * (the consumer groups' records).
     */
    public static void load(Partition partition, GroupCoordinator coordinator,
                            java.util.function.BiConsumer<byte[], byte[]> others) throws IOException {
        long offset = partition.logStartOffset();
        int loaded = 0;
        // Transactional offset commits by producer id, applied by their COMMIT marker, dropped by their ABORT.
        Map<Long, List<PendingOffset>> pending = new LinkedHashMap<>();
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
                            if (key.partition() == null) {
                                if (!record.hasValue()) coordinator.loadGroupDeletion(key.groupId());
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
