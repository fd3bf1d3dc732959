package io.tandem.kafka.wire.record;

import static io.tandem.kafka.wire.record.KafkaRecords.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LegacyMessageSetTest {

    static Stream<Arguments> legacyFormats() {
        List<Arguments> arguments = new ArrayList<>();
        for (CompressionType compression : CompressionType.values()) {
            if (compression == CompressionType.ZSTD) {
                continue; // Kafka allows zstd only from message format v2 on
            }
            arguments.add(Arguments.of((byte) 0, compression, TimestampType.NO_TIMESTAMP_TYPE));
            arguments.add(Arguments.of((byte) 1, compression, TimestampType.CREATE_TIME));
            arguments.add(Arguments.of((byte) 1, compression, TimestampType.LOG_APPEND_TIME));
        }
        return arguments.stream();
    }

    private static final long LOG_APPEND_TIME = 1_650_000_000_000L;

    static ByteBuffer kafkaLegacySet(byte magic, CompressionType compression, TimestampType timestampType,
                                     long baseOffset, List<KafkaRecords.Sample> samples) {
        TimestampType kafkaType = magic == 0 ? TimestampType.CREATE_TIME : timestampType;
        return KafkaRecords.build(magic, compression, kafkaType, baseOffset,
                timestampType == TimestampType.LOG_APPEND_TIME ? LOG_APPEND_TIME : RecordBatch.NO_TIMESTAMP,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, false,
                RecordBatch.NO_PARTITION_LEADER_EPOCH, samples);
    }

    static void assertLegacyRecordsMatchKafka(ByteBuffer kafkaBytes, ByteBuf ours) {
        List<org.apache.kafka.common.record.internal.Record> expected = new ArrayList<>();
        List<org.apache.kafka.common.record.TimestampType> expectedTypes = new ArrayList<>();
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(kafkaBytes.duplicate()).batches()) {
            batch.ensureValid();
            for (org.apache.kafka.common.record.internal.Record record : batch) {
                expected.add(record);
                expectedTypes.add(batch.timestampType());
            }
        }
        for (LegacyMessage entry : LegacyMessageSets.of(ours)) {
            assertTrue(entry.isValid());
        }
        try (LegacyMessageSets.DeepIterator records = LegacyMessageSets.of(ours).records()) {
            for (int i = 0; i < expected.size(); i++) {
                assertTrue(records.hasNext(), "missing record " + i);
                LegacyRecord record = records.next();
                record.message().ensureValid();
                org.apache.kafka.common.record.internal.Record kafka = expected.get(i);
                assertEquals(kafka.offset(), record.offset());
                assertEquals(kafka.timestamp(), record.timestamp());
                assertEquals(expectedTypes.get(i).name, record.timestampType().configName);
                assertArrayEquals(bytes(kafka.key()), bytes(record.key()));
                assertArrayEquals(bytes(kafka.value()), bytes(record.value()));
            }
            assertFalse(records.hasNext());
        }
    }

    @ParameterizedTest
    @MethodSource("legacyFormats")
    void shouldReadKafkaBuiltLegacySetsIdentically(byte magic, CompressionType compression,
                                                   TimestampType timestampType) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(25, 1_600_000_000_000L, false);
        ByteBuffer kafka = kafkaLegacySet(magic, compression, timestampType, 300L, samples);
        for (boolean direct : new boolean[] {false, true}) {
            ByteBuf buf = KafkaRecords.toByteBuf(kafka, direct);
            try {
                assertEquals(magic, RecordBatches.firstMagic(buf));
                assertLegacyRecordsMatchKafka(kafka, buf);
            } finally {
                buf.release();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("legacyFormats")
    void shouldBuildLegacySetsThatKafkaReadsIdentically(byte magic, CompressionType compression,
                                                        TimestampType timestampType) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(25, 1_600_000_000_000L, false);
        ByteBuf ours = Unpooled.buffer();
        try (LegacyMessageSetBuilder builder = LegacyMessageSetBuilder.create(ours, magic).compression(compression)
                .baseOffset(300L)) {
            if (timestampType == TimestampType.LOG_APPEND_TIME) {
                builder.logAppendTime(LOG_APPEND_TIME);
            }
            for (KafkaRecords.Sample sample : samples) {
                builder.append(sample.timestamp(), sample.key(), sample.value());
            }
            int written = builder.build();
            assertEquals(ours.readableBytes(), written);
        }
        ByteBuffer expected = kafkaLegacySet(magic, compression, timestampType, 300L, samples);
        assertLegacyRecordsMatchKafka(expected, ours);
        List<org.apache.kafka.common.record.internal.Record> kafkaRead = new ArrayList<>();
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(KafkaRecords.toByteBuffer(ours)).batches()) {
            batch.ensureValid();
            assertEquals(magic, batch.magic());
            assertEquals(compression.id, batch.compressionType().id);
            batch.forEach(kafkaRead::add);
        }
        assertEquals(samples.size(), kafkaRead.size());
        for (int i = 0; i < samples.size(); i++) {
            org.apache.kafka.common.record.internal.Record record = kafkaRead.get(i);
            assertEquals(300L + i, record.offset());
            long expectedTimestamp = magic == 0 ? RecordBatch.NO_TIMESTAMP
                    : timestampType == TimestampType.LOG_APPEND_TIME ? LOG_APPEND_TIME : samples.get(i).timestamp();
            assertEquals(expectedTimestamp, record.timestamp());
            assertArrayEquals(samples.get(i).key(), bytes(record.key()));
            assertArrayEquals(samples.get(i).value(), bytes(record.value()));
            record.ensureValid();
        }
        if (compression == CompressionType.NONE) {
            assertArrayEquals(bytes(expected), bytes(ours));
        }
    }

    @Test
    void shouldDetectFlippedBytesInALegacyMessage() {
        ByteBuf buf = Unpooled.wrappedBuffer(kafkaLegacySet((byte) 1, CompressionType.NONE,
                TimestampType.CREATE_TIME, 0L, KafkaRecords.samples(1, 1_000_000L, false)));
        LegacyMessage message = LegacyMessageSets.of(buf).iterator().next();
        for (int index = LegacyMessage.CRC_OFFSET; index < message.sizeInBytes(); index++) {
            byte original = buf.getByte(index);
            buf.setByte(index, original ^ 0x01);
            boolean validAfterFlip;
            try {
                validAfterFlip = LegacyMessage.wrap(buf, 0, buf.writerIndex()).isValid();
            } catch (CorruptRecordException e) {
                validAfterFlip = false;
            }
            assertFalse(validAfterFlip, "flip at " + index);
            buf.setByte(index, original);
        }
        assertTrue(message.isValid());
    }

    @Test
    void shouldRecomputeCrcWhenStampingLogAppendTimeOnAV1Message() {
        ByteBuf buf = Unpooled.wrappedBuffer(kafkaLegacySet((byte) 1, CompressionType.NONE,
                TimestampType.CREATE_TIME, 0L, KafkaRecords.samples(1, 1_000_000L, false)));
        LegacyMessage message = LegacyMessageSets.of(buf).iterator().next();
        message.setTimestamp(TimestampType.LOG_APPEND_TIME, 42L);
        message.setOffset(99L);
        assertTrue(message.isValid());
        MutableRecordBatch kafka = MemoryRecords.readableRecords(KafkaRecords.toByteBuffer(buf)).batches()
                .iterator().next();
        kafka.ensureValid();
        assertEquals(99L, kafka.lastOffset());
        assertEquals(42L, kafka.iterator().next().timestamp());
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, kafka.timestampType());
    }

    @Test
    void shouldStopAtAPartialTrailingLegacyEntry() {
        ByteBuf buf = Unpooled.wrappedBuffer(kafkaLegacySet((byte) 0, CompressionType.NONE,
                TimestampType.NO_TIMESTAMP_TYPE, 0L, KafkaRecords.samples(3, 0L, false)));
        int total = buf.readableBytes();
        Iterator<LegacyMessage> entries = LegacyMessageSets.of(buf).iterator();
        int firstTwo = entries.next().sizeInBytes() + entries.next().sizeInBytes();
        for (int cut = firstTwo; cut < total; cut++) {
            assertEquals(firstTwo, LegacyMessageSets.of(buf.slice(0, cut)).validBytes());
            int count = 0;
            for (LegacyMessage ignored : LegacyMessageSets.of(buf.slice(0, cut))) {
                count++;
            }
            assertEquals(2, count);
        }
    }

    @Test
    void shouldRejectACompressedWrapperWithoutAValue() {
        ByteBuf buf = Unpooled.buffer();
        LegacyMessageSetBuilder.create(buf, (byte) 1).append(5L, null, (byte[]) null).build();
        buf.setByte(LegacyMessage.ATTRIBUTES_OFFSET, CompressionType.GZIP.id);
        assertThrows(CorruptRecordException.class, () -> {
            try (LegacyMessageSets.DeepIterator records = LegacyMessageSets.of(buf).records()) {
                records.forEachRemaining(record -> { });
            }
        });
    }
}
