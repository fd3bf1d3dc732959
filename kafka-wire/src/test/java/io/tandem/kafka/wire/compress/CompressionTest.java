package io.tandem.kafka.wire.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jpountz.lz4.LZ4FrameOutputStream;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import net.jpountz.xxhash.StreamingXXHash32;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xerial.snappy.Snappy;

class CompressionTest {

    private static byte[][] payloads() {
        Random random = new Random(7);
        byte[] incompressible = new byte[150_000];
        random.nextBytes(incompressible);
        byte[] compressible = "kafka compatible compression ".repeat(12_000).getBytes(StandardCharsets.UTF_8);
        return new byte[][] {new byte[0], {42}, incompressible, compressible};
    }

    private static byte[] compressWithOurs(CompressionType type, byte[] data, byte magic) throws IOException {
        ByteBuf out = Unpooled.buffer();
        try (OutputStream stream = Compression.wrapForOutput(type, new ByteBufOutputStream(out), magic)) {
            // Mixed single-byte and bulk writes, as the record writers do.
            if (data.length > 0) {
                stream.write(data[0]);
                stream.write(data, 1, data.length - 1);
            }
        }
        byte[] result = new byte[out.readableBytes()];
        out.readBytes(result);
        return result;
    }

    private static byte[] readAll(InputStream in, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[chunk];
        while (true) {
            int read = chunk == 1 ? in.read() : in.read(buffer, 0, chunk);
            if (read < 0) {
                return out.toByteArray();
            }
            if (chunk == 1) {
                out.write(read);
            } else {
                out.write(buffer, 0, read);
            }
        }
    }

    private static byte[] decompressWithOurs(CompressionType type, byte[] compressed, byte magic, int chunk)
            throws IOException {
        ByteBuf in = Unpooled.wrappedBuffer(compressed);
        try (InputStream stream = Compression.wrapForInput(type, in, magic)) {
            byte[] result = readAll(stream, chunk);
            assertEquals(0, in.readerIndex(), "input buffer indexes must not move");
            return result;
        }
    }

    private static byte[] compressWithKafka(CompressionType type, byte[] data, byte magic) throws IOException {
        ByteBufferOutputStream out = new ByteBufferOutputStream(1024);
        try (OutputStream stream = org.apache.kafka.common.compress.Compression.of(type.configName).build()
                .wrapForOutput(out, magic)) {
            stream.write(data);
        }
        ByteBuffer buffer = out.buffer();
        buffer.flip();
        byte[] result = new byte[buffer.remaining()];
        buffer.get(result);
        return result;
    }

