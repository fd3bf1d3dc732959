package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.ProduceResponse.PartitionProduceResponse;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.EndTxnMarker;
import io.tandem.kafka.wire.record.LegacyMessage;
import io.tandem.kafka.wire.record.LegacyMessageSetBuilder;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static io.tandem.server.kafka.log.HandBuiltBatches.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Produce validation over a real socket to an embedded broker, with Apache Kafka's answers (its LogValidator and the
 * checks before it): hand-built and hand-damaged batches, each re-signed with a valid CRC where the point is what lies
 * behind the CRC. A refused produce appends nothing.
 */
@ExtendWith(NoBufferLeaks.class)
class ProduceValidationTest {
    /** Produce v9: flexible, with the error message and record errors of v8+. */
    private static final short PRODUCE_VERSION = 9;

    @TempDir
    Path dir;
    private Tandem tandem;
    private RawKafkaConnection connection;

    @BeforeEach
    void start() throws IOException {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
        connection = new RawKafkaConnection(tandem.kafkaPort());
    }

    @AfterEach
    void stop() throws IOException {
        connection.close();
        tandem.close();
    }

    // ---- the offset range against the record count

    @Test
    void shouldRefuseABatchWhoseLastOffsetDeltaDisagreesWithItsRecordCountAsInvalidRecord() throws IOException {
        createTopic("count", Map.of());
        ByteBuf batch = batch(1000, "a", "b", "c");
        resign(batch, b -> b.setInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 1)); // two offsets for three records
        assertRefused("count", batch, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseABatchWithANegativeOffsetRangeOrNoRecordsAsInvalidRecord() throws IOException {
        createTopic("range", Map.of());
        ByteBuf negative = batch(1000, "a");
        resign(negative, b -> b.setInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, -1));
        assertRefused("range", negative, Errors.INVALID_RECORD);
        ByteBuf empty = batch(1000, "a");
        resign(empty, b -> b.setInt(RecordBatch.RECORD_COUNT_OFFSET, 0));
        assertRefused("range", empty, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseTwoBatchesForOnePartitionAsInvalidRecord() throws IOException {
        createTopic("two", Map.of());
        ByteBuf both = Unpooled.buffer();
        both.writeBytes(batch(1000, "a"));
        both.writeBytes(batch(1000, "b"));
        assertRefused("two", both, Errors.INVALID_RECORD, -1); // refused while Kafka parses the request
    }

    @Test
    void shouldDropAPartialBatchAfterTheLastWholeOneAsKafkaDoes() throws IOException {
        createTopic("tail", Map.of());
        ByteBuf records = Unpooled.buffer();
        records.writeBytes(batch(1000, "whole"));
        ByteBuf next = batch(1000, "cut short");
        records.writeBytes(next, 0, next.readableBytes() - 5);
        PartitionProduceResponse response = produce("tail", records);
        assertEquals(Errors.NONE.code(), response.errorCode);
        assertEquals(1, latestOffset("tail"), "only the whole batch is appended");
    }

    // ---- the records behind the CRC: lengths, varints and headers

    @Test
    void shouldRefuseAKeyLongerThanItsRecordAsInvalidRecord() throws IOException {
        createTopic("key", Map.of());
        ByteBuf batch = keyValueHeaderBatch(System.currentTimeMillis());
        resign(batch, b -> b.setByte(KEY_LENGTH_AT, zigzag(50)));
        assertRefused("key", batch, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseMoreHeadersThanTheRecordHoldsAsInvalidRecord() throws IOException {
        createTopic("headers", Map.of());
        ByteBuf batch = keyValueHeaderBatch(System.currentTimeMillis());
        resign(batch, b -> b.setByte(HEADER_COUNT_AT, zigzag(5)));
        assertRefused("headers", batch, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseANegativeHeaderKeyLengthAsInvalidRecord() throws IOException {
        createTopic("header-key", Map.of());
        ByteBuf batch = keyValueHeaderBatch(System.currentTimeMillis());
        resign(batch, b -> b.setByte(HEADER_KEY_LENGTH_AT, zigzag(-2)));
        assertRefused("header-key", batch, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseARecordLengthBeyondTheBatchAndAVarintThatNeverEndsAsInvalidRecord() throws IOException {
        createTopic("length", Map.of());
        ByteBuf longer = keyValueHeaderBatch(System.currentTimeMillis());
        resign(longer, b -> b.setByte(RECORD_LENGTH_AT, zigzag(60)));
        assertRefused("length", longer, Errors.INVALID_RECORD);
        ByteBuf endless = keyValueHeaderBatch(System.currentTimeMillis());
        resign(endless, b -> {
            for (int i = KEY_LENGTH_AT; i < b.writerIndex(); i++) b.setByte(i, 0xFF);
        });
        assertRefused("length", endless, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseBytesAfterTheDeclaredRecordsAsInvalidRecord() throws IOException {
        createTopic("trailing", Map.of());
        ByteBuf batch = Unpooled.buffer();
        batch.writeBytes(keyValueHeaderBatch(System.currentTimeMillis()));
        batch.writeByte(0);
        resign(batch, b -> b.setInt(RecordBatch.LENGTH_OFFSET, b.getInt(RecordBatch.LENGTH_OFFSET) + 1));
        assertRefused("trailing", batch, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseACompressedBatchThatDoesNotDecompressAsKafkaDoesWithUnknownServerError() throws IOException {
        createTopic("gzip", Map.of());
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).compression(CompressionType.GZIP)) {
            builder.append(System.currentTimeMillis(), "k".getBytes(), "v".repeat(100).getBytes());
            builder.build();
        }
        // Past the gzip header, into the deflate stream.
        resign(batch, b -> b.setInt(RecordBatch.RECORDS_OFFSET + 12, 0xDEADBEEF));
        assertRefused("gzip", batch, Errors.UNKNOWN_SERVER_ERROR);
    }

    // ---- control batches are the broker's to write

    @Test
    void shouldRefuseAControlBatchFromAClientAsInvalidRecord() throws IOException {
        createTopic("control", Map.of());
        ByteBuf marker = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(marker).producer(7, (short) 0, -1)) {
            builder.appendEndTxnMarker(System.currentTimeMillis(), new EndTxnMarker(ControlRecordType.COMMIT, 0));
            builder.build();
        }
        // Not transactional: Kafka refuses transactional records without a transactional id before this check.
        resign(marker, b -> b.setShort(RecordBatch.ATTRIBUTES_OFFSET, b.getShort(RecordBatch.ATTRIBUTES_OFFSET) & ~0x10));
        assertRefused("control", marker, Errors.INVALID_RECORD);
    }

    @Test
    void shouldRefuseAProducerIdWithoutASequenceAsInvalidRecord() throws IOException {
        createTopic("sequence", Map.of());
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).producer(7, (short) 0, -1)) {
            builder.append(System.currentTimeMillis(), null, "v".getBytes());
            builder.build();
        }
        assertRefused("sequence", batch, Errors.INVALID_RECORD);
    }

    // ---- timestamps and keys, refused record by record

    @Test
    void shouldRefuseATimestampOlderThanBeforeMaxMsWithKafkasRecordErrors() throws IOException {
        createTopic("old", Map.of("message.timestamp.before.max.ms", "3600000"));
        long now = System.currentTimeMillis();
        long tooOld = now - 2 * 3_600_000L;
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            builder.append(now, null, "fine".getBytes());
            builder.append(tooOld, null, "old".getBytes());
            builder.build();
        }
        PartitionProduceResponse response = produce("old", batch);
        assertEquals(Errors.INVALID_TIMESTAMP.code(), response.errorCode);
        assertEquals("One or more records have been rejected due to invalid timestamp", response.errorMessage);
        assertEquals(1, response.recordErrors.size());
        assertEquals(1, response.recordErrors.get(0).batchIndex);
        String message = response.recordErrors.get(0).batchIndexErrorMessage;
        assertTrue(message.matches("Timestamp " + tooOld + " of message with offset 1 is out of range\\. The timestamp"
                + " should be within \\[(\\d+), (-?\\d+)]"), message);
        long lowest = Long.parseLong(message.replaceAll(".*\\[(\\d+), .*", "$1"));
        assertTrue(lowest > tooOld && lowest <= System.currentTimeMillis() - 3_600_000L, message);
        assertEquals(0, latestOffset("old"));
    }

    @Test
    void shouldRefuseATimestampFurtherAheadThanAfterMaxMsByDefault() throws IOException {
        createTopic("future", Map.of()); // Kafka 4.x: message.timestamp.after.max.ms defaults to one hour
        long future = System.currentTimeMillis() + 2 * 3_600_000L;
        PartitionProduceResponse response = produce("future", batch(future, "ahead"));
        assertEquals(Errors.INVALID_TIMESTAMP.code(), response.errorCode);
        assertEquals(0, response.recordErrors.get(0).batchIndex);
        assertTrue(response.recordErrors.get(0).batchIndexErrorMessage.startsWith("Timestamp " + future
                + " of message with offset 0 is out of range."));
        assertEquals(Errors.NONE.code(), produce("future", batch(System.currentTimeMillis() + 60_000, "soon")).errorCode,
                "a minute ahead is within the hour");
        assertEquals(1, latestOffset("future"));
    }

    @Test
    void shouldApplyADynamicClusterDefaultBoundToTheJavaProducer() throws Exception {
        createTopic("bounded", Map.of());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 0),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            long late = System.currentTimeMillis() - 120_000;
            producer.send(new ProducerRecord<>("bounded", 0, late, null, "accepted".getBytes())).get();
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, ""),
                    List.of(new AlterConfigOp(new ConfigEntry("log.message.timestamp.before.max.ms", "60000"),
                            AlterConfigOp.OpType.SET)))).all().get();
            ExecutionException refused = assertThrows(ExecutionException.class, () -> producer.send(
                    new ProducerRecord<>("bounded", 0, late, null, "refused".getBytes())).get());
            assertInstanceOf(InvalidTimestampException.class, refused.getCause());
            // The Java producer reports the record's own error from the response's record errors.
            assertTrue(refused.getCause().getMessage().startsWith("Timestamp " + late
                    + " of message with offset 0 is out of range. The timestamp should be within ["),
                    refused.getCause().getMessage());
            producer.send(new ProducerRecord<>("bounded", "now".getBytes())).get();
        }
        assertEquals(2, latestOffset("bounded"));
    }

    @Test
    void shouldRefuseABatchMarkedLogAppendTimeOnALogAppendTimeTopic() throws IOException {
        createTopic("stamped", Map.of("message.timestamp.type", "LogAppendTime"));
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).logAppendTime(1234)) {
            builder.append(1000, "k".getBytes(), "value".getBytes());
            builder.build();
        }
        PartitionProduceResponse response = produce("stamped", batch);
        assertEquals(Errors.INVALID_TIMESTAMP.code(), response.errorCode);
        assertEquals("Invalid timestamp type in message DefaultRecord(offset=0, timestamp=1234, key=1 bytes, value=5"
                + " bytes). Producer should not set timestamp type to LogAppendTime.",
                response.recordErrors.get(0).batchIndexErrorMessage);
        PartitionProduceResponse plain = produce("stamped", batch(1000, "x"));
        assertEquals(Errors.NONE.code(), plain.errorCode, "a CreateTime batch is stamped, however old");
        assertTrue(plain.logAppendTimeMs > 0);
    }

    @Test
    void shouldRefuseAKeylessRecordOnACompactedTopicWithKafkasSummary() throws IOException {
        createTopic("compacted", Map.of("cleanup.policy", "compact"));
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            long now = System.currentTimeMillis();
            builder.append(now, "k".getBytes(), "v".getBytes());
            builder.append(now, null, "no key".getBytes());
            builder.build();
        }
        PartitionProduceResponse response = produce("compacted", batch);
        assertEquals(Errors.INVALID_RECORD.code(), response.errorCode);
        String error = "Compacted topic cannot accept message without key in topic partition compacted-0";
        assertEquals("One or more records have been rejected due to 1 record errors in total, and only showing the"
                + " first three errors at most: [RecordError(batchIndex=1, message='" + error + "')]",
                response.errorMessage);
        assertEquals(1, response.recordErrors.get(0).batchIndex);
        assertEquals(error, response.recordErrors.get(0).batchIndexErrorMessage);
        assertEquals(0, latestOffset("compacted"));
    }

    // ---- old clients' message sets

    @Test
    void shouldUpConvertALegacyMessageSetAndCheckItsTimestamps() throws IOException {
        createTopic("legacy", Map.of("message.timestamp.before.max.ms", "3600000"));
        long now = System.currentTimeMillis();
        PartitionProduceResponse fine = produce("legacy", legacySet(now, now + 1), (short) 2);
        assertEquals(Errors.NONE.code(), fine.errorCode);
        assertEquals(2, latestOffset("legacy"));
        PartitionProduceResponse old = produce("legacy", legacySet(now, now - 2 * 3_600_000L), (short) 2);
        assertEquals(Errors.INVALID_TIMESTAMP.code(), old.errorCode);
        ByteBuf damaged = legacySet(now, now);
        damaged.setByte(damaged.writerIndex() - 1, damaged.getByte(damaged.writerIndex() - 1) ^ 1);
        assertEquals(Errors.CORRUPT_MESSAGE.code(), produce("legacy", damaged, (short) 2).errorCode);
        assertEquals(2, latestOffset("legacy"));
    }

    @Test
    void shouldAcceptLegacyMessagesOnALogAppendTimeTopicAsKafkaDoes() throws IOException {
        // librdkafka with broker.version.fallback 0.9/0.10 (its test 0052_msg_timestamps): the up-converted batch is
        // LogAppendTime, but the producer's messages are v0 (no timestamp type) or v1 CreateTime, which Kafka accepts.
        createTopic("stamped-legacy", Map.of("message.timestamp.type", "LogAppendTime"));
        long before = System.currentTimeMillis();
        assertEquals(Errors.NONE.code(), produce("stamped-legacy", legacySet(LegacyMessage.MAGIC_V0, 1L), (short) 0).errorCode);
        PartitionProduceResponse v1 = produce("stamped-legacy", legacySet(LegacyMessage.MAGIC_V1, 1L, 2L), (short) 2);
        assertEquals(Errors.NONE.code(), v1.errorCode);
        assertTrue(v1.logAppendTimeMs >= before, "the broker's time, not the producer's: " + v1.logAppendTimeMs);
        assertEquals(3, latestOffset("stamped-legacy"));
    }

    // ---- the CRC, checked once before any conversion

    @Test
    void shouldRefuseABadCrcBeforeRecompressingForTheTopic() throws IOException {
        createTopic("recompressed", Map.of("compression.type", "gzip"));
        ByteBuf batch = batch(System.currentTimeMillis(), "flipped");
        batch.setByte(batch.writerIndex() - 1, batch.getByte(batch.writerIndex() - 1) ^ 1);
        PartitionProduceResponse response = produce("recompressed", batch);
        assertEquals(Errors.CORRUPT_MESSAGE.code(), response.errorCode);
        assertNull(response.errorMessage, "Kafka sends no message with CORRUPT_MESSAGE");
        assertEquals(-1, response.logStartOffset, "nor the log start offset");
        assertEquals(Errors.NONE.code(), produce("recompressed", batch(System.currentTimeMillis(), "ok")).errorCode);
        assertEquals(1, latestOffset("recompressed"));
    }

    // ---- helpers

    /** Kafka refuses these without a message or record errors, with the log start offset, and appends nothing. */
    @Test
    void shouldRefuseWhatKafkasProduceRequestRefusesForItsVersion() throws IOException {
        createTopic("versions", Map.of());
        // Message format v0/v1 only in Produce v0-2 (up-converted there), as Kafka's ProduceRequest.validateRecords.
        PartitionProduceResponse legacy = produce("versions", legacySet(System.currentTimeMillis()), (short) 3);
        assertEquals(Errors.INVALID_RECORD.code(), legacy.errorCode);
        assertNull(legacy.errorMessage);
        PartitionProduceResponse empty = produce("versions", Unpooled.EMPTY_BUFFER, PRODUCE_VERSION);
        assertEquals(Errors.INVALID_RECORD.code(), empty.errorCode);
        // zstd needs Produce v7.
        ByteBuf zstd = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(zstd)
                .compression(io.tandem.kafka.wire.compress.CompressionType.ZSTD)) {
            builder.append(System.currentTimeMillis(), null, "z".getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        ByteBuf zstdAgain = zstd.copy();
        assertEquals(Errors.UNSUPPORTED_COMPRESSION_TYPE.code(), produce("versions", zstd, (short) 6).errorCode);
        assertEquals(Errors.NONE.code(), produce("versions", zstdAgain, (short) 7).errorCode);
        assertEquals(1, latestOffset("versions"), "only the v7 zstd batch was appended");
    }

    private void assertRefused(String topic, ByteBuf records, Errors error) throws IOException {
        assertRefused(topic, records, error, 0);
    }

    private void assertRefused(String topic, ByteBuf records, Errors error, long logStartOffset) throws IOException {
        long before = latestOffset(topic);
        PartitionProduceResponse response = produce(topic, records);
        assertEquals(error.code(), response.errorCode, "error " + Errors.forCode(response.errorCode));
        assertNull(response.errorMessage);
        assertEquals(List.of(), response.recordErrors);
        assertEquals(-1, response.baseOffset);
        assertEquals(logStartOffset, response.logStartOffset);
        assertEquals(before, latestOffset(topic), "nothing appended");
        // The partition goes on taking good batches.
        assertEquals(Errors.NONE.code(), produce(topic, batch(System.currentTimeMillis(), "good")).errorCode);
        assertEquals(before + 1, latestOffset(topic));
    }

    private static ByteBuf legacySet(long... timestamps) {
        return legacySet(LegacyMessage.MAGIC_V1, timestamps);
    }

    private static ByteBuf legacySet(byte magic, long... timestamps) {
        ByteBuf out = Unpooled.buffer();
        try (LegacyMessageSetBuilder builder = LegacyMessageSetBuilder.create(out, magic,
                ByteBufAllocator.DEFAULT)) {
            for (long timestamp : timestamps) {
                builder.append(timestamp, null, Unpooled.copiedBuffer("legacy", StandardCharsets.UTF_8));
            }
            builder.build();
        }
        return out;
    }

    private void createTopic(String name, Map<String, String> configs) throws IOException {
        CreateTopicsRequest request = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = name;
        topic.numPartitions = 1;
        topic.replicationFactor = 1;
        configs.forEach((key, value) -> {
            CreateTopicsRequest.CreatableTopicConfig config = new CreateTopicsRequest.CreatableTopicConfig();
            config.name = key;
            config.value = value;
            topic.configs.add(config);
        });
        request.topics.add(topic);
        CreateTopicsResponse response = connection.roundTrip(ApiKey.CREATE_TOPICS, (short) 7, (short) 1, request,
                CreateTopicsResponse::read);
        assertEquals(Errors.NONE.code(), response.topics.get(0).errorCode, response.topics.get(0).errorMessage);
    }

    private PartitionProduceResponse produce(String topic, ByteBuf records) throws IOException {
        return produce(topic, records, PRODUCE_VERSION);
    }

    private PartitionProduceResponse produce(String topic, ByteBuf records, short version) throws IOException {
        ProduceRequest request = new ProduceRequest();
        request.acks = 1;
        request.timeoutMs = 5000;
        ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
        data.name = topic;
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
        partition.index = 0;
        partition.records = records;
        data.partitionData.add(partition);
        request.topicData.add(data);
        ProduceResponse response = connection.roundTrip(ApiKey.PRODUCE, version, version >= 9 ? (short) 1 : 0,
                request, ProduceResponse::read);
        return response.responses.get(0).partitionResponses.get(0);
    }

    private long latestOffset(String topic) throws IOException {
        return TestRequests.latestOffset(connection, topic);
    }
}
