package io.tandem.server.kafka;

import io.tandem.server.kafka.group.GroupCoordinator;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The group coordinator's timer (thread {@code kafka-group-timer}): it runs {@link GroupCoordinator#tick} when the
 * earliest deadline is due (session, rebalance, initial-delay and pending-sync timeouts, classic and consumer groups)
 * and otherwise sleeps, without a deadline while no group has one. It ticked every 100 ms before, for the node's
 * whole life: 10 wake-ups a second on an idle node and 30-80 ms of CPU per consume run on a loaded machine
 * (docs/profiles/kafka-consume.md), and fired a deadline up to 100 ms late; now each fires when due.
 *
 * <p>The coordinator tells the timer its next deadline at the end of each request that may bring one forward
 * ({@link GroupCoordinator#deadlinesChanged}, under the coordinator's lock); the timer is woken only if that is earlier
 * than its planned wake-up. Lock order: coordinator, then this timer's lock; the thread never holds its own lock
 * while it ticks or asks the coordinator, so the two cannot deadlock. A deadline told while the thread ticks is kept
 * in {@link #toldMs} and counted when it plans its next sleep, so none is lost between asking and sleeping.
 */
final class GroupTimer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GroupTimer.class.getName());
    /** After a failed tick or look-up the thread tries again this soon (as the old fixed tick would have). */
    private static final long RETRY_MS = 100;

    private final GroupCoordinator groups;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The earliest deadline told since the thread last asked the coordinator. Guarded by {@link #lock}. */
    private long toldMs = Long.MAX_VALUE;
    /** When the thread will tick next; Long.MIN_VALUE while it ticks (every deadline told is then kept). */
    private long plannedMs = Long.MIN_VALUE;
    private boolean stopped;
    /** How many times the thread ran a tick (read by tests and diagnostics). */
    private volatile long ticks;
    private final Thread thread;

    GroupTimer(GroupCoordinator groups) {
        this.groups = groups;
        this.thread = new Thread(this::run, "kafka-group-timer");
        thread.setDaemon(true);
        groups.deadlineListener(this::deadlineAt);
        thread.start();
    }

    /** How many ticks the timer has run since it started. */
    long ticks() {
        return ticks;
    }

    /** Called under the coordinator's lock with its earliest deadline: wakes the thread if it sleeps past it. */
    private void deadlineAt(long deadlineMs) {
        lock.lock();
        try {
            if (deadlineMs < toldMs) toldMs = deadlineMs;
            if (deadlineMs < plannedMs) changed.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            lock.lock();
            try {
                if (stopped) return;
                toldMs = Long.MAX_VALUE;
                plannedMs = Long.MIN_VALUE;
            } finally {
                lock.unlock();
            }
            long next;
            try {
                ticks++;
                groups.tick(System.currentTimeMillis());
                next = groups.nextDeadlineMs();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Group coordinator tick failed", e);
                next = System.currentTimeMillis() + RETRY_MS;
            }
            lock.lock();
            try {
                while (!stopped) {
                    long target = Math.min(next, toldMs);
                    long nowMs = System.currentTimeMillis();
                    if (nowMs >= target) break;
                    plannedMs = target;
                    if (target == Long.MAX_VALUE) {
                        changed.await();
                    } else {
                        changed.await(target - nowMs, TimeUnit.MILLISECONDS);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Stops the thread; deadlines still pending are not fired (the coordinator's state goes with the broker). */
    @Override
    public void close() {
        lock.lock();
        try {
            stopped = true;
            changed.signal();
        } finally {
            lock.unlock();
        }
        groups.deadlineListener(null);
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
