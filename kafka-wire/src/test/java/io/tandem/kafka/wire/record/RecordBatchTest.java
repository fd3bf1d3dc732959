package io.tandem.kafka.wire.record;

import static io.tandem.kafka.wire.record.KafkaRecords.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class RecordBatchTest {

    private static MutableRecordBatch kafkaBatch(ByteBuffer buffer) {
        Iterator<MutableRecordBatch> batches = MemoryRecords.readableRecords(buffer.duplicate()).batches().iterator();
        MutableRecordBatch batch = batches.next();
        assertFalse(batches.hasNext());
        return batch;
    }

    private static void assertHeaderMatchesKafka(MutableRecordBatch expected, RecordBatch actual) {
        assertEquals(expected.baseOffset(), actual.baseOffset());
        assertEquals(expected.lastOffset(), actual.lastOffset());
        assertEquals(expected.nextOffset(), actual.nextOffset());
        assertEquals(expected.sizeInBytes(), actual.sizeInBytes());
        assertEquals(expected.partitionLeaderEpoch(), actual.partitionLeaderEpoch());
        assertEquals(expected.magic(), actual.magic());
        assertEquals(expected.checksum(), actual.crc());
        assertEquals(expected.maxTimestamp(), actual.maxTimestamp());
        assertEquals(expected.producerId(), actual.producerId());
        assertEquals(expected.producerEpoch(), actual.producerEpoch());
        assertEquals(expected.baseSequence(), actual.baseSequence());
        assertEquals(expected.lastSequence(), actual.lastSequence());
        assertEquals(expected.countOrNull().intValue(), actual.recordCount());
        assertEquals(expected.compressionType().id, actual.compression().id);
        assertEquals(expected.timestampType().name, actual.timestampType().configName);
        assertEquals(expected.isTransactional(), actual.isTransactional());
        assertEquals(expected.isControlBatch(), actual.isControl());
        assertEquals(expected.deleteHorizonMs().isPresent(), actual.hasDeleteHorizon());
        assertEquals(expected.isValid(), actual.isValid());
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReadEveryHeaderFieldOfAKafkaBuiltIdempotentBatch(CompressionType compression) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(20, 1_700_000_000_000L, true);
        ByteBuffer kafka = KafkaRecords.build(RecordBatch.MAGIC, compression, TimestampType.CREATE_TIME, 1234L,
                RecordBatch.NO_TIMESTAMP, 987_654L, (short) 7, 42, false, 9, samples);
        for (boolean direct : new boolean[] {false, true}) {
            ByteBuf buf = KafkaRecords.toByteBuf(kafka, direct);
            try {
                RecordBatch batch = RecordBatch.wrap(buf);
                assertHeaderMatchesKafka(kafkaBatch(kafka), batch);
                assertTrue(batch.isValid());
                batch.ensureValid();
                assertEquals(1234L, batch.baseOffset());
                assertEquals(987_654L, batch.producerId());
                assertEquals(9, batch.partitionLeaderEpoch());
                assertEquals(compression, batch.compression());
                assertEquals(19, batch.lastOffsetDelta());
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void shouldReadTransactionalAndLogAppendTimeFlags() {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(3, 1_000L, false);
        ByteBuffer kafka = KafkaRecords.build(RecordBatch.MAGIC, CompressionType.NONE, TimestampType.LOG_APPEND_TIME,
                0L, 55_555L, 12L, (short) 1, 0, true, 3, samples);
        RecordBatch batch = RecordBatch.wrap(Unpooled.wrappedBuffer(kafka));
        assertHeaderMatchesKafka(kafkaBatch(kafka), batch);
        assertTrue(batch.isTransactional());
        assertFalse(batch.isControl());
        assertEquals(TimestampType.LOG_APPEND_TIME, batch.timestampType());
        assertEquals(55_555L, batch.maxTimestamp());
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldKeepCrcValidWhenPatchingBaseOffsetAndLeaderEpoch(CompressionType compression) {
        ByteBuffer kafka = KafkaRecords.buildV2(compression, 0L, KafkaRecords.samples(5, 10L, true));
        ByteBuf buf = Unpooled.wrappedBuffer(kafka.duplicate());
        RecordBatch batch = RecordBatch.wrap(buf);
        long crcBefore = batch.crc();
        assertEquals(compression != CompressionType.NONE, batch.isCompressed());
        batch.setLastOffset(2_000_004L);
        assertEquals(2_000_000L, batch.baseOffset());
        batch.setBaseOffset(1_000_000L);
        batch.setPartitionLeaderEpoch(17);
        assertEquals(crcBefore, batch.crc());
        assertTrue(batch.isValid());
        MutableRecordBatch patched = kafkaBatch(KafkaRecords.toByteBuffer(buf));
        assertTrue(patched.isValid());
        assertEquals(1_000_000L, patched.baseOffset());
        assertEquals(1_000_004L, patched.lastOffset());
        assertEquals(17, patched.partitionLeaderEpoch());
        List<Long> offsets = new ArrayList<>();
        patched.forEach(record -> offsets.add(record.offset()));
        assertEquals(List.of(1_000_000L, 1_000_001L, 1_000_002L, 1_000_003L, 1_000_004L), offsets);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldRecomputeCrcWhenSettingLogAppendTime(CompressionType compression) {
        ByteBuffer kafka = KafkaRecords.buildV2(compression, 0L, KafkaRecords.samples(4, 10L, false));
        ByteBuf buf = Unpooled.wrappedBuffer(kafka.duplicate());
        RecordBatch batch = RecordBatch.wrap(buf);
        long crcBefore = batch.crc();
        batch.setMaxTimestamp(TimestampType.LOG_APPEND_TIME, 1_750_000_000_123L);
        assertTrue(batch.crc() != crcBefore);
        assertTrue(batch.isValid());
        assertEquals(TimestampType.LOG_APPEND_TIME, batch.timestampType());
        assertEquals(compression, batch.compression());
        MutableRecordBatch patched = kafkaBatch(KafkaRecords.toByteBuffer(buf));
        patched.ensureValid();
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, patched.timestampType());
        patched.forEach(record -> assertEquals(1_750_000_000_123L, record.timestamp()));
        try (RecordIterator records = batch.records()) {
            records.forEachRemaining(record -> assertEquals(1_750_000_000_123L, record.timestamp()));
        }
    }

    @Test
    void shouldDetectEveryFlippedByteCoveredByTheCrc() {
        ByteBuffer kafka = KafkaRecords.buildV2(CompressionType.NONE, 0L, KafkaRecords.samples(3, 10L, true));
        ByteBuf buf = Unpooled.wrappedBuffer(kafka.duplicate());
        RecordBatch batch = RecordBatch.wrap(buf);
        for (int index = RecordBatch.CRC_OFFSET; index < batch.sizeInBytes(); index++) {
            byte original = buf.getByte(index);
            buf.setByte(index, original ^ 0x20);
            assertFalse(batch.isValid(), "flip at " + index);
            assertThrows(CorruptRecordException.class, batch::ensureValid);
            buf.setByte(index, original);
        }
        assertTrue(batch.isValid());
    }

    @Test
    void shouldRejectWrongMagicAndImpossibleLengths() {
        ByteBuffer kafka = KafkaRecords.buildV2(CompressionType.NONE, 0L, KafkaRecords.samples(2, 10L, false));
        ByteBuf buf = Unpooled.wrappedBuffer(kafka.duplicate());
        buf.setByte(RecordBatch.MAGIC_OFFSET, 1);
        assertThrows(CorruptRecordException.class, () -> RecordBatch.wrap(buf));
        buf.setByte(RecordBatch.MAGIC_OFFSET, 2);
        buf.setInt(RecordBatch.LENGTH_OFFSET, 10);
        assertThrows(CorruptRecordException.class, () -> RecordBatch.wrap(buf));
        buf.setInt(RecordBatch.LENGTH_OFFSET, buf.readableBytes());
        assertThrows(CorruptRecordException.class, () -> RecordBatch.wrap(buf));
        assertThrows(CorruptRecordException.class, () -> RecordBatch.wrap(Unpooled.wrappedBuffer(new byte[60])));
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReadEveryRecordOfAKafkaBuiltBatchIdentically(CompressionType compression) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(40, 1_700_000_000_000L, true);
        ByteBuffer kafka = KafkaRecords.build(RecordBatch.MAGIC, compression, TimestampType.CREATE_TIME, 500L,
                RecordBatch.NO_TIMESTAMP, 77L, (short) 2, Integer.MAX_VALUE - 10, false, 1, samples);
        MutableRecordBatch expected = kafkaBatch(kafka);
        for (boolean direct : new boolean[] {false, true}) {
            ByteBuf buf = KafkaRecords.toByteBuf(kafka, direct);
            try (RecordIterator records = RecordBatch.wrap(buf).records()) {
                assertRecordsMatchKafka(expected, records);
            } finally {
                buf.release();
            }
        }
    }

    static void assertRecordsMatchKafka(org.apache.kafka.common.record.internal.RecordBatch expected,
                                        Iterator<Record> actual) {
        int count = 0;
        for (org.apache.kafka.common.record.internal.Record kafkaRecord : expected) {
            assertTrue(actual.hasNext(), "missing record " + count);
            Record record = actual.next();
            assertEquals(kafkaRecord.offset(), record.offset());
            assertEquals(kafkaRecord.timestamp(), record.timestamp());
            assertEquals(kafkaRecord.sequence(), record.sequence());
            assertEquals(kafkaRecord.hasKey(), record.hasKey());
            assertArrayEquals(bytes(kafkaRecord.key()), bytes(record.key()));
            assertEquals(kafkaRecord.hasValue(), record.hasValue());
            assertArrayEquals(bytes(kafkaRecord.value()), bytes(record.value()));
            org.apache.kafka.common.header.Header[] kafkaHeaders = kafkaRecord.headers();
            List<Header> headers = record.headers();
            assertEquals(kafkaHeaders.length, headers.size());
            for (int i = 0; i < kafkaHeaders.length; i++) {
                assertEquals(kafkaHeaders[i].key(), headers.get(i).key());
                assertArrayEquals(kafkaHeaders[i].value(), bytes(headers.get(i).value()));
            }
            assertEquals(kafkaRecord.sizeInBytes(), record.sizeInBytes());
            count++;
        }
        assertFalse(actual.hasNext());
    }

    @Test
    void shouldGiveNullKeyAndValueAsNull() {
        List<KafkaRecords.Sample> samples = List.of(new KafkaRecords.Sample(5L, null, null, List.of()));
        try (RecordIterator records = RecordBatch.wrap(Unpooled.wrappedBuffer(
                KafkaRecords.buildV2(CompressionType.NONE, 0L, samples))).records()) {
            Record record = records.next();
            assertNull(record.key());
            assertNull(record.value());
            assertEquals(-1, record.keySize());
            assertFalse(records.hasNext());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7})
    void shouldRejectARecordCountThatDoesNotMatchTheRecords(int delta) {
        ByteBuf buf = Unpooled.wrappedBuffer(KafkaRecords.buildV2(CompressionType.NONE, 0L,
                KafkaRecords.samples(3, 10L, false)));
        RecordBatch batch = RecordBatch.wrap(buf);
        for (int count : new int[] {3 - delta, 3 + delta}) {
            buf.setInt(RecordBatch.RECORD_COUNT_OFFSET, count);
            assertThrows(CorruptRecordException.class, () -> {
                try (RecordIterator records = batch.records()) {
                    records.forEachRemaining(record -> { });
                }
            });
        }
    }

    @Test
    void shouldReadUtf8HeaderKeys() {
        List<KafkaRecords.Sample> samples = List.of(new KafkaRecords.Sample(5L, "k".getBytes(StandardCharsets.UTF_8),
                "v".getBytes(StandardCharsets.UTF_8), List.<String[]>of(new String[] {"日本", "x"})));
        try (RecordIterator records = RecordBatch.wrap(Unpooled.wrappedBuffer(
                KafkaRecords.buildV2(CompressionType.NONE, 0L, samples))).records()) {
            assertEquals("日本", records.next().headers().get(0).key());
        }
    }
}
