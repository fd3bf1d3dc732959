package io.tandem.server.kafka.network;

import java.util.ArrayList;
import java.util.List;

/**
 * Kafka's {@code queued.max.request.bytes} memory pool: the bytes of requests being read, queued or handled, over
 * all connections. As Kafka's non-strict pool does, a frame may start while anything is left, so the total stays
 * below the limit plus one frame, and a frame as large as {@code socket.request.max.bytes} is never starved by a
 * stream of small ones. A connection refused room stops reading until bytes are released.
 */
final class RequestBytesBudget {
    private final long limit;
    /** Guarded by this. */
    private long held;
    /** Connections waiting for room, each registered once; guarded by this. */
    private List<Runnable> waiters = new ArrayList<>();

    RequestBytesBudget(long limit) {
        if (limit <= 0) throw new IllegalArgumentException("limit must be positive: " + limit);
        this.limit = limit;
    }

    /** Reserves a frame's bytes if there is room; else registers {@code onRoom}, run once when bytes are released. */
    synchronized boolean tryReserve(long bytes, Runnable onRoom) {
        if (held < limit) {
            held += bytes;
            return true;
        }
        waiters.add(onRoom);
        return false;
    }

    void release(long bytes) {
        List<Runnable> wake;
        synchronized (this) {
            held -= bytes;
            if (held >= limit || waiters.isEmpty()) return;
            wake = waiters;
            waiters = new ArrayList<>();
        }
        // Every waiter tries again; those that find no room register anew.
        for (Runnable waiter : wake) waiter.run();
    }

    synchronized long held() {
        return held;
    }
}
