package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tandem.kafka.wire.KafkaWireLimits;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first handler of a Kafka connection (before the frame decoder): decides when the connection is read, so that
 * what one connection and all of them hold in memory is bounded in bytes.
 * <ul>
 * <li>Muted when the connection handler says so ({@link #busy}): once its read-ahead bounds are reached while a
 * request is in hand, while an answer is not on the socket yet, and after a throttled answer, as Kafka mutes a
 * channel between a receive and its response. No socket read happens then, including the extra reads the frame
 * decoder asks for when it holds a partial frame. A connection therefore holds its request in hand, the frames read
 * ahead within {@link ConnectionTurn}'s bounds, and what one socket read brought along with them.</li>
 * <li>With a {@link RequestBytesBudget}, the bytes of every frame are reserved when its length prefix arrives,
 * before its body is buffered; with no room the bytes from that prefix on are held here and the connection is muted
 * until requests finish. The connection handler releases a frame's bytes when its request is finished.</li>
 * </ul>
 * Only touched on the channel's event loop, except {@link #release}.
 */
final class ReadGate extends ChannelDuplexHandler {
    private final RequestBytesBudget budget;
    private final int frameBytesMax;
    /** Bytes reserved for this connection's frames and not released yet. */
    private final AtomicLong reserved = new AtomicLong();
    private ChannelHandlerContext context;
    private boolean busy;
    private boolean waitingForBudget;
    /** Received bytes not passed on yet: they start with a frame the budget had no room for. */
    private ByteBuf held;
    /** Bytes of the current (reserved) frame, length prefix included, still to pass on. */
    private long frameRemaining;
    /** After a length the decoder refuses: everything goes to it, and it closes the connection. */
    private boolean passThrough;

    /** {@code budget} null: request bytes are not bounded in total, only per connection. */
    ReadGate(RequestBytesBudget budget, int frameBytesMax) {
        this.budget = budget;
        this.frameBytesMax = frameBytesMax;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.context = ctx;
    }

    /** Mutes the connection ({@code true}) or reads it again. */
    void busy(boolean busy) {
        this.busy = busy;
        applyReading();
    }

    private void applyReading() {
        boolean read = !busy && !waitingForBudget;
        if (context.channel().config().isAutoRead() != read) context.channel().config().setAutoRead(read);
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        // Swallowed while muted: the decoder asks for more input whenever it holds a partial frame.
        if (!busy && !waitingForBudget) ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (budget == null || passThrough) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        held = held == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), held, in);
        if (!waitingForBudget) passOn(ctx);
    }

    /** Passes on whole reserved frames' bytes; stops at a frame start the budget has no room for. */
    private void passOn(ChannelHandlerContext ctx) {
        while (held != null && held.isReadable() && ctx.channel().isActive()) {
            if (frameRemaining > 0) {
                int n = (int) Math.min(frameRemaining, held.readableBytes());
                frameRemaining -= n;
                ByteBuf part = held.readRetainedSlice(n);
                if (!held.isReadable()) releaseHeld();
                ctx.fireChannelRead(part);
                continue;
            }
            if (held.readableBytes() < KafkaWireLimits.FRAME_LENGTH_BYTES) break;
            int length = held.getInt(held.readerIndex());
            if (length < 0 || length > frameBytesMax) {
                // The decoder logs the bad length and closes the connection; nothing is reserved for it.
                passThrough = true;
                ByteBuf rest = held;
                held = null;
                ctx.fireChannelRead(rest);
                return;
            }
            if (!budget.tryReserve(length, this::roomAvailable)) {
                waitingForBudget = true;
                applyReading();
                return;
            }
            reserved.addAndGet(length);
            frameRemaining = KafkaWireLimits.FRAME_LENGTH_BYTES + (long) length;
        }
        if (held != null && !held.isReadable()) releaseHeld();
    }

    /** Called by the budget on any thread when bytes were released. */
    private void roomAvailable() {
        try {
            context.executor().execute(() -> {
                waitingForBudget = false;
                if (!context.channel().isActive()) return;
                passOn(context);
                applyReading();
            });
        } catch (RejectedExecutionException shuttingDown) {
            // The connection goes with its event loop.
        }
    }

    /** A finished request's frame: its bytes go back to the budget. Any thread. */
    void release(int frameBytes) {
        if (budget == null) return;
        long taken;
        while (true) {
            long current = reserved.get();
            // After the connection closed everything was already released at once.
            taken = Math.min(current, frameBytes);
            if (reserved.compareAndSet(current, current - taken)) break;
        }
        if (taken > 0) budget.release(taken);
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseHeld();
        if (budget != null) {
            long all = reserved.getAndSet(0);
            if (all > 0) budget.release(all);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseHeld();
    }
}
