package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The allocator of a TLS connection: pooled heap buffers for everything its pipeline allocates, socket reads included.
 * The JDK's SSLEngine (what SslHandler runs, as Apache's SslTransportLayer does) takes its fast path only on heap
 * buffers: given a direct packet buffer, JDK 17's AES-GCM copies it into temporary arrays in chunks and allocates
 * per record (GHASH.processBlocksDirect), about 30% more CPU and 2 KB more garbage per 16 KB record decrypted
 * (docs/profiles/kafka-tls.md). Netty reads sockets into {@code ioBuffer()}s, direct whenever it can; here they are
 * heap, so the request bytes SslHandler decrypts, its decrypted output, the frames cumulated from it and the
 * responses it encrypts are all heap, as Apache's are (the JDK copies a socket read into a heap buffer through its
 * per-thread direct buffer, one copy, as for Apache). The arenas keep their buffers whichever thread releases them,
 * which the fetched slices copied for TLS ({@link FileRecords}) need too: they come from here as well.
 */
final class TlsAllocator extends PooledByteBufAllocator {
    static final TlsAllocator INSTANCE = new TlsAllocator();

    private TlsAllocator() {
        super(false);
    }

    @Override
    public ByteBuf ioBuffer() {
        return heapBuffer();
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity) {
        return heapBuffer(initialCapacity);
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
        return heapBuffer(initialCapacity, maxCapacity);
    }
}
