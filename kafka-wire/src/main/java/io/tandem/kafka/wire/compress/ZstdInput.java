package io.tandem.kafka.wire.compress;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads zstd frames from a {@link ByteBuf} region with a native decompression context taken from a small pool and
 * given back on close, instead of a new context per batch (as zstd-jni's ZstdInputStream, and Kafka's reader, create).
 *
 * <p>Why: a frame written by Kafka's Java producer does not declare its size, so its context sizes a window for the
 * level's whole window (2 MiB at level 3): every batch cost a native malloc and free of ~2.3 MiB and a context set-up.
 * Reused, a context allocates once; one thread then read 2.1x as many one-record batches a second (bench's
 * CodecMemoryProbe, docs/BENCHMARKS.md). Native memory measured the same or lower (a zstd broker's malloc arenas
 * 36.0 MiB against 40.9), and the pool bounds what is kept to {@link #POOL_CAPACITY} contexts.
 *
 * <p>Every path gives the context back, or frees it when the pool is full: {@link #close()} resets it (so a stream
 * abandoned in the middle of a frame, by an error or a truncated input, leaves no state behind for the next user).
 */
final class ZstdInput extends InputStream {
    /**
     * Contexts kept for reuse: enough for every request handler (num.io.threads, 8 by default) and a few other
     * threads (the log cleaner, fetch conversion, coordinator loads) decompressing at once; more than that are
     * created and freed as needed.
     */
    static final int POOL_CAPACITY = 16;
    /** Compressed bytes handed to zstd per call; zstd-jni's own stream reads its source in chunks of this size. */
    private static final int SOURCE_CHUNK_BYTES = 128 * 1024 + 3;
    /** Decompressed bytes per call: zstd's own recommendation (one full block). */
    private static final int OUTPUT_CHUNK_BYTES = 128 * 1024;

    private static final ArrayBlockingQueue<Context> POOL = new ArrayBlockingQueue<>(POOL_CAPACITY);
    private static final AtomicLong CONTEXTS_CREATED = new AtomicLong();

    /** A native context and its direct buffers (zstd-jni's streaming call reads and writes direct memory only). */
    private static final class Context {
        final ZstdDecompressCtx zstd = new ZstdDecompressCtx();
        final ByteBuffer source = ByteBuffer.allocateDirect(SOURCE_CHUNK_BYTES);
        final ByteBuffer output = ByteBuffer.allocateDirect(OUTPUT_CHUNK_BYTES);

        Context() {
            CONTEXTS_CREATED.incrementAndGet();
        }
    }

    private final ByteBuf in;
    private Context context;
    private boolean finished;

    /** @param in the frames, from its reader index to its writer index; reading consumes its reader index */
    ZstdInput(ByteBuf in) {
        this.in = in;
        Context pooled = POOL.poll();
        this.context = pooled != null ? pooled : new Context();
        context.source.clear().limit(0);
        context.output.clear().limit(0);
    }

    @Override
    public int read() throws IOException {
        if (!ensureOutput()) {
            return -1;
        }
        return context.output.get() & 0xFF;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (!ensureOutput()) {
            return -1;
        }
        int chunk = Math.min(length, context.output.remaining());
        context.output.get(target, offset, chunk);
        return chunk;
    }

    @Override
    public int available() {
        return context == null ? 0 : context.output.remaining();
    }

    /** Decompresses more if all output so far has been read; false at the end of the last frame. */
    private boolean ensureOutput() throws IOException {
        if (context == null) {
            throw new IOException("zstd stream is closed");
        }
        ByteBuffer source = context.source;
        ByteBuffer output = context.output;
        while (!output.hasRemaining()) {
            if (finished) {
                return false;
            }
            if (!source.hasRemaining() && in.isReadable()) {
                int chunk = Math.min(source.capacity(), in.readableBytes());
                source.clear().limit(chunk);
                in.readBytes(source);
                source.flip();
            }
            int sourceBefore = source.position();
            output.clear();
            boolean frameDone;
            try {
                frameDone = context.zstd.decompressDirectByteBufferStream(output, source);
            } catch (ZstdException e) {
                output.limit(0);
                throw new IOException("zstd stream is malformed: " + e.getMessage(), e);
            }
            output.flip();
            boolean inputLeft = source.hasRemaining() || in.isReadable();
            if (frameDone && !inputLeft) {
                // Frames may follow one another (zstd starts the next one itself); the last one ends the stream.
                finished = true;
            } else if (!inputLeft && !output.hasRemaining() && source.position() == sourceBefore) {
                throw new IOException("zstd frame is truncated");
            }
        }
        return true;
    }

    @Override
    public void close() {
        Context done = context;
        if (done == null) {
            return;
        }
        context = null;
        try {
            done.zstd.reset();
        } catch (RuntimeException e) {
            done.zstd.close();
            return;
        }
        if (!POOL.offer(done)) {
            done.zstd.close();
        }
    }

    /** Contexts waiting in the pool for their next stream. */
    static int pooledContexts() {
        return POOL.size();
    }

    /** Native contexts created since start-up (tests check that batches reuse them). */
    static long contextsCreated() {
        return CONTEXTS_CREATED.get();
    }
}
