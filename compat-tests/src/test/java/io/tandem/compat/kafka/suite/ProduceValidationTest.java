package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.ProduceResponse.PartitionProduceResponse;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.EndTxnMarker;
import io.tandem.kafka.wire.record.Header;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-built and hand-damaged produce requests (raw frames, as no client sends them on purpose) answered with the
 * same error code, error message and record errors by Apache Kafka and by Tandem, and appending nothing. Damage
 * behind the CRC is re-signed with a valid CRC, so it is the records that the broker must judge.
 */
@ExtendWith(KafkaTargetExtension.class)
class ProduceValidationTest {
    private static final short PRODUCE_VERSION = 9;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** In {@link #keyValueHeader}'s one record: where its fields sit. */
    private static final int RECORD_LENGTH_AT = RecordBatch.RECORDS_OFFSET;
    private static final int KEY_LENGTH_AT = RecordBatch.RECORDS_OFFSET + 4;
    private static final int HEADER_COUNT_AT = RecordBatch.RECORDS_OFFSET + 8;
    private static final int HEADER_KEY_LENGTH_AT = RecordBatch.RECORDS_OFFSET + 9;
    private static final long HOUR_MS = 3_600_000L;

    /**
     * A produce and Kafka's answer: the code, the exact message (null: none) or its start when it holds times, and the
     * batch index of each record error.
     */
    record Case(String name, Map<String, String> topicConfigs, short version, LongFunction<ByteBuf> records,
                Errors error, String message, boolean messageIsPrefix, List<Integer> recordErrorIndexes) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                refused("offset delta below the record count", now -> batchOf(now, "a", "b", "c"),
                        b -> b.setInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 1)),
                refused("negative offset range", now -> batchOf(now, "a"),
                        b -> b.setInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, -1)),
                refused("no records counted", now -> batchOf(now, "a"), b -> b.setInt(RecordBatch.RECORD_COUNT_OFFSET, 0)),
                refused("key longer than its record", now -> keyValueHeader(now),
                        b -> b.setByte(KEY_LENGTH_AT, zigzag(50))),
                refused("record longer than the batch", now -> keyValueHeader(now),
                        b -> b.setByte(RECORD_LENGTH_AT, zigzag(60))),
                refused("more headers than present", now -> keyValueHeader(now),
                        b -> b.setByte(HEADER_COUNT_AT, zigzag(5))),
                refused("negative header key length", now -> keyValueHeader(now),
                        b -> b.setByte(HEADER_KEY_LENGTH_AT, zigzag(-2))),
                refused("varint that never ends", now -> keyValueHeader(now), b -> {
                    for (int i = KEY_LENGTH_AT; i < b.writerIndex(); i++) b.setByte(i, 0xFF);
                }),
                refused("a byte after the declared records", now -> {
                    ByteBuf out = keyValueHeader(now);
                    out.writeByte(0);
                    return out;
                }, b -> b.setInt(RecordBatch.LENGTH_OFFSET, b.getInt(RecordBatch.LENGTH_OFFSET) + 1)),
                new Case("two batches", Map.of(), PRODUCE_VERSION, now -> {
                    ByteBuf both = batchOf(now, "a");
                    both.writeBytes(batchOf(now, "b"));
                    return both;
                }, Errors.INVALID_RECORD, null, false, List.of()),
                // Not transactional: Kafka refuses transactional records without a transactional id first.
                refused("control batch", now -> {
                    ByteBuf out = Unpooled.buffer();
                    try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).producer(7, (short) 0, -1)) {
                        builder.appendEndTxnMarker(now, new EndTxnMarker(ControlRecordType.COMMIT, 0));
                        builder.build();
                    }
                    return out;
                }, b -> b.setShort(RecordBatch.ATTRIBUTES_OFFSET, b.getShort(RecordBatch.ATTRIBUTES_OFFSET) & ~0x10)),
                new Case("gzip payload that does not decompress", Map.of(), PRODUCE_VERSION, now -> {
                    ByteBuf out = Unpooled.buffer();
                    try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(CompressionType.GZIP)) {
                        builder.append(now, "k".getBytes(), "v".repeat(100).getBytes());
                        builder.build();
                    }
                    resign(out, b -> b.setInt(RecordBatch.RECORDS_OFFSET + 12, 0xDEADBEEF));
                    return out;
                }, Errors.UNKNOWN_SERVER_ERROR, null, false, List.of()),
                new Case("batch above max.message.bytes", Map.of("max.message.bytes", "200"), PRODUCE_VERSION,
                        now -> batchOf(now, "x".repeat(300)), Errors.MESSAGE_TOO_LARGE, null, false, List.of()),
                new Case("bad CRC on a recompressing topic", Map.of("compression.type", "gzip"), PRODUCE_VERSION,
                        now -> {
                            ByteBuf out = batchOf(now, "flipped");
                            out.setByte(out.writerIndex() - 1, out.getByte(out.writerIndex() - 1) ^ 1);
                            return out;
                        }, Errors.CORRUPT_MESSAGE, null, false, List.of()),
                new Case("timestamp before message.timestamp.before.max.ms",
                        Map.of("message.timestamp.before.max.ms", "3600000"), PRODUCE_VERSION, now -> {
                            ByteBuf out = Unpooled.buffer();
                            try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
                                builder.append(now, null, "fine".getBytes());
                                builder.append(now - 2 * HOUR_MS, null, "old".getBytes());
                                builder.build();
                            }
                            return out;
                        }, Errors.INVALID_TIMESTAMP, "One or more records have been rejected due to invalid timestamp",
                        false, List.of(1)),
                new Case("producer-set LogAppendTime", Map.of("message.timestamp.type", "LogAppendTime"),
                        PRODUCE_VERSION, now -> {
                            ByteBuf out = Unpooled.buffer();
                            try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).logAppendTime(now)) {
                                builder.append(now, "k".getBytes(), "value".getBytes());
                                builder.build();
                            }
                            return out;
                        }, Errors.INVALID_TIMESTAMP, "One or more records have been rejected due to invalid timestamp",
                        false, List.of(0)),
                new Case("keyless record on a compacted topic", Map.of("cleanup.policy", "compact"), PRODUCE_VERSION,
                        now -> {
                            ByteBuf out = Unpooled.buffer();
                            try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
                                builder.append(now, "k".getBytes(), "v".getBytes());
                                builder.append(now, null, "v".getBytes());
                                builder.build();
                            }
                            return out;
                        }, Errors.INVALID_RECORD, "One or more records have been rejected due to 1 record errors in"
                        + " total, and only showing the first three errors at most: [RecordError(batchIndex=1,"
                        + " message='Compacted topic cannot accept message without key in topic partition ",
                        true, List.of(1))
        ).map(Arguments::of);
    }

    /** A batch built from the time, damaged, re-signed; Kafka refuses it without a message or record errors. */
    private static Case refused(String name, LongFunction<ByteBuf> build, Consumer<ByteBuf> damage) {
        return new Case(name, Map.of(), PRODUCE_VERSION, now -> {
            ByteBuf out = build.apply(now);
            resign(out, damage);
            return out;
        }, Errors.INVALID_RECORD, null, false, List.of());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldAnswerAsKafkaAndAppendNothing(Case c, KafkaTarget target) throws Exception {
        String topic = unique("validate");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1, c.topicConfigs());
            PartitionProduceResponse response = produce(target, topic, c.version(),
                    c.records().apply(System.currentTimeMillis()));
            assertEquals(c.error().code(), response.errorCode,
                    target.name() + " answered " + Errors.forCode(response.errorCode));
            if (c.message() == null) {
                assertNull(response.errorMessage);
            } else if (c.messageIsPrefix()) {
                assertTrue(response.errorMessage != null && response.errorMessage.startsWith(c.message()),
                        response.errorMessage);
            } else {
                assertEquals(c.message(), response.errorMessage);
            }
            if (c.version() >= 8) {
                assertEquals(c.recordErrorIndexes(), response.recordErrors.stream().map(e -> e.batchIndex).toList());
            }
            assertEquals(-1, response.baseOffset);
            // Kafka leaves the log start offset out (-1) of the refusals it expects of a log and of those its request
            // parsing makes, not of the others.
            boolean withoutLogStart = c.error() == Errors.CORRUPT_MESSAGE || c.error() == Errors.MESSAGE_TOO_LARGE
                    || c.name().equals("two batches");
            assertEquals(withoutLogStart ? -1 : 0, response.logStartOffset);
            TopicPartition tp = new TopicPartition(topic, 0);
            assertEquals(0, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)).offset());
        }
    }

    @org.junit.jupiter.api.Test
    void shouldDropAPartialBatchAfterAWholeOneAndAppendTheWholeOne(KafkaTarget target) throws Exception {
        String topic = unique("partial-tail");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            ByteBuf records = batchOf(System.currentTimeMillis(), "whole");
            ByteBuf next = batchOf(System.currentTimeMillis(), "cut short");
            records.writeBytes(next, 0, next.readableBytes() - 5);
            PartitionProduceResponse response = produce(target, topic, PRODUCE_VERSION, records);
            assertEquals(Errors.NONE.code(), response.errorCode);
            assertEquals(0, response.baseOffset);
            TopicPartition tp = new TopicPartition(topic, 0);
            assertEquals(1, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)).offset());
        }
    }

    private static PartitionProduceResponse produce(KafkaTarget target, String topic, short version, ByteBuf records) {
        String[] hostPort = target.bootstrapServers().split(":");
        try (KafkaConnection connection = KafkaConnection.open(
                new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), "validation", TIMEOUT, 1 << 20)) {
            ProduceRequest request = new ProduceRequest();
            request.acks = 1;
            request.timeoutMs = (int) TIMEOUT.toMillis();
            ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
            data.name = topic;
            ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
            partition.index = 0;
            partition.records = records;
            data.partitionData.add(partition);
            request.topicData.add(data);
            ProduceResponse response = connection.send(request, version, TIMEOUT);
            return response.responses.get(0).partitionResponses.get(0);
        }
    }

    private static ByteBuf batchOf(long timestamp, String... values) {
        ByteBuf out = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
            for (String value : values) builder.append(timestamp, null, value.getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        return out;
    }

    /** One record: key "k", value "v", header "h" = "x", every length a one-byte varint. */
    private static ByteBuf keyValueHeader(long timestamp) {
        ByteBuf out = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
            builder.append(timestamp, Unpooled.wrappedBuffer("k".getBytes()), Unpooled.wrappedBuffer("v".getBytes()),
                    List.of(new Header("h", Unpooled.wrappedBuffer("x".getBytes()))));
            builder.build();
        }
        return out;
    }

    private static void resign(ByteBuf batch, Consumer<ByteBuf> damage) {
        damage.accept(batch);
        CRC32C crc = new CRC32C();
        crc.update(batch.nioBuffer(RecordBatch.ATTRIBUTES_OFFSET, batch.writerIndex() - RecordBatch.ATTRIBUTES_OFFSET));
        batch.setInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
    }

    private static byte zigzag(int value) {
        return (byte) ((value << 1) ^ (value >> 31));
    }
}
