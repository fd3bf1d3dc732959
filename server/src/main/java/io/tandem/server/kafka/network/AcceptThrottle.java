package io.tandem.server.kafka.network;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A listener's acceptor as Kafka's Acceptor with its ConnectionQuotas, on the listening channel's pipeline ahead of
 * Netty's acceptor, so it sees each accepted connection before it is registered or read. Each connection in turn:
 * <ol>
 *   <li>over {@code max.connection.creation.rate} (the broker's or the listener's, KIP-612) it is held, and the
 *   listener stops accepting, until the rate's throttle time has passed;</li>
 *   <li>without a slot ({@code max.connections}, the listener's own maximum: {@link ConnectionLimits}) it is held, and
 *   the listener stops accepting, until a slot frees, as Kafka's acceptor blocks holding it;</li>
 *   <li>over its IP's {@code connection_creation_rate} it is never read and is closed once its throttle time has
 *   passed; over its address's {@code max.connections.per.ip} it is closed at once; otherwise it is counted and goes
 *   on to Netty's acceptor.</li>
 * </ol>
 * Where Kafka's acceptor thread sleeps or waits, this schedules on the listener's own event loop, which serves no
 * connection: nothing waits on a thread.
 *
 * <p>Connections Netty accepted in the same read as a held one wait in order behind it (a read takes at most
 * {@code maxMessagesPerRead}, and no read starts while one is held, so they are few); each is measured when its turn
 * comes, as Kafka's acceptor measures the next connection after its wait. Both sets are bounded: past
 * {@link #WAITING_MAX} or {@link #CLOSING_MAX} a connection is closed at once.
 */
final class AcceptThrottle extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(AcceptThrottle.class.getName());
    /** Accepted connections waiting behind a held one, at most (one read's worth is far fewer). */
    static final int WAITING_MAX = 1024;
    /** Connections refused by their IP quota and waiting for their delayed close, at most. */
    static final int CLOSING_MAX = 10_000;

    private final ConnectionRateLimiter limiter;
    private final ConnectionLimits connections;
    private final boolean protect;
    private final String listener;
    /** Event loop only. */
    private final ArrayDeque<Channel> waiting = new ArrayDeque<>();
    private final Set<Channel> closing = new HashSet<>();
    /** The connection held for a rate's wait or for a slot; {@code forSlot} says which. */
    private Channel held;
    private boolean forSlot;

    AcceptThrottle(ConnectionRateLimiter limiter, ConnectionLimits connections, String listener, boolean protect) {
        this.limiter = limiter;
        this.connections = connections;
        this.listener = listener;
        this.protect = protect;
    }

    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        connections.listening(listener, protect, () -> ctx.executor().execute(() -> slotFreed(ctx)));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Channel child)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (held != null || !waiting.isEmpty()) {
            if (waiting.size() >= WAITING_MAX) {
                child.unsafe().closeForcibly();
                return;
            }
            waiting.add(child);
            return;
        }
        measure(ctx, child);
    }

    /** Measures the connection against the broker's rate; holds it (and the listener) for the throttle time. */
    private void measure(ChannelHandlerContext ctx, Channel child) {
        long waitMs = limiter.acceptThrottleMs(listener, protect);
        if (waitMs <= 0) {
            admit(ctx, child);
            return;
        }
        hold(ctx, child, false);
        ctx.executor().schedule(() -> rateWaited(ctx), waitMs, TimeUnit.MILLISECONDS);
    }

    private void hold(ChannelHandlerContext ctx, Channel child, boolean slot) {
        held = child;
        forSlot = slot;
        ctx.channel().config().setAutoRead(false);
    }

    private void rateWaited(ChannelHandlerContext ctx) {
        Channel child = held;
        if (child == null || forSlot) return; // the listener closed meanwhile
        held = null;
        admit(ctx, child);
        next(ctx);
    }

    /** A slot may have freed: the connection held for one tries again. */
    private void slotFreed(ChannelHandlerContext ctx) {
        Channel child = held;
        if (child == null || !forSlot) return;
        held = null;
        admit(ctx, child);
        next(ctx);
    }

    /** The connections that waited behind a held one, in order, until one is held again; then accepting resumes. */
    private void next(ChannelHandlerContext ctx) {
        while (held == null && !waiting.isEmpty()) measure(ctx, waiting.poll());
        if (held == null && ctx.channel().isActive()) ctx.channel().config().setAutoRead(true);
    }

    /** A slot, the IP's rate and the address's count: on to Netty's acceptor, held, or closed (now or later). */
    private void admit(ChannelHandlerContext ctx, Channel child) {
        ConnectionLimits.Admission admission = connections.admit(child, listener);
        switch (admission.kind()) {
            case ADMITTED -> ctx.fireChannelRead(child);
            case NO_SLOT -> hold(ctx, child, true);
            case TOO_MANY -> child.unsafe().closeForcibly();
            case THROTTLED -> closeLater(ctx, child, admission.closeInMs());
        }
    }

    private void closeLater(ChannelHandlerContext ctx, Channel child, long closeInMs) {
        if (closing.size() >= CLOSING_MAX) {
            child.unsafe().closeForcibly();
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "Delaying the close of a connection from {0} by {1} ms "
                + "(connection_creation_rate)", child.remoteAddress(), closeInMs);
        closing.add(child);
        ctx.executor().schedule(() -> {
            if (closing.remove(child)) child.unsafe().closeForcibly();
        }, closeInMs, TimeUnit.MILLISECONDS);
    }

    /** The listener closed: nothing held, waiting or closing outlives it. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        connections.forget(listener);
        if (held != null) held.unsafe().closeForcibly();
        held = null;
        waiting.forEach(c -> c.unsafe().closeForcibly());
        waiting.clear();
        closing.forEach(c -> c.unsafe().closeForcibly());
        closing.clear();
        super.channelInactive(ctx);
    }
}
