package io.tandem.kafka.wire.record;

import static io.tandem.kafka.wire.record.KafkaRecords.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DeleteHorizonAndTransactionsTest {
    private static final long DELETE_HORIZON = 1_600_000_000_000L;

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReadKafkaBatchesWithADeleteHorizonTimestampsIntact(CompressionType compression) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(6, 1_700_000_000_000L, true);
        ByteBufferOutputStream stream = new ByteBufferOutputStream(ByteBuffer.allocate(1 << 16));
        MemoryRecordsBuilder builder = new MemoryRecordsBuilder(stream, RecordBatch.MAGIC,
                KafkaRecords.kafkaCompression(compression), org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                50L, RecordBatch.NO_TIMESTAMP, 11L, (short) 2, 0, true, false, 0, 1 << 16, DELETE_HORIZON);
        long offset = 50L;
        for (KafkaRecords.Sample sample : samples) {
            builder.appendWithOffset(offset++, sample.timestamp(), sample.key(), sample.value(), sample.kafkaHeaders());
        }
        ByteBuffer kafka = builder.build().buffer();
        MutableRecordBatch expected = MemoryRecords.readableRecords(kafka.duplicate()).batches().iterator().next();

        RecordBatch batch = RecordBatch.wrap(Unpooled.wrappedBuffer(kafka));
        batch.ensureValid();
        assertTrue(batch.hasDeleteHorizon());
        assertTrue(batch.isTransactional());
        assertEquals(DELETE_HORIZON, batch.deleteHorizonMs());
        assertEquals(expected.deleteHorizonMs().getAsLong(), batch.deleteHorizonMs());
        try (RecordIterator records = batch.records()) {
            RecordBatchTest.assertRecordsMatchKafka(expected, records);
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldWriteDeleteHorizonAndTransactionalBatchesKafkaReads(CompressionType compression) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(6, 1_700_000_000_000L, true);
        ByteBuf out = Unpooled.buffer();
        RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(compression).baseOffset(50L)
                .producer(11L, (short) 2, 0).transactional(true).deleteHorizonMs(DELETE_HORIZON);
        for (KafkaRecords.Sample sample : samples) {
            builder.append(sample.timestamp(), RecordBatchBuilderTest.wrapOrNull(sample.key()),
                    RecordBatchBuilderTest.wrapOrNull(sample.value()), RecordBatchBuilderTest.headers(sample));
        }
        builder.build();
        MutableRecordBatch kafka = MemoryRecords.readableRecords(KafkaRecords.toByteBuffer(out)).batches()
                .iterator().next();
        kafka.ensureValid();
        assertTrue(kafka.isTransactional());
        assertEquals(DELETE_HORIZON, kafka.deleteHorizonMs().getAsLong());
        int index = 0;
        for (org.apache.kafka.common.record.internal.Record record : kafka) {
            assertEquals(samples.get(index).timestamp(), record.timestamp());
            assertArrayEquals(samples.get(index).value(), bytes(record.value()));
            index++;
        }
        assertEquals(samples.size(), index);
    }
}