    private static byte[] decompressWithKafka(CompressionType type, byte[] compressed, byte magic) throws IOException {
        try (InputStream stream = org.apache.kafka.common.compress.Compression.of(type.configName).build()
                .wrapForInput(ByteBuffer.wrap(compressed), magic, BufferSupplier.create())) {
            return readAll(stream, 4096);
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldRoundTripEveryPayloadWhateverTheReadSize(CompressionType type) throws IOException {
        for (byte[] data : payloads()) {
            byte[] compressed = compressWithOurs(type, data, (byte) 2);
            assertArrayEquals(data, decompressWithOurs(type, compressed, (byte) 2, 8192));
            assertArrayEquals(data, decompressWithOurs(type, compressed, (byte) 2, 1000));
            if (data.length < 200) {
                assertArrayEquals(data, decompressWithOurs(type, compressed, (byte) 2, 1));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void shouldReadWhatKafkaWritesAndWriteWhatKafkaReads(CompressionType type) throws IOException {
        for (byte magic = 0; magic <= 2; magic++) {
            if (type == CompressionType.ZSTD && magic < 2) {
                continue;
            }
            for (byte[] data : payloads()) {
                assertArrayEquals(data, decompressWithOurs(type, compressWithKafka(type, data, magic), magic, 8192));
                assertArrayEquals(data, decompressWithKafka(type, compressWithOurs(type, data, magic), magic));
            }
        }
    }

    @Test
    void shouldWriteTheBrokenLz4HeaderChecksumForMagicV0Only() throws IOException {
        byte[] data = "old consumers expect the broken checksum".getBytes(StandardCharsets.UTF_8);
        byte[] v0 = compressWithOurs(CompressionType.LZ4, data, (byte) 0);
        byte[] v1 = compressWithOurs(CompressionType.LZ4, data, (byte) 1);
        assertEquals(v0.length, v1.length);
        // Only the header checksum byte (index 6) differs.
        assertEquals(Lz4Frame.headerChecksum(v0, 0, 6), v0[6]);
        assertEquals(Lz4Frame.headerChecksum(v1, 4, 2), v1[6]);
        v0[6] = v1[6];
        assertArrayEquals(v0, v1);
    }

    @Test
    void shouldAcceptTheBrokenLz4HeaderChecksumOnlyWithMagicV0() throws IOException {
        byte[] data = "payload".repeat(100).getBytes(StandardCharsets.UTF_8);
        byte[] broken = compressWithKafka(CompressionType.LZ4, data, (byte) 0);
        assertArrayEquals(data, decompressWithOurs(CompressionType.LZ4, broken, (byte) 0, 4096));
        assertThrows(IOException.class, () -> decompressWithOurs(CompressionType.LZ4, broken, (byte) 1, 4096));
        assertThrows(IOException.class, () -> decompressWithOurs(CompressionType.LZ4, broken, (byte) 2, 4096));
        byte[] correct = compressWithKafka(CompressionType.LZ4, data, (byte) 1);
        assertArrayEquals(data, decompressWithOurs(CompressionType.LZ4, correct, (byte) 0, 4096));
        // Kafka itself rejects our v0 frame when it expects a correct checksum: proof the checksum is the broken one.
        byte[] ours = compressWithOurs(CompressionType.LZ4, data, (byte) 0);
        Exception kafkaRefusal = assertThrows(org.apache.kafka.common.KafkaException.class,
                () -> decompressWithKafka(CompressionType.LZ4, ours, (byte) 1));
        assertEquals("Stream frame descriptor corrupted", kafkaRefusal.getCause().getMessage());
    }

    @Test
    void shouldReadLz4FramesWithContentSizeAndChecksumsAndLargerBlocks() throws IOException {
        byte[] data = payloads()[2];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LZ4FrameOutputStream stream = new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_256KB,
                data.length, LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_CHECKSUM, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM,
                LZ4FrameOutputStream.FLG.Bits.CONTENT_SIZE)) {
            stream.write(data);
        }
        byte[] frame = out.toByteArray();
        assertArrayEquals(data, decompressWithOurs(CompressionType.LZ4, frame, (byte) 2, 8192));

        byte[] badContentChecksum = frame.clone();
        badContentChecksum[badContentChecksum.length - 1] ^= 1;
        assertThrows(IOException.class,
                () -> decompressWithOurs(CompressionType.LZ4, badContentChecksum, (byte) 2, 8192));
        byte[] badBlock = frame.clone();
        badBlock[30] ^= 1;
        assertThrows(IOException.class, () -> decompressWithOurs(CompressionType.LZ4, badBlock, (byte) 2, 8192));
    }

    @Test
    void shouldReadRawSnappyAsWellAsTheXerialStream() throws IOException {
        byte[] data = payloads()[3];
        assertArrayEquals(data, decompressWithOurs(CompressionType.SNAPPY, Snappy.compress(data), (byte) 2, 8192));
        byte[] framed = compressWithOurs(CompressionType.SNAPPY, data, (byte) 2);
        assertEquals((byte) 0x82, framed[0]);
        assertArrayEquals(data, decompressWithOurs(CompressionType.SNAPPY, framed, (byte) 2, 8192));
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void shouldReportGarbageAndTruncationAsIOExceptionOnly(CompressionType type) throws IOException {
        Random random = new Random(type.id);
        byte[] valid = compressWithOurs(type, payloads()[3], (byte) 2);
        for (int trial = 0; trial < 200; trial++) {
            byte[] input;
            if (trial % 3 == 0) {
                input = new byte[random.nextInt(64)];
                random.nextBytes(input);
            } else if (trial % 3 == 1) {
                input = java.util.Arrays.copyOf(valid, random.nextInt(valid.length));
            } else {
                input = valid.clone();
                for (int flips = 0; flips < 3; flips++) {
                    input[random.nextInt(input.length)] ^= (byte) (1 + random.nextInt(255));
                }
            }
            try {
                decompressWithOurs(type, input, (byte) 2, 8192);
            } catch (IOException expected) {
                // the only acceptable failure
            }
        }
    }

    @Test
    void shouldReuseOneZstdContextForBatchAfterBatch() throws IOException {
        byte[] data = "record ".repeat(50).getBytes(StandardCharsets.UTF_8);
        // Kafka's producer writes frames without a content size: each such frame needs the level's full window.
        byte[] frame = compressWithKafka(CompressionType.ZSTD, data, (byte) 2);
        long before = ZstdInput.contextsCreated();
        for (int batch = 0; batch < 200; batch++) {
            assertArrayEquals(data, decompressWithOurs(CompressionType.ZSTD, frame, (byte) 2, 8192));
            assertTrue(ZstdInput.pooledContexts() >= 1, "the batch's context was not given back to the pool");
        }
        // One thread, one batch at a time: at most the one context this thread first took from the pool.
        assertTrue(ZstdInput.contextsCreated() - before <= 1,
                "native zstd contexts created for 200 batches: " + (ZstdInput.contextsCreated() - before));
    }

    @Test
    void shouldGiveTheZstdContextBackCleanAfterTruncatedOrMalformedInput() throws IOException {
        byte[] data = payloads()[2];
        byte[] frame = compressWithKafka(CompressionType.ZSTD, data, (byte) 2);
        long before = ZstdInput.contextsCreated();
        for (int trial = 0; trial < 100; trial++) {
            byte[] truncated = java.util.Arrays.copyOf(frame, 1 + trial * (frame.length - 2) / 100);
            assertThrows(IOException.class, () -> decompressWithOurs(CompressionType.ZSTD, truncated, (byte) 2, 8192));
            assertTrue(ZstdInput.pooledContexts() >= 1, "a truncated batch's context was not given back");
            byte[] corrupt = frame.clone();
            corrupt[4 + trial] ^= 0x5A;
            try {
                decompressWithOurs(CompressionType.ZSTD, corrupt, (byte) 2, 8192);
            } catch (IOException expected) {
                // a corrupt frame is refused; what matters is the state it leaves behind
            }
            // The context left in the middle of a frame is reset before its next use: the next batch reads whole.
            assertArrayEquals(data, decompressWithOurs(CompressionType.ZSTD, frame, (byte) 2, 8192));
        }
        assertTrue(ZstdInput.contextsCreated() - before <= 1,
                "contexts not given back on the error path: " + (ZstdInput.contextsCreated() - before) + " created");
    }

    @Test
    void shouldReadConsecutiveZstdFramesAsKafkaDoes() throws IOException {
        byte[] first = payloads()[3];
        byte[] second = payloads()[2];
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        frames.write(compressWithKafka(CompressionType.ZSTD, first, (byte) 2));
        frames.write(compressWithKafka(CompressionType.ZSTD, second, (byte) 2));
        byte[] both = frames.toByteArray();
        byte[] expected = decompressWithKafka(CompressionType.ZSTD, both, (byte) 2);
        assertEquals(first.length + second.length, expected.length);
        assertArrayEquals(expected, decompressWithOurs(CompressionType.ZSTD, both, (byte) 2, 8192));
        assertArrayEquals(expected, decompressWithOurs(CompressionType.ZSTD, both, (byte) 2, 1000));
    }

    @Test
    void shouldFreeTheLz4ContentChecksumStateOnClose() throws IOException {
        byte[] data = payloads()[3];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LZ4FrameOutputStream stream = new LZ4FrameOutputStream(out, LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)) {
            stream.write(data);
        }
        Lz4FrameInputStream in = (Lz4FrameInputStream) Compression.wrapForInput(CompressionType.LZ4,
                Unpooled.wrappedBuffer(out.toByteArray()), (byte) 2);
        assertArrayEquals(data, readAll(in, 8192));
        StreamingXXHash32 hash = in.contentHash();
        hash.getValue(); // usable while the stream is open
        in.close();
        // lz4-java's JNI hash frees its native state on close and refuses use afterwards (its Java one keeps none).
        if (hash.getClass().getSimpleName().endsWith("JNI")) {
            assertThrows(AssertionError.class, hash::getValue);
        }
    }
}
