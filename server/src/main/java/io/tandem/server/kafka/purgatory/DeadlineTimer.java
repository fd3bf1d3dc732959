package io.tandem.server.kafka.purgatory;

import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.netty.util.TimerTask;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The purgatories' timer: one thread that sleeps until the earliest pending deadline, and without a deadline while
 * nothing is pending. Netty's HashedWheelTimer, used before, woke every tick (10 ms) from its first timeout for as
 * long as the broker ran: 100 wake-ups a second on an idle broker, and during a consume of 300,000 records (no fetch
 * parks while data is there) 50-90 ms of the server's CPU and about a third of its context switches, on a machine
 * where the consumer shares the cores (docs/profiles/kafka-consume.md). Kafka's own SystemTimer likewise sleeps until
 * its next bucket expires.
 *
 * <p>Deadlines are rounded up to a tick and kept per tick, so timeouts due at the same tick cost one wake-up and a
 * busy broker (acks=all produces parked by the thousand) wakes at most once per tick, as with the wheel; a timeout
 * added later than the thread's next wake-up does not wake it. A cancelled timeout (an operation completed before its
 * deadline) is removed at once: pending timeouts are those of parked operations, which the purgatories bound.
 */
public final class DeadlineTimer implements Timer {
    private static final System.Logger LOG = System.getLogger(DeadlineTimer.class.getName());
    /** Longer delays are clamped (about 36 years), so tick arithmetic never overflows. */
    private static final long DELAY_NANOS_MAX = 1L << 60;
    private static final int PENDING = 0;
    private static final int CANCELLED = 1;
    private static final int EXPIRED = 2;

    private final long tickNanos;
    /** Tick numbers count from here, so they stay small and positive whatever System.nanoTime()'s origin. */
    private final long originNanos = System.nanoTime();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Tick -> the pending timeouts due at it. Guarded by {@link #lock}. */
    private final TreeMap<Long, Set<Entry>> due = new TreeMap<>();
    /** The tick the thread sleeps until; Long.MAX_VALUE while it waits without a deadline. Guarded by lock. */
    private long wakeTick = Long.MAX_VALUE;
    private boolean stopped;
    private final Thread thread;

    public DeadlineTimer(String threadName, long tick, TimeUnit unit) {
        this.tickNanos = unit.toNanos(tick);
        if (tickNanos <= 0) throw new IllegalArgumentException("tick must be positive: " + tick + " " + unit);
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public Timeout newTimeout(TimerTask task, long delay, TimeUnit unit) {
        long delayNanos = Math.min(unit.toNanos(Math.max(delay, 0)), DELAY_NANOS_MAX);
        long sinceOrigin = System.nanoTime() - originNanos + delayNanos;
        // Rounded up: a timeout never fires before its delay has passed.
        Entry entry = new Entry(task, (sinceOrigin + tickNanos - 1) / tickNanos);
        lock.lock();
        try {
            if (stopped) throw new IllegalStateException("cannot be started once stopped");
            due.computeIfAbsent(entry.tick, t -> new HashSet<>()).add(entry);
            if (entry.tick < wakeTick) changed.signal();
        } finally {
            lock.unlock();
        }
        return entry;
    }

    /** Stops the thread; returns the timeouts that had not fired or been cancelled (their tasks have not run). */
    @Override
    public Set<Timeout> stop() {
        Set<Timeout> unprocessed = new HashSet<>();
        lock.lock();
        try {
            stopped = true;
            for (Set<Entry> entries : due.values()) unprocessed.addAll(entries);
            due.clear();
            changed.signal();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return unprocessed;
    }

    private void run() {
        List<Entry> expired = new ArrayList<>();
        while (true) {
            lock.lock();
            try {
                while (expired.isEmpty()) {
                    if (stopped) return;
                    long nowTick = (System.nanoTime() - originNanos) / tickNanos;
                    Map.Entry<Long, Set<Entry>> first;
                    while ((first = due.firstEntry()) != null && first.getKey() <= nowTick) {
                        due.pollFirstEntry();
                        for (Entry e : first.getValue()) {
                            if (e.state.compareAndSet(PENDING, EXPIRED)) expired.add(e);
                        }
                    }
                    if (!expired.isEmpty()) break;
                    if (first == null) {
                        wakeTick = Long.MAX_VALUE;
                        changed.await();
                    } else {
                        wakeTick = first.getKey();
                        changed.awaitNanos(first.getKey() * tickNanos - (System.nanoTime() - originNanos));
                    }
                }
                // Running the tasks: a timeout added meanwhile is found when the thread looks again.
                wakeTick = Long.MIN_VALUE;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            for (Entry e : expired) {
                try {
                    e.task.run(e);
                } catch (Throwable t) {
                    LOG.log(System.Logger.Level.WARNING, "A timer task failed", t);
                }
            }
            expired.clear();
        }
    }

    private final class Entry implements Timeout {
        final TimerTask task;
        final long tick;
        final AtomicInteger state = new AtomicInteger(PENDING);

        Entry(TimerTask task, long tick) {
            this.task = task;
            this.tick = tick;
        }

        @Override
        public Timer timer() {
            return DeadlineTimer.this;
        }

        @Override
        public TimerTask task() {
            return task;
        }

        @Override
        public boolean isExpired() {
            return state.get() == EXPIRED;
        }

        @Override
        public boolean isCancelled() {
            return state.get() == CANCELLED;
        }

        @Override
        public boolean cancel() {
            if (!state.compareAndSet(PENDING, CANCELLED)) return false;
            lock.lock();
            try {
                Set<Entry> entries = due.get(tick);
                if (entries != null && entries.remove(this) && entries.isEmpty()) due.remove(tick);
            } finally {
                lock.unlock();
            }
            return true;
        }
    }
}
