package io.tandem.kafka.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.Header;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads partitions from given positions with Fetch (no fetch session), one leader at a time, read_uncommitted or
 * read_committed. Control batches (transaction markers) are skipped; records before a position inside a batch are
 * dropped, since a fetch may start inside a batch and the broker then returns the whole batch. Under read_committed
 * the broker answers up to the last stable offset with the aborted transactions of that range, and the batches of
 * an aborted transaction are dropped as Kafka's consumer drops them (its CompletedFetch): a producer's transactional
 * batches are skipped from its aborted transaction's first offset up to its ABORT marker.
 */
public final class RecordFetcher {
    /** Bytes asked for per partition and per response: Kafka's consumer defaults (max.partition.fetch.bytes...). */
    public static final int PARTITION_BYTES_MAX = 1024 * 1024;
    public static final int RESPONSE_BYTES_MAX = 50 * 1024 * 1024;

    /** Fetch's isolation_level values. */
    public static final byte READ_UNCOMMITTED = 0;
    public static final byte READ_COMMITTED = 1;
    /** The first Fetch version with isolation_level. */
    private static final short ISOLATION_LEVEL_MIN_VERSION = 4;

    private final KafkaClient client;
    private final KafkaAdmin admin;
    private final byte isolationLevel;
    private final Map<TopicPartition, Long> positions = new TreeMap<>();
    private final Map<TopicPartition, Long> highWatermarks = new TreeMap<>();
    private Map<String, TopicInfo> topics;
    private int partitionBytesMax = PARTITION_BYTES_MAX;
    private int responseBytesMax = RESPONSE_BYTES_MAX;
    private int minBytes = 1;
    private Duration maxWaitCap;

    public RecordFetcher(KafkaClient client) {
        this(client, READ_UNCOMMITTED);
    }

    /** A fetcher reading at {@code isolationLevel}: {@link #READ_UNCOMMITTED} or {@link #READ_COMMITTED}. */
    public RecordFetcher(KafkaClient client, byte isolationLevel) {
        if (isolationLevel != READ_UNCOMMITTED && isolationLevel != READ_COMMITTED) {
            throw new IllegalArgumentException("unknown isolation level " + isolationLevel);
        }
        this.client = client;
        this.admin = new KafkaAdmin(client);
        this.isolationLevel = isolationLevel;
    }

    /** Reads {@code tp} from {@code offset} on. */
    public void seek(TopicPartition tp, long offset) {
        positions.put(tp, offset);
    }

    /** Stops reading every partition (a group member's partitions were revoked). */
    public void unassign() {
        positions.clear();
        highWatermarks.clear();
        topics = null;
    }

    /**
     * Kafka consumer's fetch settings: fetch.min.bytes, fetch.max.bytes, max.partition.fetch.bytes and
     * fetch.max.wait.ms (null leaves each poll's own wait alone; otherwise a poll waits at most this long).
     */
    public void limits(int minBytes, int responseBytesMax, int partitionBytesMax, Duration maxWait) {
        if (minBytes < 0 || responseBytesMax <= 0 || partitionBytesMax <= 0) {
            throw new IllegalArgumentException("fetch byte limits must be positive");
        }
        this.minBytes = minBytes;
        this.responseBytesMax = responseBytesMax;
        this.partitionBytesMax = partitionBytesMax;
        this.maxWaitCap = maxWait;
    }

    /** The next offset to read per partition. */
    public Map<TopicPartition, Long> positions() {
        return Map.copyOf(positions);
    }

    /** The high watermark each partition had at its last fetch. */
    public Map<TopicPartition, Long> highWatermarks() {
        return Map.copyOf(highWatermarks);
    }

    /**
     * One round of fetches: each leader waits up to {@code maxWait} for data. Returns the records read, in offset order
     * per partition, and advances the positions past them.
     */
    public List<ConsumedRecord> poll(Duration maxWait) {
        if (positions.isEmpty()) {
            return List.of();
        }
        if (topics == null) {
            topics = admin.topicsOf(positions.keySet());
        }
        Map<Integer, List<TopicPartition>> byLeader = new TreeMap<>();
        try {
            for (TopicPartition tp : positions.keySet()) {
                byLeader.computeIfAbsent(KafkaAdmin.leaderOf(topics, tp), k -> new ArrayList<>()).add(tp);
            }
        } catch (KafkaClientException e) {
            topics = null;
            throw e;
        }
        List<ConsumedRecord> records = new ArrayList<>();
        for (Map.Entry<Integer, List<TopicPartition>> entry : byLeader.entrySet()) {
            // Once data has arrived, the remaining leaders are only asked for what they have now.
            Duration wait = records.isEmpty() ? maxWait : Duration.ZERO;
            if (maxWaitCap != null && wait.compareTo(maxWaitCap) > 0) {
                wait = maxWaitCap;
            }
            KafkaClientException error = fetchFrom(entry.getKey(), entry.getValue(), wait, records);
            if (error != null) {
                // Metadata is looked up again next time. Records already read (their positions have moved on) are
                // returned first; a lasting error shows again on the next poll.
                topics = null;
                if (records.isEmpty()) {
                    throw error;
                }
                return records;
            }
        }
        return records;
    }

