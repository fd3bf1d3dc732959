package io.tandem.server.kafka.replica.sim;

import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * The simulation's only thread of time: a simulated millisecond clock and the events due at each instant, run one
 * at a time in (time, order scheduled) order, so a seed replays exactly. Nothing in the simulation sleeps.
 */
final class SimScheduler {
    private record Event(long at, long order, Runnable action) {
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>(
            Comparator.comparingLong(Event::at).thenComparingLong(Event::order));
    final Random random;
    private long now;
    private long order;

    SimScheduler(long seed) {
        this.random = new Random(seed);
        // Real broker code stamps some values with wall-clock time; the simulation's clock starts at a plausible one.
        this.now = 1_700_000_000_000L;
    }

    long now() {
        return now;
    }

    void after(long delayMs, Runnable action) {
        queue.add(new Event(now + Math.max(0, delayMs), order++, action));
    }

    /** A delay drawn uniformly from [min, max]. */
    long between(long min, long max) {
        return min + (long) (random.nextDouble() * (max - min + 1));
    }

    boolean chance(double probability) {
        return random.nextDouble() < probability;
    }

    /** Runs every event due up to {@code until} (simulated), then sets the clock there. */
    void runFor(long durationMs) {
        long until = now + durationMs;
        while (!queue.isEmpty() && queue.peek().at() <= until) {
            Event e = queue.poll();
            now = e.at();
            e.action().run();
        }
        now = until;
    }
}
