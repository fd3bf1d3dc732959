package io.tandem.kafka.wire.compress;

import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPOutputStream;
import org.xerial.snappy.SnappyError;
import org.xerial.snappy.SnappyOutputStream;

/**
 * Wraps streams with Kafka's compression codecs, byte-compatible with what Kafka clients and brokers write and read.
 *
 * <p>Every input stream here reads a {@link ByteBuf} region in place and never changes the buffer's indexes. Input is
 * untrusted (it comes from producers), so every failure surfaces as an {@link IOException} (never a codec library's
 * own unchecked exception) for the record layer to turn into a corrupt-record error.
 */
public final class Compression {
    /**
     * Kafka's gzip buffer, for output (the deflater is not called byte by byte) and input (GzipInput hands the inflater
     * chunks of this size, which decides where it looks for a further member just as GZIPInputStream's buffer does).
     */
    static final int GZIP_BUFFER_BYTES = 8 * 1024;
    /** Kafka wraps the gzip stream in a 16 KiB buffer; varints are written a byte at a time. */
    private static final int GZIP_OUTER_BUFFER_BYTES = 16 * 1024;
    /** snappy-java's default block size, which is what Kafka's producer uses. */
    private static final int SNAPPY_BLOCK_BYTES = 32 * 1024;
    /** Kafka's default zstd level (zstd's own default). */
    private static final int ZSTD_LEVEL = 3;

    private Compression() {
    }

    /**
     * Wraps {@code out} so that bytes written to the result are compressed with {@code type}.
     * Closing the result finishes the compressed stream and closes {@code out}.
     *
     * @param magic the message format the stream belongs to: lz4 with magic 0 writes Kafka 0.8's broken header
     *              checksum, as 0.8/0.9 consumers require
     */
    public static OutputStream wrapForOutput(CompressionType type, OutputStream out, byte magic) throws IOException {
        switch (type) {
            case NONE:
                return out;
            case GZIP:
                return new BufferedOutputStream(new GZIPOutputStream(out, GZIP_BUFFER_BYTES), GZIP_OUTER_BUFFER_BYTES);
            case SNAPPY:
                return new SnappyOutputStream(out, SNAPPY_BLOCK_BYTES);
            case LZ4:
                return new Lz4FrameOutputStream(out, magic == 0);
            case ZSTD:
                return new ZstdOutputStreamNoFinalizer(out, RecyclingBufferPool.INSTANCE, ZSTD_LEVEL);
            default:
                throw new IllegalArgumentException("Unknown compression type " + type);
        }
    }

    /**
     * A stream of the bytes that {@code compressed} (its readable bytes) decompresses to. The buffer's indexes are not
     * changed; the caller keeps it alive until the stream is closed. The streams are unbuffered on purpose (callers
     * here read in large chunks); wrap the result in a BufferedInputStream to read a few bytes at a time.
     *
     * @param magic the message format: lz4 with magic 0 accepts Kafka 0.8's broken header checksum
     */
    public static InputStream wrapForInput(CompressionType type, ByteBuf compressed, byte magic) throws IOException {
        ByteBuf view = compressed.duplicate();
        try {
            switch (type) {
                case NONE:
                    return new ByteBufInputStream(view);
                case GZIP:
                    // Not GZIPInputStream: its Java 17 constructor leaks its Inflater to the GC on a bad header.
                    return GzipInput.open(view);
                case SNAPPY:
                    return new GuardedInputStream(SnappyInput.open(view));
                case LZ4:
                    return new Lz4FrameInputStream(view, magic == 0);
                case ZSTD:
                    // A pooled native context, not one per batch: see ZstdInput for the memory it saves.
                    return new ZstdInput(view);
                default:
                    throw new IllegalArgumentException("Unknown compression type " + type);
            }
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException | SnappyError e) {
            // Codec libraries report malformed input with their own unchecked types; callers expect IOException.
            throw new IOException(type.configName + " stream is malformed: " + e, e);
        }
    }

    /** Turns codec libraries' unchecked errors on malformed input into IOExceptions. */
    private static final class GuardedInputStream extends InputStream {
        private final InputStream in;

        GuardedInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            try {
                return in.read();
            } catch (RuntimeException | SnappyError e) {
                throw new IOException("compressed stream is malformed: " + e, e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return in.read(b, off, len);
            } catch (RuntimeException | SnappyError e) {
                throw new IOException("compressed stream is malformed: " + e, e);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            try {
                return in.skip(n);
            } catch (RuntimeException | SnappyError e) {
                throw new IOException("compressed stream is malformed: " + e, e);
            }
        }

        @Override
        public int available() throws IOException {
            try {
                return in.available();
            } catch (RuntimeException | SnappyError e) {
                throw new IOException("compressed stream is malformed: " + e, e);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                in.close();
            } catch (RuntimeException | SnappyError e) {
                throw new IOException("compressed stream failed to close: " + e, e);
            }
        }
    }
}
