package io.tandem.storage.log;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * How much a read from a segment file into heap memory asks of the channel at once. The JDK reads a file into a heap
 * buffer through a temporary direct buffer as large as the read, and keeps that buffer in a cache of the reading
 * thread for the thread's whole life (sun.nio.ch.Util's buffer cache, unbounded unless
 * {@code -Djdk.nio.maxCachedBufferSize} is set). A Fetch asking 8 MiB per partition is read into heap memory (too
 * large for a zero-copy placeholder): each request handler thread that answered one kept 8 MiB of native memory
 * for good, 47 MiB over the threads after one reader (docs/BENCHMARKS.md, the codec soak). Writes from heap memory
 * (a segment append of a batch the broker built on the heap) go through the same cache. Reads and writes of at most
 * {@link #CHUNK_BYTES} each keep that cache at {@code CHUNK_BYTES} per thread, whatever the fetch or batch size.
 */
public final class FileReads {
    /** The most one channel read into (or write from) a heap buffer asks for; large enough for few system calls. */
    public static final int CHUNK_BYTES = 256 << 10;

    private FileReads() {
    }

    /**
     * Fills {@code target} (position to limit) from {@code channel} at {@code position}, in reads of at most
     * {@link #CHUNK_BYTES}; the end of the file before that is an {@link EOFException} naming {@code file}.
     */
    public static void readFully(FileChannel channel, ByteBuffer target, long position, Object file)
            throws IOException {
        long at = position;
        int end = target.limit();
        try {
            while (target.hasRemaining()) {
                target.limit((int) Math.min(end, (long) target.position() + CHUNK_BYTES));
                int n = channel.read(target, at);
                if (n < 0) throw new EOFException("unexpected end of " + file + " at byte " + at);
                at += n;
                target.limit(end);
            }
        } finally {
            target.limit(end);
        }
    }
}
