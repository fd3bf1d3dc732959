package io.tandem.kafka.wire.compress;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.xxhash.StreamingXXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Reads an LZ4 frame from a {@link ByteBuf} region in place. Accepts what Kafka's reader accepts: independent blocks
 * of up to 4 MiB, optional content size (skipped), optional block and content checksums (verified). With
 * {@code legacyMagicV0} the header checksum may be the broken one of Kafka 0.8 (computed over the magic number too);
 * for later formats it must be correct.
 */
public final class Lz4FrameInputStream extends InputStream {
    private final ByteBuf in;
    private final boolean blockChecksum;
    private final StreamingXXHash32 contentHash;
    private final int blockBytesMax;
    private byte[] block;
    private int blockPosition;
    private int blockLimit;
    private boolean finished;
    private boolean closed;

    /**
     * @param in the frame, from its reader index to its writer index; this stream consumes the reader index of the
     *           buffer it is given, so pass a duplicate to keep the caller's indexes
     */
    public Lz4FrameInputStream(ByteBuf in, boolean legacyMagicV0) throws IOException {
        this.in = in;
        if (in.readableBytes() < 7) {
            throw new IOException("lz4 frame is shorter than its header");
        }
        if (in.readIntLE() != Lz4Frame.MAGIC) {
            throw new IOException("lz4 frame has the wrong magic number");
        }
        int descriptorStart = in.readerIndex();
        int flg = in.readUnsignedByte();
        int bd = in.readUnsignedByte();
        if ((flg & Lz4Frame.FLG_VERSION_MASK) != Lz4Frame.FLG_VERSION_01) {
            throw new IOException("lz4 frame version is not 01");
        }
        if ((flg & (Lz4Frame.FLG_RESERVED | Lz4Frame.FLG_DICTIONARY_ID)) != 0) {
            throw new IOException("lz4 frame uses reserved or dictionary flags");
        }
        if ((flg & Lz4Frame.FLG_BLOCK_INDEPENDENCE) == 0) {
            throw new IOException("lz4 frame uses dependent blocks, which Kafka does not support");
        }
        blockBytesMax = Lz4Frame.blockBytesMax(bd);
        if (blockBytesMax < 0) {
            throw new IOException("lz4 frame has an invalid block descriptor " + bd);
        }
        if ((flg & Lz4Frame.FLG_CONTENT_SIZE) != 0) {
            if (in.readableBytes() < 9) {
                throw new IOException("lz4 frame is shorter than its header");
            }
            in.skipBytes(8);
        }
        int descriptorLength = in.readerIndex() - descriptorStart;
        byte[] descriptor = new byte[4 + descriptorLength];
        in.getBytes(descriptorStart - 4, descriptor);
        byte checksum = in.readByte();
        boolean correct = checksum == Lz4Frame.headerChecksum(descriptor, 4, descriptorLength);
        boolean brokenButAccepted = legacyMagicV0
                && checksum == Lz4Frame.headerChecksum(descriptor, 0, descriptor.length);
        if (!correct && !brokenButAccepted) {
            throw new IOException("lz4 frame header checksum does not match");
        }
        blockChecksum = (flg & Lz4Frame.FLG_BLOCK_CHECKSUM) != 0;
        contentHash = (flg & Lz4Frame.FLG_CONTENT_CHECKSUM) != 0
                ? XXHashFactory.fastestInstance().newStreamingHash32(0)
                : null;
    }

    @Override
    public int read() throws IOException {
        if (!ensureBlock()) {
            return -1;
        }
        return block[blockPosition++] & 0xFF;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (blockPosition == blockLimit && !finished && length >= blockBytesMax) {
            // The caller has room for a whole block: decode straight into its array, skipping our block buffer.
            int decoded = readBlock(target, offset);
            if (decoded > 0) {
                return decoded;
            }
        }
        if (!ensureBlock()) {
            return -1;
        }
        int chunk = Math.min(length, blockLimit - blockPosition);
        System.arraycopy(block, blockPosition, target, offset, chunk);
        blockPosition += chunk;
        return chunk;
    }

