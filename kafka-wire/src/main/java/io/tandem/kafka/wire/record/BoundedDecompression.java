package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.tandem.kafka.wire.compress.Compression;
import io.tandem.kafka.wire.compress.CompressionType;
import java.io.IOException;
import java.io.InputStream;

/**
 * Decompresses a batch's records section or a legacy wrapper's value in one go, refusing to produce more than a limit
 * (by default {@link RecordIterator#DECOMPRESSED_BYTES_MAX}) so a tiny compressed payload cannot exhaust memory.
 */
final class BoundedDecompression {
    private BoundedDecompression() {
    }

    /** Decompresses a whole payload into a heap buffer from {@code allocator}; the caller releases it. */
    static ByteBuf decompress(CompressionType compression, ByteBuf compressed, byte magic, ByteBufAllocator allocator,
                              int max) {
        ByteBuf out = allocator.heapBuffer(Math.max(256, Math.min(compressed.readableBytes() * 4, 1 << 20)));
        try (InputStream in = Compression.wrapForInput(compression, compressed, magic)) {
            while (true) {
                if (out.writerIndex() >= max) {
                    if (in.read() >= 0) {
                        throw new CorruptRecordException("compressed records decompress to more than " + max
                                + " bytes");
                    }
                    return out;
                }
                // 64 KiB of room lets the lz4 reader decode whole blocks straight into this buffer; Netty grows it
                // geometrically, so the copying stays amortised O(n).
                out.ensureWritable(Math.min(64 * 1024, max - out.writerIndex()));
                if (out.writeBytes(in, Math.min(out.writableBytes(), max - out.writerIndex())) < 0) {
                    return out;
                }
            }
        } catch (IOException e) {
            out.release();
            throw new CorruptRecordException("records do not decompress with " + compression.configName + ": "
                    + e.getMessage(), e);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }
}
