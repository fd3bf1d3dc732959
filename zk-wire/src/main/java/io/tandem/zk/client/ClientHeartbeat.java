package io.tandem.zk.client;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.ZkPacket;
import io.tandem.zk.wire.proto.RequestHeader;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The liveness of a {@link ClientSession}'s connection, as Apache's ClientCnxn keeps it: a ping after a third of the
 * negotiated timeout without sending, and a reconnect after two thirds of it without hearing from the server. It owns
 * the last send and receive times and the periodic check; the session decides what a closed connection means.
 * Used only on the session's event loop.
 */
final class ClientHeartbeat {
    private static final System.Logger LOG = System.getLogger(ZkClient.class.getName());

    private final EventLoop loop;
    private long lastSendNanos;
    private long lastReceiveNanos;
    private ScheduledFuture<?> task;

    ClientHeartbeat(EventLoop loop) {
        this.loop = loop;
    }

    /** A connection was just made: nothing is overdue on it yet. */
    void connected() {
        lastSendNanos = System.nanoTime();
        lastReceiveNanos = lastSendNanos;
    }

    void sent() {
        lastSendNanos = System.nanoTime();
    }

    void received() {
        lastReceiveNanos = System.nanoTime();
    }

    /** Checks {@code current} until cancelled, while {@code stillCurrent} says it is the session's connection. */
    void start(Channel current, int negotiatedTimeoutMs, BooleanSupplier stillCurrent) {
        long pingIntervalMs = Math.max(1, negotiatedTimeoutMs / 3);
        long readTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(negotiatedTimeoutMs * 2L / 3);
        long tickMs = Math.max(1, pingIntervalMs / 4);
        task = loop.scheduleAtFixedRate(() -> {
            if (!stillCurrent.getAsBoolean()) {
                return;
            }
            long now = System.nanoTime();
            if (now - lastReceiveNanos > readTimeoutNanos) {
                LOG.log(System.Logger.Level.INFO, "No answer from {0} for {1} ms, reconnecting",
                        current.remoteAddress(), TimeUnit.NANOSECONDS.toMillis(now - lastReceiveNanos));
                current.close();
            } else if (now - lastSendNanos >= TimeUnit.MILLISECONDS.toNanos(pingIntervalMs)) {
                lastSendNanos = now;
                current.writeAndFlush(ZkPacket.of(new RequestHeader(Xids.PING, OpCode.PING)));
            }
        }, tickMs, tickMs, TimeUnit.MILLISECONDS);
    }

    void cancel() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