    @Override
    public long skip(long n) throws IOException {
        if (n <= 0 || !ensureBlock()) {
            return 0;
        }
        int chunk = (int) Math.min(n, blockLimit - blockPosition);
        blockPosition += chunk;
        return chunk;
    }

    @Override
    public int available() {
        return blockLimit - blockPosition;
    }

    /**
     * Frees the content checksum's state: lz4-java's fastest (JNI) streaming hash holds it in native memory, which it
     * otherwise frees only in a finalizer, after the stream has been found unreachable by a garbage collection.
     */
    @Override
    public void close() {
        if (contentHash != null && !closed) {
            contentHash.close();
        }
        closed = true;
    }

    /** The content checksum's hash, or null when the frame has none (tests check that close frees it). */
    StreamingXXHash32 contentHash() {
        return contentHash;
    }

    /** Decodes the next block if the current one is used up; false at the end mark. */
    private boolean ensureBlock() throws IOException {
        while (blockPosition == blockLimit) {
            if (finished) {
                return false;
            }
            readBlock();
        }
        return true;
    }

    private void readBlock() throws IOException {
        if (block == null) {
            // Allocated per stream, never shared: a crafted block can only ever expose this stream's own bytes.
            block = new byte[blockBytesMax];
        }
        blockLimit = readBlock(block, 0);
        blockPosition = 0;
    }

    /**
     * Decodes the next block into {@code target} at {@code offset}, which has room for {@link #blockBytesMax} bytes.
     * Returns the decoded length, or 0 at the end mark (then {@link #finished} is set).
     */
    private int readBlock(byte[] target, int offset) throws IOException {
        if (in.readableBytes() < 4) {
            throw new IOException("lz4 frame ends before its end mark");
        }
        int sizeField = in.readIntLE();
        boolean stored = (sizeField & Lz4Frame.INCOMPRESSIBLE_BLOCK_MASK) != 0;
        int size = sizeField & ~Lz4Frame.INCOMPRESSIBLE_BLOCK_MASK;
        if (size == 0) {
            finished = true;
            if (contentHash != null) {
                if (in.readableBytes() < 4) {
                    throw new IOException("lz4 frame ends before its content checksum");
                }
                if (in.readIntLE() != contentHash.getValue()) {
                    throw new IOException("lz4 frame content checksum does not match");
                }
            }
            return 0;
        }
        if (size > blockBytesMax) {
            throw new IOException("lz4 block of " + size + " bytes exceeds the frame's maximum " + blockBytesMax);
        }
        if (in.readableBytes() < size + (blockChecksum ? 4 : 0)) {
            throw new IOException("lz4 frame ends inside a block");
        }
        int start = in.readerIndex();
        int decoded;
        if (stored) {
            in.getBytes(start, target, offset, size);
            decoded = size;
        } else {
            if (target != block) {
                // The caller's array may be pooled memory holding other requests' bytes, and lz4-java's Java
                // decompressors can be tricked into emitting bytes they did not write (CVE-2025-66566).
                Arrays.fill(target, offset, offset + blockBytesMax, (byte) 0);
            }
            ByteBuffer source = in.nioBuffer(start, size);
            try {
                decoded = Lz4Frame.DECOMPRESSOR.decompress(source, source.position(), size,
                        ByteBuffer.wrap(target), offset, blockBytesMax);
            } catch (LZ4Exception | IndexOutOfBoundsException e) {
                throw new IOException("lz4 block is malformed: " + e.getMessage(), e);
            }
        }
        in.skipBytes(size);
        if (blockChecksum) {
            int expected = in.readIntLE();
            ByteBuffer checked = in.nioBuffer(start, size);
            int actual = Lz4Frame.XXHASH.hash(checked, checked.position(), size, 0);
            if (expected != actual) {
                throw new IOException("lz4 block checksum does not match");
            }
        }
        if (contentHash != null) {
            contentHash.update(target, offset, decoded);
        }
        return decoded;
    }
}
