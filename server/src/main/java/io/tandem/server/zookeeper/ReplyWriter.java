package io.tandem.server.zookeeper;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

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

    private final ZkServer server;
    private final Channel channel;
    /** The connection is closing: nothing more is written. */
    private final BooleanSupplier closing;
    /** The connection's count of frames sent (cons, stat). */
    private final AtomicLong packetsSent;
    /** Frames written off the event loop since the last {@link #flush}, back to back; guarded by this monitor. */
    private ByteBuf pending;

    ReplyWriter(ZkServer server, Channel channel, BooleanSupplier closing, AtomicLong packetsSent) {
        this.server = server;
        this.channel = channel;
        this.closing = closing;
        this.packetsSent = packetsSent;
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
