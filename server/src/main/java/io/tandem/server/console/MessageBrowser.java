package io.tandem.server.console;

import io.tandem.kafka.client.ConsumedRecord;
import io.tandem.kafka.client.KafkaAdmin;
import io.tandem.kafka.client.OffsetSpec;
import io.tandem.kafka.client.RecordFetcher;
import io.tandem.kafka.client.RecordHeader;
import io.tandem.kafka.client.TopicInfo;
import io.tandem.kafka.client.TopicPartition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The message browser: up to {@link ConsoleLimits#MESSAGES_MAX} records of one partition from an offset (by default
 * the last {@code count} before the high watermark), read with Fetch as {@code tandem consume} reads them. Keys, values
 * and headers are cut to their shown limits ({@link ShownBytes}), so one answer stays small whatever the records hold.
 */
final class MessageBrowser {
    /** How long one fetch round waits for data the partition does not have yet. */
    private static final Duration POLL_WAIT = Duration.ofMillis(100);

    private final KafkaView kafka;

    MessageBrowser(KafkaView kafka) {
        this.kafka = kafka;
    }

    /**
     * @param offset the first offset to show, or null for the last {@code count} records
     */
    Map<String, Object> browse(String topic, int partition, Long offset, int count, ShownBytes.Format format) {
        if (count < 1 || count > ConsoleLimits.MESSAGES_MAX) {
            throw ApiError.badRequest("count must be 1 to " + ConsoleLimits.MESSAGES_MAX + ", not " + count);
        }
        if (offset != null && offset < 0) throw ApiError.badRequest("offset must not be negative");
        return kafka.withClient(client -> {
            KafkaAdmin admin = new KafkaAdmin(client);
            TopicInfo info = admin.describeTopic(topic);
            if (info.partition(partition) == null) {
                throw ApiError.notFound("topic " + topic + " has no partition " + partition + " (it has "
                        + info.partitions().size() + ")");
            }
            TopicPartition tp = new TopicPartition(topic, partition);
            long logStart = admin.listOffsets(List.of(tp), OffsetSpec.EARLIEST).get(tp);
            long highWatermark = admin.listOffsets(List.of(tp), OffsetSpec.LATEST).get(tp);
            long from = offset != null ? Math.max(offset, logStart) : Math.max(logStart, highWatermark - count);
            long until = Math.min(highWatermark, from + count);
            List<Map<String, Object>> records = new ArrayList<>();
            long next = from;
            if (from < until) {
                RecordFetcher fetcher = new RecordFetcher(client);
                fetcher.seek(tp, from);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ConsoleLimits.FETCH_WAIT_MS_MAX);
                // Offsets may have gaps (compaction, transaction markers): stop at the high watermark seen at the
                // start, at the count, or when the time is up, whichever comes first.
                while (records.size() < count && fetcher.positions().get(tp) < until
                        && System.nanoTime() < deadline) {
                    for (ConsumedRecord record : fetcher.poll(POLL_WAIT)) {
                        if (records.size() >= count || record.offset() >= until) break;
                        records.add(toJson(record, format));
                        next = record.offset() + 1;
                    }
                }
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("topic", topic);
            json.put("partition", partition);
            json.put("partitions", info.partitions().size());
            json.put("logStartOffset", logStart);
            json.put("highWatermark", highWatermark);
            json.put("from", from);
            json.put("nextOffset", next);
            json.put("records", records);
            return json;
        });
    }

    private static Map<String, Object> toJson(ConsumedRecord record, ShownBytes.Format format) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("offset", record.offset());
        json.put("timestamp", record.timestamp());
        json.put("timestampType", record.timestampType());
        json.put("key", ShownBytes.of(record.key(), ConsoleLimits.VALUE_BYTES_SHOWN_MAX, format));
        json.put("value", ShownBytes.of(record.value(), ConsoleLimits.VALUE_BYTES_SHOWN_MAX, format));
        List<Map<String, Object>> headers = new ArrayList<>();
        for (RecordHeader header : record.headers()) {
            if (headers.size() >= ConsoleLimits.HEADERS_SHOWN_MAX) break;
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("key", header.key());
            h.put("value", ShownBytes.of(header.value(), ConsoleLimits.HEADER_BYTES_SHOWN_MAX, format));
            headers.add(h);
        }
        json.put("headers", headers);
        json.put("headerCount", record.headers().size());
        return json;
    }
}
