package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.record.LegacyMessage;
import io.tandem.kafka.wire.record.LegacyMessageSetBuilder;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RecordConversionsTest {
    private static List<String> values(ByteBuf buf) {
        List<String> values = new ArrayList<>();
        for (RecordBatch batch : RecordBatches.of(buf)) {
            try (RecordIterator it = batch.records()) {
                while (it.hasNext()) {
                    Record r = it.next();
                    values.add(r.value().toString(StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }

    @Test
    void shouldRecompressWithTheTopicCodecKeepingProducerFieldsAndRecords() {
        ByteBuf in = Unpooled.buffer();
        try (RecordBatchBuilder b = RecordBatchBuilder.create(in).producer(42, (short) 3, 7)) {
            b.append(1000, null, "a".getBytes());
            b.append(1001, null, "b".getBytes());
            b.build();
        }
        ByteBuf out = RecordConversions.convertForAppend(in, CompressionType.GZIP, -1);
        try {
            RecordBatch batch = RecordBatches.of(out).iterator().next();
            assertEquals(CompressionType.GZIP, batch.compression());
            assertTrue(batch.isValid());
            assertEquals(42, batch.producerId());
            assertEquals(3, batch.producerEpoch());
            assertEquals(7, batch.baseSequence());
            assertEquals(List.of("a", "b"), values(out));
        } finally {
            out.release();
        }
        assertNull(RecordConversions.convertForAppend(in, null, -1), "compression.type=producer keeps the batch");
        assertNull(RecordConversions.convertForAppend(in, CompressionType.NONE, -1), "already in the topic's codec");
    }

    @Test
    void shouldUpConvertALegacyMessageSetToOneV2Batch() {
        ByteBuf legacy = Unpooled.buffer();
        try (LegacyMessageSetBuilder b = LegacyMessageSetBuilder.create(legacy, LegacyMessage.MAGIC_V1,
                ByteBufAllocator.DEFAULT).compression(CompressionType.SNAPPY)) {
            b.append(5000, null, Unpooled.copiedBuffer("x", StandardCharsets.UTF_8));
            b.append(5001, null, Unpooled.copiedBuffer("y", StandardCharsets.UTF_8));
            b.build();
        }
        ByteBuf out = RecordConversions.convertForAppend(legacy, null, -1);
        try {
            RecordBatch batch = RecordBatches.of(out).iterator().next();
            assertEquals(RecordBatch.MAGIC, batch.magic());
            assertEquals(CompressionType.SNAPPY, batch.compression(), "the producer's codec is kept");
            assertEquals(List.of("x", "y"), values(out));
        } finally {
            out.release();
        }
    }
}
