package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.internal.PlatformDependent;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Frames the replies and watch events of one client connection ({@link ServerConnection}) and hands them to its
 * socket. The commit thread's frames go back to back into one buffer per connection and batch, handed to the event
 * loop in one task by {@link #flush}, instead of one {@code channel.write} task per reply; frames written on the event
 * loop itself (auth replies) go out at once, flushed by the caller.
 */
final class ReplyWriter {
    /**
     * Replies the commit thread has framed for this connection go out in one buffer per flush; past this size the
     * buffer is handed to the socket without waiting for the flush, so one connection's batch never needs one big
     * copy-on-grow buffer.
     */
    static final int PENDING_REPLY_BYTES_MAX = 64 << 10;
    /**
     * Bytes of replies and events a connection may have waiting to go out before it is closed (the floor; at least
     * eight frames of jute.maxbuffer are allowed). Reading stops long before, at the channel's high water mark
     * ({@link ClientListener}), so this is reached only by requests already read when the client stopped taking its
     * replies (up to {@link ZkServer#CONNECTION_IN_FLIGHT_MAX} reads of a large node) or by watch events it does not
     * take. Apache has no such bound (its outgoing queue grows until the heap is gone); here one client that does not
     * read cannot exhaust the memory every other client is served from.
     */
    static final long UNSENT_BYTES_MAX = 64L << 20;
    /**
     * Unsent bytes of all connections together, a quarter of the direct memory Netty may use (the heap's size unless
     * set): past it, a connection that is itself behind (over the high water mark) is closed when it gets more, so a
     * few clients that do not read, each under {@link #UNSENT_BYTES_MAX}, cannot exhaust that memory together either.
     */
    static final long UNSENT_TOTAL_BYTES_MAX = Math.max(UNSENT_BYTES_MAX, PlatformDependent.maxDirectMemory() / 4);

    private final ZkServer server;
    private final Channel channel;
    /** The connection is closing: nothing more is written. */
    private final BooleanSupplier closing;
    /** The connection's count of frames sent (cons, stat). */
    private final AtomicLong packetsSent;
    /** {@link #UNSENT_BYTES_MAX}, or eight frames of jute.maxbuffer if that is more. */
    private final long unsentBytesMax;
    /** Closes the connection whose unsent bytes passed the limit; given the bytes. Runs under this monitor. */
    private final LongConsumer overLimit;
    /** The unsent bytes of all the server's connections (walked only for a connection that is behind). */
    private final LongSupplier unsentTotal;
    /** Frames written off the event loop since the last {@link #flush}, back to back; guarded by this monitor. */
    private ByteBuf pending;

    ReplyWriter(ZkServer server, Channel channel, BooleanSupplier closing, AtomicLong packetsSent,
                LongConsumer overLimit, LongSupplier unsentTotal) {
        this.server = server;
        this.channel = channel;
        this.closing = closing;
        this.packetsSent = packetsSent;
        this.unsentBytesMax = Math.max(UNSENT_BYTES_MAX, 8L * server.config.frameBytesMax());
        this.overLimit = overLimit;
        this.unsentTotal = unsentTotal;
    }

    long unsentBytesMax() {
        return unsentBytesMax;
    }

    /** Bytes handed to the channel and not yet written to the socket (tasks from other threads included). */
    long unsentOnChannel() {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    /** Any thread: off the event loop the frame waits for {@link #flush}; on it, it is written at once. */
    void write(JuteRecord record) {
        if (channel.eventLoop().inEventLoop()) {
            writeNow(record);
            return;
        }
        synchronized (this) {
            if (closing.getAsBoolean()) {
                return;
            }
            if (pending == null) {
                pending = channel.alloc().buffer(256);
            }
            int start = pending.writerIndex();
            try {
                pending.writeInt(0);
                record.write(new JuteOutput(pending));
                pending.setInt(start, pending.writerIndex() - start - 4);
            } catch (RuntimeException e) {
                pending.writerIndex(start);
                throw e;
            }
            countSent(pending.writerIndex() - start);
            long unsent = unsentOnChannel() + pending.readableBytes();
            if (unsent > unsentBytesMax || unsent > ClientListener.REPLY_WATER_MARK.high()
                    && unsentTotal.getAsLong() + pending.readableBytes() > UNSENT_TOTAL_BYTES_MAX) {
                overLimit.accept(unsent); // closes the connection, which releases pending
                return;
            }
            if (pending.readableBytes() >= PENDING_REPLY_BYTES_MAX) {
                channel.write(pending, channel.voidPromise());
                pending = null;
            }
        }
    }

    /** On the event loop: a frame of its own, written at once (auth replies; they are flushed by the caller). */
    private void writeNow(JuteRecord record) {
        if (closing.getAsBoolean()) {
            return;
        }
        ByteBuf buf = channel.alloc().buffer(64);
        try {
            buf.writeInt(0);
            record.write(new JuteOutput(buf));
            buf.setInt(0, buf.readableBytes() - 4);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        countSent(buf.readableBytes());
        channel.write(buf, channel.voidPromise());
    }

    private void countSent(int bytes) {
        server.stats.packetsSent.incrementAndGet();
        server.stats.responseSent(bytes);
        packetsSent.incrementAndGet();
    }

    /** Hands the frames written since the last flush to the socket and flushes it: one event-loop task. */
    void flush() {
        ByteBuf out;
        synchronized (this) {
            out = pending;
            pending = null;
        }
        if (out != null) {
            channel.writeAndFlush(out, channel.voidPromise());
        } else {
            channel.flush();
        }
    }

    /**
     * Drops the frames not flushed yet (the connection is closing). The caller marks the connection closing first:
     * a write that takes this monitor afterwards sees that and writes nothing, so no buffer is left behind.
     */
    void release() {
        synchronized (this) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
        }
    }
}
