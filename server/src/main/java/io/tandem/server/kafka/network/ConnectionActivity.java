package io.tandem.server.kafka.network;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;

/**
 * When a connection last read or wrote, first in its pipeline: the order in which {@link ConnectionLimits} closes
 * connections when the broker is over max.connections, as Kafka's Selector picks its least recently used channel
 * (its idle expiry order: any read or write counts as use).
 */
final class ConnectionActivity extends ChannelDuplexHandler {
    /** The connection's activity, set when {@link ConnectionLimits} admits it, added to its pipeline once registered. */
    static final AttributeKey<ConnectionActivity> KEY = AttributeKey.valueOf("tandem.kafka.connectionActivity");

    private volatile long lastActiveNanos = System.nanoTime();

    long lastActiveNanos() {
        return lastActiveNanos;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastActiveNanos = System.nanoTime();
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        lastActiveNanos = System.nanoTime();
        ctx.write(msg, promise);
    }
}