    /** Appends what {@code leader} returns to {@code records}; returns the first error instead of throwing it. */
    private KafkaClientException fetchFrom(int leader, List<TopicPartition> partitions, Duration maxWait,
                                           List<ConsumedRecord> records) {
        FetchResponse response;
        try {
            KafkaConnection connection = client.connection(leader);
            short version = connection.version(ApiKey.FETCH);
            if (isolationLevel == READ_COMMITTED && version < ISOLATION_LEVEL_MIN_VERSION) {
                return new KafkaClientException(Errors.UNSUPPORTED_VERSION, "broker " + leader
                        + " answers Fetch only up to version " + version + ", before read_committed (version "
                        + ISOLATION_LEVEL_MIN_VERSION + ")");
            }
            Map<String, FetchRequest.FetchTopic> byTopic = new TreeMap<>();
            for (TopicPartition tp : partitions) {
                byTopic.computeIfAbsent(tp.topic(), t -> new FetchRequest.FetchTopic().setTopic(t)).partitions
                        .add(new FetchRequest.FetchPartition().setPartition(tp.partition())
                                .setFetchOffset(positions.get(tp)).setPartitionMaxBytes(partitionBytesMax));
            }
            int waitMs = Math.toIntExact(Math.min(Integer.MAX_VALUE, maxWait.toMillis()));
            FetchRequest request = new FetchRequest().setReplicaId(-1).setMaxWaitMs(waitMs).setMinBytes(minBytes)
                    .setMaxBytes(responseBytesMax).setIsolationLevel(isolationLevel)
                    .setTopics(new ArrayList<>(byTopic.values()));
            response = connection.send(request, version, client.requestTimeout().plus(maxWait));
            KafkaClientException.check(response.errorCode, "Fetch from broker " + leader, null);
        } catch (KafkaClientException e) {
            return e;
        }
        KafkaClientException first = null;
        for (FetchResponse.FetchableTopicResponse topic : response.responses) {
            for (FetchResponse.PartitionData partition : topic.partitions) {
                TopicPartition tp = new TopicPartition(topic.topic, partition.partitionIndex);
                Long position = positions.get(tp);
                if (position == null) {
                    continue;
                }
                KafkaClientException error = null;
                if (partition.errorCode == Errors.OFFSET_OUT_OF_RANGE.code()) {
                    error = new KafkaClientException(Errors.OFFSET_OUT_OF_RANGE, "offset " + position
                            + " is out of range for " + tp + " (log start " + partition.logStartOffset
                            + ", high watermark " + partition.highWatermark + ")");
                } else if (partition.errorCode != 0) {
                    Errors code = Errors.forCode(partition.errorCode);
                    error = new KafkaClientException(code, KafkaClientException.describe(code, "fetching " + tp, null));
                }
                if (error != null) {
                    first = first == null ? error : first;
                    continue;
                }
                highWatermarks.put(tp, partition.highWatermark);
                if (partition.records != null) {
                    AbortedRanges aborted = isolationLevel == READ_COMMITTED
                            ? new AbortedRanges(partition.abortedTransactions) : null;
                    positions.put(tp, readRecords(tp, partition.records, position, aborted, records));
                }
            }
        }
        return first;
    }

    /**
     * Appends the records at or after {@code position} and returns the next position; {@code aborted} (null under
     * read_uncommitted) drops the batches of aborted transactions.
     */
    private static long readRecords(TopicPartition tp, ByteBuf data, long position, AbortedRanges aborted,
                                     List<ConsumedRecord> out) {
        long next = position;
        for (RecordBatch batch : RecordBatches.of(data)) {
            batch.ensureValid();
            if (aborted != null && aborted.skips(batch)) {
                next = Math.max(next, batch.nextOffset());
                continue;
            }
            if (batch.isControl()) {
                next = Math.max(next, batch.nextOffset());
                continue;
            }
            String timestampType = batch.timestampType().configName;
            try (RecordIterator records = batch.records()) {
                while (records.hasNext()) {
                    Record record = records.next();
                    if (record.offset() < position) {
                        continue;
                    }
                    List<RecordHeader> headers = new ArrayList<>(record.headerCount());
                    for (Header header : record.headers()) {
                        headers.add(new RecordHeader(header.key(), bytes(header.value())));
                    }
                    out.add(new ConsumedRecord(tp.topic(), tp.partition(), record.offset(), record.timestamp(),
                            timestampType, bytes(record.key()), bytes(record.value()), List.copyOf(headers)));
                }
            }
            next = Math.max(next, batch.nextOffset());
        }
        return next;
    }

    private static byte[] bytes(ByteBuf buf) {
        return buf == null ? null : ByteBufUtil.getBytes(buf);
    }

    /**
     * The aborted transactions of one fetched range, walked in offset order as Kafka's consumer does: a producer
     * counts as aborting from its aborted transaction's first offset until its ABORT marker.
     */
    private static final class AbortedRanges {
        private final PriorityQueue<FetchResponse.AbortedTransaction> pending =
                new PriorityQueue<>(Comparator.comparingLong((FetchResponse.AbortedTransaction t) -> t.firstOffset));
        private final Set<Long> abortingProducers = new HashSet<>();

        AbortedRanges(List<FetchResponse.AbortedTransaction> aborted) {
            if (aborted != null) {
                pending.addAll(aborted);
            }
        }

        /** Whether {@code batch} belongs to an aborted transaction, or is the ABORT marker that ends one. */
        boolean skips(RecordBatch batch) {
            if (!batch.hasProducerId()) {
                return false;
            }
            while (!pending.isEmpty() && pending.peek().firstOffset <= batch.lastOffset()) {
                abortingProducers.add(pending.poll().producerId);
            }
            if (batch.isControl()) {
                if (isAbortMarker(batch)) {
                    abortingProducers.remove(batch.producerId());
                }
                return false;
            }
            return batch.isTransactional() && abortingProducers.contains(batch.producerId());
        }

        private static boolean isAbortMarker(RecordBatch batch) {
            try (RecordIterator records = batch.records()) {
                return records.hasNext() && ControlRecordType.parse(records.next().key()) == ControlRecordType.ABORT;
            }
        }
    }
}
