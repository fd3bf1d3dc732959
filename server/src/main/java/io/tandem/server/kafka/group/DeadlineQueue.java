package io.tandem.server.kafka.group;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One deadline per owner (a member's session, a group's rebalance), ordered by time, so the group coordinators find
 * their earliest deadline and the ones due without looking at every group and member: scheduling, moving or
 * cancelling an owner's deadline is O(log n), the earliest is O(log n), and the due ones cost O(log n) each. Kafka's
 * group coordinator keeps these deadlines in a timer wheel for the same reason (a heartbeat cancels and re-adds its
 * member's session timeout); here time is only a number handed in, so the coordinators stay clock-free state machines.
 *
 * <p>Owners are compared by identity (a member keeps its entry when its id changes). A cancelled deadline is removed
 * at once, so the queue holds exactly one entry per owner with a deadline: its size is bounded by the coordinators'
 * members and groups. Not thread-safe: used under the group coordinator's lock.
 */
public final class DeadlineQueue<K> {
    private static final class Entry<K> {
        final K owner;
        long deadlineMs;
        /** Ties broken by scheduling order, so equal deadlines fire in the order they were set. */
        long sequence;

        Entry(K owner) {
            this.owner = owner;
        }
    }

    private final Map<K, Entry<K>> byOwner = new IdentityHashMap<>();
    private final TreeSet<Entry<K>> byDeadline = new TreeSet<>((a, b) -> a.deadlineMs != b.deadlineMs
            ? Long.compare(a.deadlineMs, b.deadlineMs) : Long.compare(a.sequence, b.sequence));
    private long sequence;

    /** Sets the owner's deadline, replacing any earlier one; Long.MAX_VALUE cancels it. */
    public void schedule(K owner, long deadlineMs) {
        if (deadlineMs == Long.MAX_VALUE) {
            cancel(owner);
            return;
        }
        Entry<K> entry = byOwner.get(owner);
        if (entry == null) {
            entry = new Entry<>(owner);
            byOwner.put(owner, entry);
        } else {
            if (entry.deadlineMs == deadlineMs) return;
            byDeadline.remove(entry);
        }
        entry.deadlineMs = deadlineMs;
        entry.sequence = sequence++;
        byDeadline.add(entry);
    }

    /** Removes the owner's deadline, if it has one. */
    public void cancel(K owner) {
        Entry<K> entry = byOwner.remove(owner);
        if (entry != null) byDeadline.remove(entry);
    }

    /** The owner's deadline; Long.MAX_VALUE if it has none. */
    public long deadlineOf(K owner) {
        Entry<K> entry = byOwner.get(owner);
        return entry == null ? Long.MAX_VALUE : entry.deadlineMs;
    }

    /** The earliest deadline; Long.MAX_VALUE when there is none. */
    public long earliestMs() {
        return byDeadline.isEmpty() ? Long.MAX_VALUE : byDeadline.first().deadlineMs;
    }

    /** Removes and returns, earliest first, the owners whose deadline is at or before {@code nowMs}. */
    public List<K> pollDue(long nowMs) {
        List<K> due = new ArrayList<>();
        while (!byDeadline.isEmpty() && byDeadline.first().deadlineMs <= nowMs) {
            Entry<K> entry = byDeadline.pollFirst();
            byOwner.remove(entry.owner);
            due.add(entry.owner);
        }
        return due;
    }

    /** How many owners have a deadline. */
    public int size() {
        return byOwner.size();
    }
}
