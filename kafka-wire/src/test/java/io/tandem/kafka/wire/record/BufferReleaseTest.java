package io.tandem.kafka.wire.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.tandem.kafka.wire.compress.CompressionType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every scratch and decompression buffer taken from an allocator goes back to it, on success and on corrupt input.
 * Uses an instrumented unpooled allocator whose metric counts the bytes of live buffers exactly.
 */
class BufferReleaseTest {

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void shouldReturnEveryAllocatedBufferOnSuccessAndOnCorruptInput(CompressionType compression) {
        UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(false);

        ByteBuf batches = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batches, allocator).compression(compression)) {
            for (KafkaRecords.Sample sample : KafkaRecords.samples(8, 1_000_000L, true)) {
                builder.append(sample.timestamp(), RecordBatchBuilderTest.wrapOrNull(sample.key()),
                        RecordBatchBuilderTest.wrapOrNull(sample.value()), RecordBatchBuilderTest.headers(sample));
            }
            builder.build();
        }
        try (RecordBatchBuilder abandoned = RecordBatchBuilder.create(Unpooled.buffer(), allocator)
                .compression(compression)) {
            abandoned.append(1L, null, new byte[10]);
        }
        assertEquals(0, allocator.metric().usedHeapMemory());

        int read = 0;
        for (RecordBatch batch : RecordBatches.of(batches)) {
            try (RecordIterator records = batch.records(allocator)) {
                assertTrue(allocator.metric().usedHeapMemory() > 0);
                while (records.hasNext()) {
                    records.next();
                    read++;
                }
            }
        }
        assertEquals(8, read);
        assertEquals(0, allocator.metric().usedHeapMemory());

        if (compression != CompressionType.ZSTD) {
            ByteBuf legacy = Unpooled.buffer();
            RecordConversion.downConvert(batches, (byte) 1, 0L, legacy, allocator);
            try (LegacyMessageSets.DeepIterator records = LegacyMessageSets.of(legacy).records(allocator)) {
                records.forEachRemaining(record -> { });
            }
            RecordBatchBuilder upConverted = RecordBatchBuilder.create(Unpooled.buffer(), allocator)
                    .compression(compression);
            RecordConversion.upConvert(legacy, upConverted, allocator);
            upConverted.build();
            assertEquals(0, allocator.metric().usedHeapMemory());
        }

        // A decompression limit below the batch's real size is refused as corrupt, releasing the partial output.
        RecordBatch whole = RecordBatch.wrap(batches);
        assertThrows(CorruptRecordException.class, () -> whole.records(allocator, 100).close());
        assertEquals(0, allocator.metric().usedHeapMemory());

        // Damage the compressed payload (not the header): decompression or parsing fails, nothing may leak.
        ByteBuf damaged = batches.copy();
        for (int index = RecordBatch.RECORDS_OFFSET + 8; index < damaged.writerIndex(); index += 3) {
            damaged.setByte(index, damaged.getByte(index) ^ 0x5A);
        }
        RecordBatch batch = RecordBatch.wrap(damaged);
        assertThrows(CorruptRecordException.class, () -> {
            try (RecordIterator records = batch.records(allocator)) {
                records.forEachRemaining(record -> { });
            }
        });
        assertEquals(0, allocator.metric().usedHeapMemory());
    }
}
