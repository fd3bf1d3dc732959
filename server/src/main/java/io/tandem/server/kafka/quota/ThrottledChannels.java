package io.tandem.server.kafka.quota;

import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * The connections a quota holds throttled right now: Kafka's delay queue of ThrottledChannels per quota type, whose
 * size its {@code queue-size} metric reports (incremented by throttle(), decremented when the reaper takes a channel
 * whose throttle ended). Tandem mutes a throttled connection with a timer of its own, so this keeps only the end of
 * each throttle to count those not yet over. Bounded by the connections: a connection is not read while throttled,
 * so it has at most one throttle running.
 */
final class ThrottledChannels {
    private final PriorityQueue<Long> endNanos = new PriorityQueue<>();

    /** A connection is throttled for {@code throttleMs} from now. */
    synchronized void add(int throttleMs) {
        long now = System.nanoTime();
        expire(now);
        endNanos.add(now + TimeUnit.MILLISECONDS.toNanos(throttleMs));
    }

    /** The throttles not over yet. */
    synchronized int size() {
        expire(System.nanoTime());
        return endNanos.size();
    }

    private void expire(long now) {
        while (!endNanos.isEmpty() && endNanos.peek() - now <= 0) endNanos.poll();
    }
}
