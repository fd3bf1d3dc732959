package io.tandem.kafka.wire.compress;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.xerial.snappy.Snappy;
import org.xerial.snappy.SnappyInputStream;

/**
 * Opens snappy data the way Kafka receives it: normally xerial's framed stream (an 8-byte magic header, two version
 * ints, then length-prefixed snappy blocks), which every Kafka client writes; but some non-Java clients once sent a
 * single raw snappy block, which Kafka's reader (through snappy-java) also accepts, so we do too.
 */
final class SnappyInput {
    /** xerial's stream header: 0x82 "SNAPPY" 0x00. */
    private static final byte[] XERIAL_MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    /**
     * A raw block declares its uncompressed length up front; refuse to allocate more than this for one. Raw blocks only
     * come from old clients whose batches are bounded by the broker's message size limit, far below this.
     */
    static final int RAW_BLOCK_UNCOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

    private SnappyInput() {
    }

    static InputStream open(ByteBuf view) throws IOException {
        if (hasXerialHeader(view)) {
            return new SnappyInputStream(new ByteBufInputStream(view));
        }
        byte[] compressed = new byte[view.readableBytes()];
        view.readBytes(compressed);
        if (!Snappy.isValidCompressedBuffer(compressed)) {
            throw new IOException("snappy data has neither the xerial stream header nor a valid raw block");
        }
        int length = Snappy.uncompressedLength(compressed);
        if (length < 0 || length > RAW_BLOCK_UNCOMPRESSED_BYTES_MAX) {
            throw new IOException("raw snappy block declares " + length + " uncompressed bytes, more than the limit "
                    + RAW_BLOCK_UNCOMPRESSED_BYTES_MAX);
        }
        return new ByteArrayInputStream(Snappy.uncompress(compressed));
    }

    private static boolean hasXerialHeader(ByteBuf view) {
        if (view.readableBytes() < XERIAL_MAGIC.length) {
            return false;
        }
        int start = view.readerIndex();
        for (int i = 0; i < XERIAL_MAGIC.length; i++) {
            if (view.getByte(start + i) != XERIAL_MAGIC[i]) {
                return false;
            }
        }
        return true;
    }
}
