package io.tandem.kafka.wire.record;

import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Truncated, bit-flipped and random bytes must only ever produce {@link CorruptRecordException} (or be read as
 * something valid), never another exception type, from every reading entry point. The CRC is deliberately not checked
 * first, so the parsers themselves see the damage.
 */
class MalformedInputTest {

    private static void readEverythingAsBatches(ByteBuf buf) {
        for (RecordBatch batch : RecordBatches.of(buf)) {
            batch.isValid();
            batch.toString();
            try (RecordIterator records = batch.records()) {
                while (records.hasNext()) {
                    Record record = records.next();
                    record.key();
                    record.value();
                    for (Header header : record.headers()) {
                        header.value();
                    }
                }
            }
        }
    }

    private static void convertEverything(ByteBuf buf, boolean legacy) {
        if (legacy) {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(Unpooled.buffer())) {
                RecordConversion.upConvert(buf, builder, ByteBufAllocator.DEFAULT);
                builder.build();
            }
            return;
        }
        for (RecordBatch batch : RecordBatches.of(buf)) {
            if (batch.compression() == CompressionType.ZSTD) {
                return; // documented: the broker refuses zstd down-conversion before converting
            }
        }
        RecordConversion.downConvert(buf, (byte) 1, 0L, Unpooled.buffer(), ByteBufAllocator.DEFAULT);
    }

    private static void readEverythingAsLegacy(ByteBuf buf) {
        for (LegacyMessage message : LegacyMessageSets.of(buf)) {
            message.isValid();
            message.key();
            message.value();
        }
        try (LegacyMessageSets.DeepIterator records = LegacyMessageSets.of(buf).records()) {
            while (records.hasNext()) {
                records.next().message().isValid();
            }
        }
    }

    private static void expectOnlyCorruptRecordException(ByteBuf input, boolean legacy, String what) {
        try {
            if (legacy) {
                readEverythingAsLegacy(input);
            } else {
                readEverythingAsBatches(input);
            }
        } catch (CorruptRecordException expected) {
            // the only acceptable failure
        } catch (RuntimeException e) {
            fail(what + " threw " + e, e);
        }
        try {
            convertEverything(input, legacy);
        } catch (CorruptRecordException expected) {
            // the only acceptable failure
        } catch (RuntimeException e) {
            fail(what + " threw " + e, e);
        }
    }

    private static void damageInManyWays(ByteBuf valid, boolean legacy, long seed) {
        Random random = new Random(seed);
        byte[] bytes = KafkaRecords.bytes(valid);
        for (int cut = 0; cut < bytes.length; cut += Math.max(1, bytes.length / 40)) {
            expectOnlyCorruptRecordException(Unpooled.wrappedBuffer(bytes, 0, cut), legacy, "truncation at " + cut);
        }
        for (int trial = 0; trial < 120; trial++) {
            byte[] damaged = bytes.clone();
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips; i++) {
                damaged[random.nextInt(damaged.length)] ^= (byte) (1 + random.nextInt(255));
            }
            expectOnlyCorruptRecordException(Unpooled.wrappedBuffer(damaged), legacy, "flip trial " + trial);
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldThrowOnlyCorruptRecordExceptionForDamagedBatches(CompressionType compression) {
        ByteBuf valid = Unpooled.buffer();
        valid.writeBytes(KafkaRecords.buildV2(compression, 0L, KafkaRecords.samples(5, 1_000_000L, true)));
        valid.writeBytes(KafkaRecords.buildV2(compression, 12L, KafkaRecords.samples(3, 1_000_000L, true)));
        damageInManyWays(valid, false, compression.id);
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "ZSTD", mode = EnumSource.Mode.EXCLUDE)
    void shouldThrowOnlyCorruptRecordExceptionForDamagedLegacySets(CompressionType compression) {
        for (byte magic = 0; magic <= 1; magic++) {
            ByteBuf valid = Unpooled.buffer();
            LegacyMessageSetBuilder builder = LegacyMessageSetBuilder.create(valid, magic).compression(compression);
            for (KafkaRecords.Sample sample : KafkaRecords.samples(5, 1_000_000L, false)) {
                builder.append(sample.timestamp(), sample.key(), sample.value());
            }
            builder.build();
            damageInManyWays(valid, true, magic * 10L + compression.id);
        }
    }

    @Test
    void shouldThrowOnlyCorruptRecordExceptionForRandomBytes() {
        Random random = new Random(99);
        for (int trial = 0; trial < 2000; trial++) {
            byte[] bytes = new byte[random.nextInt(200)];
            random.nextBytes(bytes);
            if (bytes.length > RecordBatch.MAGIC_OFFSET && trial % 2 == 0) {
                // Make the framing plausible so the parsers behind it get exercised too.
                Unpooled.wrappedBuffer(bytes).setInt(RecordBatch.LENGTH_OFFSET, bytes.length - 12);
                bytes[RecordBatch.MAGIC_OFFSET] = (byte) (trial % 3);
            }
            boolean legacy = bytes.length > RecordBatch.MAGIC_OFFSET && bytes[RecordBatch.MAGIC_OFFSET] < 2;
            expectOnlyCorruptRecordException(Unpooled.wrappedBuffer(bytes), legacy, "random trial " + trial);
        }
    }

    @Test
    void shouldRejectHeaderCountsAndSizesThatOverrunTheRecord() {
        ByteBuf buf = Unpooled.buffer();
        RecordBatchBuilder.create(buf).append(1L, Unpooled.wrappedBuffer(new byte[] {1}),
                Unpooled.wrappedBuffer(new byte[] {2}), List.of(new Header("k", null))).build();
        byte[] bytes = KafkaRecords.bytes(buf);
        for (int index = RecordBatch.RECORDS_OFFSET; index < bytes.length; index++) {
            for (int value : new int[] {0x7F, 0x01, 0xFF, 0x80}) {
                byte[] damaged = bytes.clone();
                damaged[index] = (byte) value;
                expectOnlyCorruptRecordException(Unpooled.wrappedBuffer(damaged), false, "byte " + index);
            }
        }
    }

    /** Reads every record of the one batch in {@code bytes} without checking its CRC; returns what it threw, or null. */
    private static CorruptRecordException readRecords(byte[] bytes) {
        try (RecordIterator records = RecordBatch.wrap(Unpooled.wrappedBuffer(bytes)).records()) {
            while (records.hasNext()) {
                records.next().headers();
            }
            return null;
        } catch (CorruptRecordException e) {
            return e;
        }
    }

    @Test
    void shouldReportAMalformedRecordInsideAnIntactBatchAsInvalidAndAnUndecompressablePayloadAsCorrupt() {
        // Kafka answers the first INVALID_RECORD and the second otherwise, so the broker must tell them apart.
        ByteBuf plain = Unpooled.buffer();
        RecordBatchBuilder.create(plain).append(1L, Unpooled.wrappedBuffer(new byte[] {1}),
                Unpooled.wrappedBuffer(new byte[] {2}), List.of(new Header("k", Unpooled.wrappedBuffer(new byte[] {3}))))
                .build();
        byte[] bytes = KafkaRecords.bytes(plain);
        int noticed = 0;
        for (int index = RecordBatch.RECORDS_OFFSET; index < bytes.length; index++) {
            for (int value : new int[] {0x7F, 0x01, 0xFF, 0x80}) {
                byte[] damaged = bytes.clone();
                damaged[index] = (byte) value;
                CorruptRecordException e = readRecords(damaged);
                if (e != null) {
                    noticed++;
                    if (!(e instanceof InvalidRecordException)) {
                        fail("byte " + index + " = " + value + " threw " + e, e);
                    }
                }
            }
        }
        byte[] miscounted = bytes.clone();
        Unpooled.wrappedBuffer(miscounted).setInt(RecordBatch.RECORD_COUNT_OFFSET, 2);
        if (!(readRecords(miscounted) instanceof InvalidRecordException)) {
            fail("a count above the records present must be an invalid record");
        }
        if (noticed < 10) {
            fail("only " + noticed + " damaged records noticed");
        }
        ByteBuf gzip = Unpooled.buffer();
        RecordBatchBuilder.create(gzip).compression(CompressionType.GZIP).append(1L, null, new byte[100]).build();
        byte[] undecompressable = KafkaRecords.bytes(gzip);
        for (int index = RecordBatch.RECORDS_OFFSET; index < RecordBatch.RECORDS_OFFSET + 4; index++) {
            undecompressable[index] = 0;
        }
        CorruptRecordException e = readRecords(undecompressable);
        if (e == null || e instanceof InvalidRecordException) {
            fail("a gzip payload without its header must be corrupt, not an invalid record: " + e);
        }
    }
}
