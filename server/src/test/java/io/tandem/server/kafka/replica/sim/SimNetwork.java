package io.tandem.server.kafka.replica.sim;

import java.util.HashSet;
import java.util.Set;

/**
 * The links between brokers (and the clients, node {@link #CLIENT}), simulated: each message takes a random delay
 * and is lost when the link is cut, either when it is sent or when it would arrive. Cuts are symmetric.
 */
final class SimNetwork {
    static final int CLIENT = -1;
    static final long DELAY_MIN_MS = 1;
    static final long DELAY_MAX_MS = 15;

    private final SimScheduler scheduler;
    private final Set<Long> cut = new HashSet<>();

    SimNetwork(SimScheduler scheduler) {
        this.scheduler = scheduler;
    }

    private static long key(int a, int b) {
        int lo = Math.min(a, b);
        int hi = Math.max(a, b);
        return ((long) lo << 32) ^ (hi & 0xffffffffL);
    }

    boolean connected(int a, int b) {
        return a == b || !cut.contains(key(a, b));
    }

    void cut(int a, int b) {
        cut.add(key(a, b));
    }

    void heal(int a, int b) {
        cut.remove(key(a, b));
    }

    void healAll() {
        cut.clear();
    }

    /** Delivers {@code arrival} after a delay unless the link is cut at either end of the trip. */
    void send(int from, int to, Runnable arrival) {
        if (!connected(from, to)) return;
        scheduler.after(scheduler.between(DELAY_MIN_MS, DELAY_MAX_MS), () -> {
            if (connected(from, to)) arrival.run();
        });
    }

    /** One direction of a connection (TCP): messages arrive in the order sent, each still lost on a cut link. */
    Fifo fifo(int from, int to) {
        return new Fifo(from, to);
    }

    final class Fifo {
        private final int from;
        private final int to;
        private long lastArrival;

        private Fifo(int from, int to) {
            this.from = from;
            this.to = to;
        }

        void send(Runnable arrival) {
            if (!connected(from, to)) return;
            long at = Math.max(scheduler.now() + scheduler.between(DELAY_MIN_MS, DELAY_MAX_MS), lastArrival);
            lastArrival = at;
            // Events due at one instant run in the order scheduled, so equal arrival times keep the order too.
            scheduler.after(at - scheduler.now(), () -> {
                if (connected(from, to)) arrival.run();
            });
        }
    }
}
