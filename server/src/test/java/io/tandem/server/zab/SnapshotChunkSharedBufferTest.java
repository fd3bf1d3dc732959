package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cause of the Zab snapshot streams that arrived with foreign bytes (about 1 run in 900 of QuorumTransportTest's
 * 3 MB stream, before c229588e): the receiver handed each chunk to its disk thread as a slice of the connection's read
 * buffer, and the disk thread wrote it with {@code readBytes(FileChannel, length)}. On Netty 4.2's adaptive buffers
 * (the channels' default allocator) that transfer goes through the buffer's one cached NIO view and resets it
 * ({@code clear()}), while the event loop, cumulating the next frames into the same buffer behind the chunk, positions
 * that same view for its writes: a write then lands at the view's start, over the chunk not yet written out or over
 * earlier frames, and the bytes meant for the writer index are never written (wrong lengths: the streams that stopped
 * short). Allocation and release across threads, which the earlier analysis suspected, are safe; it is the transfer.
 *
 * <p>Here the test thread plays the event loop: each chunk frame is a slice of an adaptive buffer, and while the
 * receiver thread stores the chunk the test keeps writing the next frames' bytes behind it and checks them; the
 * stored snapshot must be the bytes sent. With the chunk handed on as a slice ({@code frame.retainedSlice}, the code
 * before c229588e), this failed in 2 runs of 2 (1 and 3 misplaced writes); LogAppendFromSharedBufferTest in storage
 * shows the same race on the produce path, where it was still live.
 */
class SnapshotChunkSharedBufferTest {
    private static final int CHUNK_BYTES = 64 << 10;
    private static final int CHUNKS = 16;
    private static final long RUN_NANOS = Long.getLong("tandem.stress.snapshotChunkMs", 2_000) * 1_000_000;

    @TempDir
    Path dir;

    @Test
    void storedSnapshotShouldBeTheBytesSentWhileTheReadBufferFillsBehindEachChunk() throws Exception {
        ByteBufAllocator allocator = new AdaptiveByteBufAllocator();
        LinkedBlockingQueue<ZabMessage> delivered = new LinkedBlockingQueue<>();
        EmbeddedChannel channel = new EmbeddedChannel();
        SnapshotStreams streams = new SnapshotStreams(1, CHUNK_BYTES, dir.resolve("incoming"));
        long rounds = 0;
        long damagedWrites = 0;
        long writesBehind = 0;
        try {
            SnapshotStreams.Receiving receiving =
                    streams.new Receiving(channel, (peer, message) -> delivered.add(message));
            SplittableRandom random = new SplittableRandom(17);
            byte[] piece = new byte[256];
            long end = System.nanoTime() + RUN_NANOS;
            while (System.nanoTime() < end || rounds == 0) {
                byte[] snapshot = new byte[CHUNKS * CHUNK_BYTES];
                random.nextBytes(snapshot);
                ZabMessage.Sync announced = new ZabMessage.Sync(1, rounds, ZabMessage.SyncMode.SNAP, 0, 0,
                        new ZabCodec.AnnouncedSnapshot(snapshot.length), List.of());
                assertTrue(receiving.onMessage(2, announced));
                for (int c = 0; c < CHUNKS; c++) {
                    int readBytes = 1 + CHUNK_BYTES + 16 * piece.length;
                    ByteBuf read = (c % 2 == 0 ? allocator.directBuffer(readBytes, readBytes)
                            : allocator.heapBuffer(readBytes, readBytes));
                    try {
                        read.writeByte(ZabCodec.SNAPSHOT_CHUNK).writeBytes(snapshot, c * CHUNK_BYTES, CHUNK_BYTES);
                        long stored = streams.chunksReceived();
                        ByteBuf frame = read.retainedSlice(0, 1 + CHUNK_BYTES);
                        try {
                            assertTrue(receiving.onFrame(2, frame));
                        } finally {
                            frame.release(); // as the connection's handler does once onFrame returns
                        }
                        // The event loop goes on: the next frames' bytes arrive behind the chunk until it is stored.
                        int behind = read.writerIndex();
                        byte value = 0;
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                        do {
                            read.writerIndex(behind);
                            while (read.writableBytes() >= piece.length) {
                                int at = read.writerIndex();
                                Arrays.fill(piece, ++value);
                                if ((value & 1) == 0) {
                                    read.writeBytes(piece);
                                } else {
                                    read.writeBytes(Unpooled.wrappedBuffer(piece)); // as a heap socket read arrives
                                }
                                writesBehind++;
                                if (read.getByte(at) != value || read.getByte(at + piece.length - 1) != value) {
                                    damagedWrites++;
                                }
                            }
                        } while (streams.chunksReceived() == stored && System.nanoTime() < deadline);
                    } finally {
                        read.release();
                    }
                }
                ZabMessage message = delivered.poll(30, TimeUnit.SECONDS);
                assertTrue(message instanceof ZabMessage.Sync, "no snapshot delivered in round " + rounds);
                SnapshotData received = ((ZabMessage.Sync) message).snapshot();
                try (InputStream in = received.open()) {
                    assertArrayEquals(snapshot, in.readAllBytes(), "the snapshot stored in round " + rounds);
                } finally {
                    received.release();
                }
                rounds++;
            }
        } finally {
            streams.close();
            channel.finishAndReleaseAll();
        }
        System.out.printf("SnapshotChunkSharedBufferTest: %d snapshots of %d chunks, %d writes behind them%n",
                rounds, CHUNKS, writesBehind);
        assertEquals(0, damagedWrites, damagedWrites + " of " + writesBehind + " writes behind a chunk being stored"
                + " landed elsewhere");
    }
}
