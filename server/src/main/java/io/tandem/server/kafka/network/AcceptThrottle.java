package io.tandem.server.kafka.network;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A listener's acceptor under the connection creation rates (KIP-612), on the listening channel's pipeline ahead of
 * Netty's acceptor, so it sees each accepted connection before it is registered or read. As Kafka's Acceptor with its
 * ConnectionQuotas: a connection over {@code max.connection.creation.rate} (the broker's or the listener's) is held, and the listener stops accepting
 * until the rate's throttle time has passed, then that connection goes on; a connection over its IP's
 * {@code connection_creation_rate} is never read and is closed once its throttle time has passed. Where Kafka's
 * acceptor thread sleeps, this schedules on the listener's own event loop, which serves no connection: nothing waits
 * on a thread.
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
    private Channel held;

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
        admit(ctx, child);
    }

    /** Measures the connection against the broker's rate; holds it (and the listener) for the throttle time. */
    private void admit(ChannelHandlerContext ctx, Channel child) {
        long waitMs = limiter.acceptThrottleMs(listener, protect);
        if (waitMs <= 0) {
            checkIp(ctx, child);
            return;
        }
        held = child;
        connections.pauseAccepting(ctx.channel(), true);
        ctx.executor().schedule(() -> release(ctx), waitMs, TimeUnit.MILLISECONDS);
    }

    private void release(ChannelHandlerContext ctx) {
        Channel child = held;
        held = null;
        if (child == null) return; // the listener closed meanwhile
        checkIp(ctx, child);
        while (held == null && !waiting.isEmpty()) admit(ctx, waiting.poll());
        if (held == null) connections.pauseAccepting(ctx.channel(), false);
    }

    /** The IP's rate: within it the connection goes on to Netty's acceptor, over it it is closed after the wait. */
    private void checkIp(ChannelHandlerContext ctx, Channel child) {
        InetSocketAddress remote = (InetSocketAddress) child.remoteAddress();
        InetAddress address = remote == null ? null : remote.getAddress();
        long closeInMs = address == null ? 0 : limiter.ipThrottleMs(address, listener, protect);
        if (closeInMs <= 0) {
            ctx.fireChannelRead(child);
            return;
        }
        if (closing.size() >= CLOSING_MAX) {
            child.unsafe().closeForcibly();
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "Delaying the close of a connection from {0} by {1} ms "
                + "(connection_creation_rate)", address, closeInMs);
        closing.add(child);
        ctx.executor().schedule(() -> {
            if (closing.remove(child)) child.unsafe().closeForcibly();
        }, closeInMs, TimeUnit.MILLISECONDS);
    }

    /** The listener closed: nothing held, waiting or closing outlives it. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (held != null) held.unsafe().closeForcibly();
        held = null;
        waiting.forEach(c -> c.unsafe().closeForcibly());
        waiting.clear();
        closing.forEach(c -> c.unsafe().closeForcibly());
        closing.clear();
        super.channelInactive(ctx);
    }
}
