package io.tandem.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A produce request's records reach {@link Log#appendAsLeader} as a slice of the connection's read buffer, on a
 * request thread, while the connection's event loop may go on appending the next request's bytes behind it in the same
 * buffer (the frame decoder's merge cumulator writes in place when the bytes fit, shared or not). With Netty 4.2's
 * adaptive allocator (the channels' default) each buffer caches one NIO view, and its channel transfers
 * ({@code getBytes(index, FileChannel, position, length)}) reset that view with {@code clear()} on the calling thread
 * while the event loop's writes position the same view: a write then lands at the buffer's start instead of its
 * writer index (measured before the fix: a few corrupted rounds per second here, none with the pooled or unpooled
 * allocators). The same race corrupted the Zab snapshot stream (SnapshotStreams' chunks were sliced off the read
 * buffer and written to a file on the receiver thread). The log must write a shared buffer without touching its
 * cached view; this test plays both threads on one adaptive buffer and checks both sides' bytes.
 */
class LogAppendFromSharedBufferTest {
    private static final long RUN_NANOS = Long.getLong("tandem.stress.sharedAppendMs", 2_000) * 1_000_000;

    @TempDir
    Path dir;

    @Test
    void appendingASliceShouldNotDisturbWritesBehindItOnAnotherThread() throws Exception {
        ByteBufAllocator allocator = new AdaptiveByteBufAllocator();
        ByteBuf batch = Batches.batch(40, 1_000);
        int batchBytes = batch.readableBytes();
        int tailBytes = 8 << 10;
        ScheduledExecutorService scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", String.valueOf(64 << 20)));
        long appends = 0;
        AtomicLong passes = new AtomicLong();
        AtomicLong damagedPasses = new AtomicLong();
        try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, System::currentTimeMillis, scheduler)) {
            for (boolean direct : new boolean[] {true, false}) {
                ByteBuf read = direct ? allocator.directBuffer(batchBytes + tailBytes, batchBytes + tailBytes)
                        : allocator.heapBuffer(batchBytes + tailBytes, batchBytes + tailBytes);
                ByteBuf records;
                try {
                    read.writeBytes(batch, batch.readerIndex(), batchBytes);
                    records = read.retainedSlice(0, batchBytes);
                } catch (RuntimeException e) {
                    read.release();
                    throw e;
                }
                AtomicBoolean stop = new AtomicBoolean();
                // The event loop's part: the next frames' bytes land behind the records, piece by piece, again and
                // again (each pass as if the earlier frames had been consumed), each pass checked.
                Thread eventLoop = new Thread(() -> {
                    byte[] piece = new byte[512];
                    byte value = 0;
                    while (!stop.get()) {
                        read.writerIndex(batchBytes);
                        boolean intact = true;
                        while (read.writableBytes() >= piece.length) {
                            int at = read.writerIndex();
                            Arrays.fill(piece, ++value);
                            if ((value & 1) == 0) {
                                read.writeBytes(piece);
                            } else {
                                read.writeBytes(Unpooled.wrappedBuffer(piece));
                            }
                            intact &= read.getByte(at) == value && read.getByte(at + piece.length - 1) == value;
                        }
                        if (!intact) damagedPasses.incrementAndGet();
                        passes.incrementAndGet();
                    }
                });
                eventLoop.start();
                try {
                    long end = System.nanoTime() + RUN_NANOS / 2;
                    while (System.nanoTime() < end) {
                        log.appendAsLeader(records.duplicate(), 0, -1);
                        appends++;
                    }
                } finally {
                    stop.set(true);
                    eventLoop.join();
                    records.release();
                    read.release();
                }
            }
            log.updateHighWatermark(log.logEndOffset());
            long offset = 0;
            long batchesRead = 0;
            while (offset < log.logEndOffset()) {
                LogSlice slice = log.read(offset, 1 << 20, log.logEndOffset(), true);
                for (Batches.Read record : Batches.parse(slice)) { // every batch's CRC checked, as a consumer does
                    assertEquals(offset, record.offset());
                    assertEquals("v" + (record.offset() - record.batchBaseOffset()), record.value());
                    offset++;
                }
                batchesRead++;
            }
            assertEquals(appends * 40, offset);
            System.out.printf("LogAppendFromSharedBufferTest: %d appends, %d passes behind them, %d reads checked%n",
                    appends, passes.get(), batchesRead);
        } finally {
            scheduler.shutdownNow();
            batch.release();
        }
        assertEquals(0, damagedPasses.get(), damagedPasses.get() + " of " + passes.get() + " passes lost bytes written"
                + " behind the slice while it was appended");
    }
}
