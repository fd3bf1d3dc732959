package io.tandem.kafka.wire.compress;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes the LZ4 frame format exactly as Kafka's producer does: version 01, independent 64 KiB blocks, no block or
 * content checksum, no content size. With {@code brokenHeaderChecksum} (message format v0 only) the header checksum
 * covers the magic number too, reproducing the bug of Kafka 0.8 that v0 readers expect (KAFKA-3160).
 */
public final class Lz4FrameOutputStream extends OutputStream {
    private static final int BLOCK_BYTES = 64 * 1024;

    private final OutputStream out;
    private final byte[] block = new byte[BLOCK_BYTES];
    private final byte[] compressed = new byte[Lz4Frame.COMPRESSOR.maxCompressedLength(BLOCK_BYTES)];
    private final byte[] sizeBytes = new byte[4];
    private int blockFill;
    private boolean closed;

    public Lz4FrameOutputStream(OutputStream out, boolean brokenHeaderChecksum) throws IOException {
        this.out = out;
        byte[] header = new byte[7];
        writeIntLe(header, 0, Lz4Frame.MAGIC);
        header[4] = (byte) (Lz4Frame.FLG_VERSION_01 | Lz4Frame.FLG_BLOCK_INDEPENDENCE);
        header[5] = (byte) Lz4Frame.BD_64KB;
        header[6] = brokenHeaderChecksum
                ? Lz4Frame.headerChecksum(header, 0, 6)
                : Lz4Frame.headerChecksum(header, 4, 2);
        out.write(header);
    }

    @Override
    public void write(int b) throws IOException {
        ensureOpen();
        if (blockFill == BLOCK_BYTES) {
            flushBlock();
        }
        block[blockFill++] = (byte) b;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        ensureOpen();
        while (length > 0) {
            if (blockFill == BLOCK_BYTES) {
                flushBlock();
            }
            int chunk = Math.min(length, BLOCK_BYTES - blockFill);
            System.arraycopy(bytes, offset, block, blockFill, chunk);
            blockFill += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    /** Flushing ends the current block early, as Kafka's stream does; the frame stays valid. */
    @Override
    public void flush() throws IOException {
        ensureOpen();
        flushBlock();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            flushBlock();
            writeIntLe(sizeBytes, 0, 0); // end mark
            out.write(sizeBytes);
            out.flush();
        } finally {
            closed = true;
            out.close();
        }
    }

    private void flushBlock() throws IOException {
        if (blockFill == 0) {
            return;
        }
        int compressedLength = Lz4Frame.COMPRESSOR.compress(block, 0, blockFill, compressed, 0, compressed.length);
        if (compressedLength >= blockFill) {
            writeIntLe(sizeBytes, 0, blockFill | Lz4Frame.INCOMPRESSIBLE_BLOCK_MASK);
            out.write(sizeBytes);
            out.write(block, 0, blockFill);
        } else {
            writeIntLe(sizeBytes, 0, compressedLength);
            out.write(sizeBytes);
            out.write(compressed, 0, compressedLength);
        }
        blockFill = 0;
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("lz4 stream is closed");
        }
    }

    private static void writeIntLe(byte[] target, int offset, int value) {
        target[offset] = (byte) value;
        target[offset + 1] = (byte) (value >>> 8);
        target[offset + 2] = (byte) (value >>> 16);
        target[offset + 3] = (byte) (value >>> 24);
    }
}
