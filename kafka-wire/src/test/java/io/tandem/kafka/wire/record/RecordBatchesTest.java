package io.tandem.kafka.wire.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordBatchesTest {

    private static ByteBuf threeBatches() {
        ByteBuf buf = Unpooled.buffer();
        buf.writeBytes(KafkaRecords.buildV2(CompressionType.NONE, 0L, KafkaRecords.samples(3, 10L, true)));
        buf.writeBytes(KafkaRecords.buildV2(CompressionType.LZ4, 3L, KafkaRecords.samples(4, 10L, true)));
        buf.writeBytes(KafkaRecords.buildV2(CompressionType.ZSTD, 7L, KafkaRecords.samples(2, 10L, true)));
        return buf;
    }

    private static List<Long> baseOffsets(RecordBatches batches) {
        List<Long> offsets = new ArrayList<>();
        for (RecordBatch batch : batches) {
            batch.ensureValid();
            offsets.add(batch.baseOffset());
        }
        return offsets;
    }

    @Test
    void shouldIterateConcatenatedBatchesWithoutMovingIndexes() {
        ByteBuf buf = threeBatches();
        int readerIndex = buf.readerIndex();
        assertEquals(List.of(0L, 3L, 7L), baseOffsets(RecordBatches.of(buf)));
        assertEquals(readerIndex, buf.readerIndex());
        assertEquals(buf.readableBytes(), RecordBatches.of(buf).validBytes());
        assertEquals(2, RecordBatches.firstMagic(buf));
    }

    @Test
    void shouldStopCleanlyAtEveryPossiblePartialTrailingBatch() {
        ByteBuf full = threeBatches();
        int firstTwo = 0;
        int index = 0;
        for (RecordBatch batch : RecordBatches.of(full)) {
            if (index++ < 2) {
                firstTwo += batch.sizeInBytes();
            }
        }
        for (int cut = firstTwo; cut < full.readableBytes(); cut++) {
            ByteBuf truncated = full.slice(0, cut);
            assertEquals(List.of(0L, 3L), baseOffsets(RecordBatches.of(truncated)), "cut at " + cut);
            assertEquals(firstTwo, RecordBatches.of(truncated).validBytes());
        }
        assertEquals(List.of(), baseOffsets(RecordBatches.of(full.slice(0, 16))));
        assertEquals(-1, RecordBatches.firstMagic(full.slice(0, 16)));
    }

    @Test
    void shouldRejectSizesBelowTheMinimumAndUnknownMagic() {
        ByteBuf tooSmall = threeBatches();
        tooSmall.setInt(RecordBatch.LENGTH_OFFSET, 13);
        assertThrows(CorruptRecordException.class, () -> baseOffsets(RecordBatches.of(tooSmall)));

        ByteBuf smallerThanV2Header = threeBatches();
        smallerThanV2Header.setInt(RecordBatch.LENGTH_OFFSET, 20);
        assertThrows(CorruptRecordException.class, () -> baseOffsets(RecordBatches.of(smallerThanV2Header)));

        ByteBuf badMagic = threeBatches();
        badMagic.setByte(RecordBatch.MAGIC_OFFSET, 3);
        assertThrows(CorruptRecordException.class, () -> baseOffsets(RecordBatches.of(badMagic)));

        ByteBuf legacyMagic = threeBatches();
        legacyMagic.setByte(RecordBatch.MAGIC_OFFSET, 1);
        assertThrows(CorruptRecordException.class, () -> baseOffsets(RecordBatches.of(legacyMagic)));
    }

    @Test
    void shouldRejectBatchesLargerThanTheConfiguredMaximum() {
        ByteBuf buf = threeBatches();
        int firstSize = RecordBatch.wrap(buf).sizeInBytes();
        assertEquals(List.of(0L), baseOffsets(RecordBatches.of(buf.slice(0, firstSize), firstSize)));
        assertThrows(CorruptRecordException.class, () -> baseOffsets(RecordBatches.of(buf, firstSize - 1)));
    }
}
