package io.tandem.kafka.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.record.Header;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads partitions from given positions with Fetch (read_uncommitted, no fetch session), one leader at a time.
 * Control batches (transaction markers) are skipped; records before a position inside a batch are dropped, since a
 * fetch may start inside a batch and the broker then returns the whole batch.
 */
public final class RecordFetcher {
    /** Bytes asked for per partition and per response: Kafka's consumer defaults (max.partition.fetch.bytes...). */
    private static final int PARTITION_BYTES_MAX = 1024 * 1024;
    private static final int RESPONSE_BYTES_MAX = 50 * 1024 * 1024;

    private final KafkaClient client;
    private final KafkaAdmin admin;
    private final Map<TopicPartition, Long> positions = new TreeMap<>();
    private final Map<TopicPartition, Long> highWatermarks = new TreeMap<>();
    private Map<String, TopicInfo> topics;

    public RecordFetcher(KafkaClient client) {
        this.client = client;
        this.admin = new KafkaAdmin(client);
    }

    /** Reads {@code tp} from {@code offset} on. */
    public void seek(TopicPartition tp, long offset) {
        positions.put(tp, offset);
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
            Map<String, FetchRequest.FetchTopic> byTopic = new TreeMap<>();
            for (TopicPartition tp : partitions) {
                byTopic.computeIfAbsent(tp.topic(), t -> new FetchRequest.FetchTopic().setTopic(t)).partitions
                        .add(new FetchRequest.FetchPartition().setPartition(tp.partition())
                                .setFetchOffset(positions.get(tp)).setPartitionMaxBytes(PARTITION_BYTES_MAX));
            }
            int waitMs = Math.toIntExact(Math.min(Integer.MAX_VALUE, maxWait.toMillis()));
            FetchRequest request = new FetchRequest().setReplicaId(-1).setMaxWaitMs(waitMs).setMinBytes(1)
                    .setMaxBytes(RESPONSE_BYTES_MAX).setTopics(new ArrayList<>(byTopic.values()));
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
                    positions.put(tp, readRecords(tp, partition.records, position, records));
                }
            }
        }
        return first;
    }

    /** Appends the records at or after {@code position} and returns the next position. */
    private static long readRecords(TopicPartition tp, ByteBuf data, long position, List<ConsumedRecord> out) {
        long next = position;
        for (RecordBatch batch : RecordBatches.of(data)) {
            batch.ensureValid();
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
}
