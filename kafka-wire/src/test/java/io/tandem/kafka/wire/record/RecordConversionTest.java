package io.tandem.kafka.wire.record;

import static io.tandem.kafka.wire.record.KafkaRecords.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class RecordConversionTest {

    @ParameterizedTest
    @MethodSource("io.tandem.kafka.wire.record.LegacyMessageSetTest#legacyFormats")
    void shouldUpConvertKafkaBuiltLegacySetsIntoOneV2BatchKafkaReads(byte magic, CompressionType compression,
                                                                     TimestampType timestampType) {
        List<KafkaRecords.Sample> samples = KafkaRecords.samples(20, 1_600_000_000_000L, false);
        ByteBuffer legacy = LegacyMessageSetTest.kafkaLegacySet(magic, compression, timestampType, 0L, samples);
        List<org.apache.kafka.common.record.internal.Record> original = new ArrayList<>();
        MemoryRecords.readableRecords(legacy.duplicate()).records().forEach(original::add);

        ByteBuf out = Unpooled.buffer();
        RecordBatchBuilder builder = RecordBatchBuilder.create(out).baseOffset(5000L).compression(compression);
        assertEquals(samples.size(), RecordConversion.upConvert(Unpooled.wrappedBuffer(legacy), builder,
                ByteBufAllocator.DEFAULT));
        builder.build();

        MutableRecordBatch converted = MemoryRecords.readableRecords(KafkaRecords.toByteBuffer(out)).batches()
                .iterator().next();
        converted.ensureValid();
        assertEquals(2, converted.magic());
        int index = 0;
        for (org.apache.kafka.common.record.internal.Record record : converted) {
            org.apache.kafka.common.record.internal.Record source = original.get(index);
            assertEquals(5000L + index, record.offset());
            assertEquals(source.timestamp(), record.timestamp());
            assertArrayEquals(bytes(source.key()), bytes(record.key()));
            assertArrayEquals(bytes(source.value()), bytes(record.value()));
            index++;
        }
        assertEquals(samples.size(), index);
    }

    static List<Arguments> downConversions() {
        List<Arguments> arguments = new ArrayList<>();
        for (CompressionType compression : CompressionType.values()) {
            if (compression == CompressionType.ZSTD) {
                continue; // Kafka never down-converts zstd: old consumers cannot read it
            }
            arguments.add(Arguments.of((byte) 0, compression));
            arguments.add(Arguments.of((byte) 1, compression));
        }
        return arguments;
    }

    @ParameterizedTest
    @MethodSource("downConversions")
    void shouldDownConvertV2BatchesSkippingControlBatchesAndEarlierOffsets(byte toMagic,
                                                                           CompressionType compression) {
        List<KafkaRecords.Sample> first = KafkaRecords.samples(6, 1_600_000_000_000L, true);
        List<KafkaRecords.Sample> second = KafkaRecords.samples(4, 1_600_000_100_000L, true);
        ByteBuf log = Unpooled.buffer();
        log.writeBytes(KafkaRecords.buildV2(compression, 0L, first));
        log.writeBytes(MemoryRecords.withEndTransactionMarker(6L, 1L, 0, 9L, (short) 0,
                new EndTransactionMarker(ControlRecordType.COMMIT, 1)).buffer());
        log.writeBytes(KafkaRecords.build(RecordBatch.MAGIC, compression, TimestampType.LOG_APPEND_TIME, 7L,
                1_700_000_000_000L, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                RecordBatch.NO_SEQUENCE, false, 0, second));
        int complete = log.readableBytes();
        // A partial trailing batch, as a fetch response may end with.
        log.writeBytes(KafkaRecords.bytes(KafkaRecords.buildV2(compression, 11L, first)), 0, 30);

        ByteBuf out = Unpooled.buffer();
        int written = RecordConversion.downConvert(log, toMagic, 2L, out, ByteBufAllocator.DEFAULT);
        assertEquals(out.readableBytes(), written);
        assertEquals(complete + 30, log.readableBytes());

        List<org.apache.kafka.common.record.internal.Record> records = new ArrayList<>();
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(KafkaRecords.toByteBuffer(out)).batches()) {
            batch.ensureValid();
            assertEquals(toMagic, batch.magic());
            assertEquals(compression.id, batch.compressionType().id);
            batch.forEach(records::add);
        }
        List<Long> expectedOffsets = List.of(2L, 3L, 4L, 5L, 7L, 8L, 9L, 10L);
        assertEquals(expectedOffsets.size(), records.size());
        for (int i = 0; i < records.size(); i++) {
            org.apache.kafka.common.record.internal.Record record = records.get(i);
            long offset = expectedOffsets.get(i);
            KafkaRecords.Sample sample = offset < 6 ? first.get((int) offset) : second.get((int) offset - 7);
            assertEquals(offset, record.offset());
            long expectedTimestamp = toMagic == 0 ? RecordBatch.NO_TIMESTAMP
                    : offset < 6 ? sample.timestamp() : 1_700_000_000_000L;
            assertEquals(expectedTimestamp, record.timestamp());
            assertArrayEquals(sample.key(), bytes(record.key()));
            assertArrayEquals(sample.value(), bytes(record.value()));
        }
    }

    @Test
    void shouldReportImpossibleTimestampsAsCorruptInBothDirections() {
        ByteBuf legacy = Unpooled.buffer();
        LegacyMessageSetBuilder.create(legacy, (byte) 1).append(5L, null, new byte[] {1}).build();
        LegacyMessage message = LegacyMessageSets.of(legacy).iterator().next();
        message.setTimestamp(TimestampType.CREATE_TIME, -5L); // CRC rewritten: only the content is wrong
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(Unpooled.buffer())) {
            assertThrows(CorruptRecordException.class,
                    () -> RecordConversion.upConvert(legacy, builder, ByteBufAllocator.DEFAULT));
        }

        ByteBuf batch = Unpooled.buffer();
        RecordBatchBuilder.create(batch).append(1_000L, null, new byte[] {1}).append(1_001L, null, new byte[] {2})
                .build();
        RecordBatch view = RecordBatch.wrap(batch);
        batch.setLong(RecordBatch.BASE_TIMESTAMP_OFFSET, -10_000L); // records now resolve to negative timestamps
        view.writeCrc();
        assertThrows(CorruptRecordException.class, () -> RecordConversion.downConvert(batch, (byte) 1, 0L,
                Unpooled.buffer(), ByteBufAllocator.DEFAULT));
    }

    @Test
    void shouldRefuseToUpConvertACorruptLegacyMessage() {
        ByteBuf legacy = Unpooled.wrappedBuffer(LegacyMessageSetTest.kafkaLegacySet((byte) 1, CompressionType.NONE,
                TimestampType.CREATE_TIME, 0L, KafkaRecords.samples(3, 1_000_000L, false)));
        legacy.setByte(legacy.writerIndex() - 1, legacy.getByte(legacy.writerIndex() - 1) ^ 0x10);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(Unpooled.buffer())) {
            assertThrows(CorruptRecordException.class,
                    () -> RecordConversion.upConvert(legacy, builder, ByteBufAllocator.DEFAULT));
        }
    }
}
