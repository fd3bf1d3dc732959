package io.tandem.storage.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large read from a segment into heap memory (or append from it) must not leave the thread holding a direct buffer
 * of its size: the JDK caches the temporary direct buffer of each heap read and write per thread, so they go in pieces
 * of {@link FileReads#CHUNK_BYTES}.
 */
public class FileReadsTest {
    public static final int READ_BYTES = 8 << 20;

    @Test
    void shouldReadALargeSliceIntoHeapMemoryWithoutCachingADirectBufferOfItsSize(@TempDir Path dir) throws Exception {
        byte[] content = new byte[READ_BYTES];
        new Random(12).nextBytes(content);
        Path file = Files.write(dir.resolve("00000000000000000000.log"), content);
        try (FileChannel channel = FileChannel.open(file)) {
            LogSlice slice = new LogSlice(channel, file, 0, READ_BYTES, 0, 1);
            AtomicReference<byte[]> read = new AtomicReference<>();
            long kept = directBytesKeptBy(() -> {
                read.set(heapCopy(slice.readBytes(UnpooledByteBufAllocator.DEFAULT)));
                return null;
            });
            assertArrayEquals(content, read.get());
            assertAtMostAFewChunks(kept);
        }
    }

    @Test
    void shouldReadALargeBatchOfASegmentWithoutCachingADirectBufferOfItsSize(@TempDir Path dir) throws Exception {
        ByteBuf batch = largeBatch(14);
        try (LogSegment segment = LogSegment.create(dir, 0, LogConfig.defaults(), 1_000L, "")) {
            segment.append(batch.duplicate());
            AtomicReference<byte[]> read = new AtomicReference<>();
            long kept = directBytesKeptBy(() -> {
                read.set(heapCopy(segment.readBatch(segment.translateOffset(0))));
                return null;
            });
            assertArrayEquals(ByteBufUtil.getBytes(batch), read.get());
            assertAtMostAFewChunks(kept);
        }
    }

    @Test
    void shouldAppendALargeHeapBatchWithoutCachingADirectBufferOfItsSize(@TempDir Path dir) throws Exception {
        ByteBuf batch = largeBatch(15);
        try (LogSegment segment = LogSegment.create(dir, 0, LogConfig.defaults(), 1_000L, "")) {
            long kept = directBytesKeptBy(() -> {
                segment.append(batch.duplicate());
                return null;
            });
            assertAtMostAFewChunks(kept);
            assertArrayEquals(ByteBufUtil.getBytes(batch), heapCopy(segment.readBatch(segment.translateOffset(0))));
        }
    }

    /** One batch of one record whose value is {@link #READ_BYTES} random bytes (from {@code seed}). */
    private static ByteBuf largeBatch(long seed) {
        byte[] value = new byte[READ_BYTES];
        new Random(seed).nextBytes(value);
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(READ_BYTES + 1024), Compression.NONE,
                TimestampType.CREATE_TIME, 0);
        builder.append(1_000L, null, ByteBuffer.wrap(value));
        return Unpooled.wrappedBuffer(builder.build().buffer());
    }

    /** The bytes {@code read} holds, copied to the heap; releases it. */
    private static byte[] heapCopy(ByteBuf read) {
        try {
            return ByteBufUtil.getBytes(read);
        } finally {
            read.release();
        }
    }

    /** Fails unless {@code kept} (bytes) is below what one whole-size read would have left cached. */
    public static void assertAtMostAFewChunks(long kept) {
        assertTrue(kept <= 2L * FileReads.CHUNK_BYTES,
                "direct memory kept after an 8 MiB read or write of heap memory: " + kept + " bytes");
    }

    /**
     * Direct memory in use after {@code read} ran on a thread of its own, less before: what the JDK cached for the
     * thread. Measured on that thread, before it ends (the JDK frees a thread's cached buffers when it does).
     */
    public static long directBytesKeptBy(Callable<?> read) throws Exception {
        AtomicLong kept = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                long before = directBytesInUse();
                read.call();
                kept.set(directBytesInUse() - before);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.start();
        reader.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
        return kept.get();
    }

    private static long directBytesInUse() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) return pool.getMemoryUsed();
        }
        throw new IllegalStateException("no direct buffer pool");
    }
}
