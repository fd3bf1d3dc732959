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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RecordBatchBuilderTest {

    static List<Header> headers(KafkaRecords.Sample sample) {
        List<Header> headers = new ArrayList<>();
        for (String[] header : sample.headers()) {
            headers.add(new Header(header[0],
                    header[1] == null ? null : Unpooled.wrappedBuffer(header[1].getBytes(StandardCharsets.UTF_8))));
        }
        return headers;
    }

    static ByteBuf wrapOrNull(byte[] bytes) {
        return bytes == null ? null : Unpooled.wrappedBuffer(bytes);
    }

    private static MutableRecordBatch onlyKafkaBatch(ByteBuf buf) {
        Iterator<MutableRecordBatch> batches = MemoryRecords.readableRecords(KafkaRecords.toByteBuffer(buf))
                .batches().iterator();
        MutableRecordBatch batch = batches.next();
        assertFalse(batches.hasNext());
        return batch;
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldBuildBatchesThatKafkaReadsIdentically(CompressionType compression) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(40, 1_700_000_000_000L, true);
        ByteBuf out = Unpooled.buffer();
        out.writeBytes(new byte[] {9, 9, 9}); // the builder must start at the writer index, not at 0
        out.readerIndex(3);
        RecordBatch built;
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(compression).baseOffset(100L)
                .producer(4242L, (short) 3, 17).partitionLeaderEpoch(6)) {
            for (KafkaRecords.Sample sample : samples) {
                builder.append(sample.timestamp(), wrapOrNull(sample.key()), wrapOrNull(sample.value()),
                        headers(sample));
            }
            built = builder.build();
        }
        assertEquals(3, built.startIndex());
        assertEquals(out.readableBytes(), built.sizeInBytes());
        MutableRecordBatch kafka = onlyKafkaBatch(out);
        kafka.ensureValid();
        assertEquals(100L, kafka.baseOffset());
        assertEquals(139L, kafka.lastOffset());
        assertEquals(4242L, kafka.producerId());
        assertEquals(3, kafka.producerEpoch());
        assertEquals(17, kafka.baseSequence());
        assertEquals(6, kafka.partitionLeaderEpoch());
        assertEquals(compression.id, kafka.compressionType().id);
        assertFalse(kafka.isTransactional());
        assertFalse(kafka.isControlBatch());
        long maxTimestamp = samples.stream().mapToLong(KafkaRecords.Sample::timestamp).max().orElseThrow();
        assertEquals(maxTimestamp, kafka.maxTimestamp());

        int index = 0;
        for (org.apache.kafka.common.record.internal.Record record : kafka) {
            KafkaRecords.Sample sample = samples.get(index);
            assertEquals(100L + index, record.offset());
            assertEquals(sample.timestamp(), record.timestamp());
            assertEquals(17 + index, record.sequence());
            assertArrayEquals(sample.key(), bytes(record.key()));
            assertArrayEquals(sample.value(), bytes(record.value()));
            assertEquals(sample.headers().size(), record.headers().length);
            for (int h = 0; h < record.headers().length; h++) {
                assertEquals(sample.headers().get(h)[0], record.headers()[h].key());
                String value = sample.headers().get(h)[1];
                assertArrayEquals(value == null ? null : value.getBytes(StandardCharsets.UTF_8),
                        record.headers()[h].value());
            }
            index++;
        }
        assertEquals(samples.size(), index);
        try (RecordIterator ours = built.records()) {
            RecordBatchTest.assertRecordsMatchKafka(kafka, ours);
        }
    }

    @Test
    void shouldMatchKafkaBytesForAnUncompressedBatch() {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(10, 1_700_000_000_000L, true);
        ByteBuffer kafka = KafkaRecords.build(RecordBatch.MAGIC, CompressionType.NONE, TimestampType.CREATE_TIME,
                5L, RecordBatch.NO_TIMESTAMP, 8L, (short) 1, 0, true, 2, samples);
        ByteBuf ours = Unpooled.buffer();
        RecordBatchBuilder builder = RecordBatchBuilder.create(ours).baseOffset(5L).producer(8L, (short) 1, 0)
                .transactional(true).partitionLeaderEpoch(2);
        for (KafkaRecords.Sample sample : samples) {
            builder.append(sample.timestamp(), wrapOrNull(sample.key()), wrapOrNull(sample.value()), headers(sample));
        }
        builder.build();
        assertArrayEquals(bytes(kafka), bytes(ours));
    }

    @Test
    void shouldWriteLogAppendTimeThatKafkaReportsForEveryRecord() {
        ByteBuf out = Unpooled.buffer();
        RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(CompressionType.GZIP)
                .logAppendTime(1_800_000_000_000L);
        builder.append(1L, null, "a".getBytes(StandardCharsets.UTF_8));
        builder.append(2L, null, "b".getBytes(StandardCharsets.UTF_8));
        builder.build();
        MutableRecordBatch kafka = onlyKafkaBatch(out);
        kafka.ensureValid();
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, kafka.timestampType());
        assertEquals(1_800_000_000_000L, kafka.maxTimestamp());
        kafka.forEach(record -> assertEquals(1_800_000_000_000L, record.timestamp()));
    }

    @Test
    void shouldWriteTransactionMarkersThatKafkaReads() {
        ByteBuf out = Unpooled.buffer();
        RecordBatch batch = RecordBatchBuilder.create(out).baseOffset(77L).producer(5L, (short) 9, -1)
                .partitionLeaderEpoch(3).appendEndTxnMarker(123L, new EndTxnMarker(
                        io.tandem.kafka.wire.record.ControlRecordType.COMMIT, 11)).build();
        assertTrue(batch.isControl());
        assertTrue(batch.isTransactional());
        MutableRecordBatch kafka = onlyKafkaBatch(out);
        kafka.ensureValid();
        assertTrue(kafka.isControlBatch());
        assertTrue(kafka.isTransactional());
        assertEquals(5L, kafka.producerId());
        assertEquals(9, kafka.producerEpoch());
        org.apache.kafka.common.record.internal.Record record = kafka.iterator().next();
        assertEquals(77L, record.offset());
        assertEquals(123L, record.timestamp());
        EndTransactionMarker marker = EndTransactionMarker.deserialize(record);
        assertEquals(ControlRecordType.COMMIT, marker.controlType());
        assertEquals(11, marker.coordinatorEpoch());
    }

    @Test
    void shouldReadKafkaTransactionMarkers() {
        for (ControlRecordType type : new ControlRecordType[] {ControlRecordType.ABORT, ControlRecordType.COMMIT}) {
            MemoryRecords kafka = MemoryRecords.withEndTransactionMarker(42L, 1_000L, 4, 99L, (short) 2,
                    new EndTransactionMarker(type, 31));
            RecordBatch batch = RecordBatch.wrap(Unpooled.wrappedBuffer(kafka.buffer()));
            batch.ensureValid();
            assertTrue(batch.isControl());
            assertTrue(batch.isTransactional());
            assertEquals(42L, batch.baseOffset());
            assertEquals(99L, batch.producerId());
            assertEquals(4, batch.partitionLeaderEpoch());
            try (RecordIterator records = batch.records()) {
                EndTxnMarker marker = EndTxnMarker.read(records.next());
                assertEquals(type.name(), marker.type().name());
                assertEquals(31, marker.coordinatorEpoch());
                assertFalse(records.hasNext());
            }
        }
    }

    @Test
    void shouldRefuseDataRecordsInAControlBatchAndSettingsAfterRecords() {
        RecordBatchBuilder control = RecordBatchBuilder.create(Unpooled.buffer())
                .appendEndTxnMarker(1L, new EndTxnMarker(io.tandem.kafka.wire.record.ControlRecordType.ABORT, 0));
        assertThrows(IllegalStateException.class, () -> control.append(1L, null, new byte[1]));
        RecordBatchBuilder data = RecordBatchBuilder.create(Unpooled.buffer()).append(1L, null, new byte[1]);
        assertThrows(IllegalStateException.class, () -> data.compression(CompressionType.LZ4));
        assertThrows(IllegalArgumentException.class,
                () -> data.appendWithOffset(0L, 1L, null, null, List.of()));
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldWriteAndReadAnEmptyBatchWithoutARecordsSection(CompressionType compression) {
        ByteBuf out = Unpooled.buffer();
        RecordBatch batch = RecordBatchBuilder.create(out).compression(compression).baseOffset(10L)
                .producer(3L, (short) 1, 5).build();
        assertEquals(RecordBatch.HEADER_BYTES, batch.sizeInBytes());
        assertEquals(0, batch.recordCount());
        assertEquals(compression, batch.compression());
        MutableRecordBatch kafka = onlyKafkaBatch(out);
        kafka.ensureValid();
        assertFalse(kafka.iterator().hasNext());
        try (RecordIterator records = batch.records()) {
            assertFalse(records.hasNext());
        }
    }

    @Test
    void shouldRefuseZstdInLegacyFormats() {
        assertThrows(IllegalArgumentException.class,
                () -> LegacyMessageSetBuilder.create(Unpooled.buffer(), (byte) 1).compression(CompressionType.ZSTD));
        ByteBuf zstd = Unpooled.wrappedBuffer(KafkaRecords.buildV2(CompressionType.ZSTD, 0L,
                KafkaRecords.samples(2, 1_000L, false)));
        assertThrows(IllegalArgumentException.class, () -> RecordConversion.downConvert(zstd, (byte) 1, 0L,
                Unpooled.buffer(), io.netty.buffer.ByteBufAllocator.DEFAULT));
    }
}
