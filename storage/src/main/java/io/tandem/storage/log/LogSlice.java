package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Whole record batches read from one segment: {@code length} bytes of {@code channel} from {@code position}. The
 * broker sends them zero-copy (a FileRegion over the channel and range). The channel belongs to the segment: never
 * close it, so never hand it to Netty's {@code DefaultFileRegion(FileChannel, ...)}, which closes its channel when
 * released; use a region that only transfers. A deleted segment's channel stays open for file.delete.delay.ms so a
 * slice already handed out stays readable.
 *
 * @param firstOffset base offset of the first batch (at or before the requested offset: a fetch starting inside a
 *                    batch gets the whole batch)
 * @param nextOffset  offset after the last batch in the slice
 */
public record LogSlice(FileChannel channel, Path file, long position, int length, long firstOffset, long nextOffset) {

    public boolean isEmpty() {
        return length == 0;
    }

    /** Copies the bytes into a new buffer: for tests and for transports that cannot send file regions (TLS). */
    public ByteBuf readBytes(ByteBufAllocator allocator) throws IOException {
        ByteBuf buf = allocator.heapBuffer(length);
        try {
            int read = 0;
            while (read < length) {
                // In pieces: the JDK caches a direct buffer as large as each read per thread (FileReads).
                int n = buf.writeBytes(channel, position + read, Math.min(length - read, FileReads.CHUNK_BYTES));
                if (n < 0) {
                    throw new IOException("segment " + file + " ended before " + length + " bytes at " + position);
                }
                read += n;
            }
            return buf;
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }
}
