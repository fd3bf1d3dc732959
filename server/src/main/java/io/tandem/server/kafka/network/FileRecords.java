package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.storage.log.FileReads;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Record sets that go to the socket straight from their segment file. A handler puts {@link #placeholder} buffers
 * in the response where the records belong; kafka-wire's gathering encoder leaves record sets as separate
 * components of the frame, so the placeholders can be told apart (they all view one shared array) and swapped for
 * {@link SegmentFileRegion}s, in the order the encoder wrote them (or for copies of the bytes on a TLS connection,
 * see {@link ChannelSecurity}). Only the size of a placeholder matters.
 */
public final class FileRecords {
    /** Slices larger than this are copied instead (a fetch is at most one partition's max bytes, 1 MiB by default, or one batch). */
    public static final int ZERO_COPY_BYTES_MAX = 2 << 20;

    /**
     * Where a TLS connection's copies of fetched slices come from: Netty's arena allocator, which keeps buffers of up
     * to its chunk size (MiBs) in its arenas (the TLS connections' own, {@link TlsAllocator}). The channels' default
     * (Netty 4.2's adaptive allocator) allocated a fresh array for nearly every 1 MiB copy on the request handler
     * threads (measured, docs/profiles/kafka-tls.md).
     */
    static final ByteBufAllocator TLS_COPIES = TlsAllocator.INSTANCE;

    private FileRecords() {
    }

    /** Created on the first zero-copy fetch; never written or read. */
    private static final class Shared {
        static final byte[] PLACEHOLDER = new byte[ZERO_COPY_BYTES_MAX];
    }

    public static boolean fits(LogSlice slice) {
        return slice.length() <= ZERO_COPY_BYTES_MAX;
    }

    /** A stand-in of the slice's length to put in the response's records field. */
    public static ByteBuf placeholder(LogSlice slice) {
        if (!fits(slice)) throw new IllegalArgumentException("slice of " + slice.length() + " bytes is too large");
        return Unpooled.wrappedBuffer(Shared.PLACEHOLDER, 0, slice.length());
    }

    static boolean isPlaceholder(ByteBuf component) {
        return component.hasArray() && component.array() == Shared.PLACEHOLDER;
    }

    /**
     * The frame's parts to write in order: its encoded bytes (retained) and a region for each placeholder, or, with
     * {@code copyInto} (a TLS connection's allocator), a buffer of the slice's bytes from it. The slices must be in
     * the order the encoder met their placeholders. The frame itself is released.
     */
    static List<Object> splice(CompositeByteBuf frame, List<LogSlice> slices, ByteBufAllocator copyInto) {
        List<Object> parts = new ArrayList<>(frame.numComponents());
        int next = 0;
        try {
            for (int i = 0; i < frame.numComponents(); i++) {
                ByteBuf component = frame.internalComponent(i);
                if (isPlaceholder(component)) {
                    if (next == slices.size()) throw new IllegalStateException("more record placeholders than slices");
                    LogSlice slice = slices.get(next++);
                    if (slice.length() != component.readableBytes()) {
                        throw new IllegalStateException("placeholder of " + component.readableBytes()
                                + " bytes where a slice of " + slice.length() + " belongs");
                    }
                    parts.add(copyInto != null ? read(slice, copyInto) : new SegmentFileRegion(slice.channel(), slice.position(),
                            slice.length()));
                } else if (component.isReadable()) {
                    parts.add(component.retain());
                }
            }
            if (next != slices.size()) {
                throw new IllegalStateException(slices.size() + " slices but " + next + " record placeholders");
            }
            return parts;
        } catch (RuntimeException e) {
            release(parts);
            throw e;
        } finally {
            frame.release();
        }
    }

    /**
     * The slice's bytes, for a connection that cannot take a file region (TLS), in a pooled heap buffer: SslHandler
     * releases the buffer once it is encrypted, so a later fetch reuses its memory (an unpooled copy was a fresh 1 MiB array per partition and fetch: nearly all the allocation
     * of a TLS consume, docs/profiles/kafka-tls.md).
     */
    private static ByteBuf read(LogSlice slice, ByteBufAllocator alloc) {
        ByteBuf bytes = alloc.heapBuffer(slice.length(), slice.length());
        try {
            long position = slice.position();
            while (bytes.isWritable()) {
                // In pieces: the JDK caches a direct buffer as large as each read per thread (FileReads).
                int n = bytes.writeBytes(slice.channel(), position,
                        Math.min(bytes.writableBytes(), FileReads.CHUNK_BYTES));
                if (n < 0) throw new IllegalStateException("segment ended inside a fetched slice at " + position);
                position += n;
            }
            return bytes;
        } catch (IOException e) {
            bytes.release();
            throw new java.io.UncheckedIOException(e);
        } catch (RuntimeException e) {
            bytes.release();
            throw e;
        }
    }

    static void release(List<Object> parts) {
        for (Object part : parts) io.netty.util.ReferenceCountUtil.release(part);
    }
}
