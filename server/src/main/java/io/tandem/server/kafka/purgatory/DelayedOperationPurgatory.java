package io.tandem.server.kafka.purgatory;

import io.netty.util.Timer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Parks delayed operations under keys (e.g. a topic partition) until {@link #checkAndComplete(Object)} on one of
 * their keys finds them satisfied, or their timeout fires on the shared timer wheel (Netty's HashedWheelTimer),
 * as Kafka's DelayedOperationPurgatory does for produce and fetch.
 *
 * <p>The number of parked operations is bounded: past {@code watchedMax} a new operation is completed at once
 * (a fetch answers with what it has), so a flood of long polls cannot grow memory without limit.
 */
public final class DelayedOperationPurgatory<T extends DelayedOperation> {
    private final Timer timer;
    private final int watchedMax;
    private final ConcurrentHashMap<Object, List<T>> watchersByKey = new ConcurrentHashMap<>();
    private final AtomicInteger parked = new AtomicInteger();

    public DelayedOperationPurgatory(Timer timer, int watchedMax) {
        if (watchedMax <= 0) throw new IllegalArgumentException("watchedMax must be positive: " + watchedMax);
        this.timer = timer;
        this.watchedMax = watchedMax;
    }

    /**
     * Completes the operation now if it can be, else parks it under every key with its timeout armed.
     * Returns true if it completed during this call.
     */
    public boolean tryCompleteElseWatch(T operation, Collection<?> keys) {
        if (operation.safeTryComplete()) return true;
        if (parked.get() >= watchedMax) {
            operation.forceComplete();
            return true;
        }
        for (Object key : keys) {
            if (operation.isCompleted()) return false;
            watch(key, operation);
        }
        // Re-check: the condition may have become true between the first check and the registration.
        if (operation.safeTryComplete()) return true;
        if (!operation.isCompleted()) {
            operation.timeout(timer.newTimeout(t -> {
                if (operation.forceComplete()) operation.onExpiration();
                for (Object key : keys) {
                    List<T> list = watchersByKey.get(key);
                    if (list != null) purge(key, list);
                }
            }, Math.max(0, operation.delayMs()), TimeUnit.MILLISECONDS));
        }
        return false;
    }

    /**
     * Adds the operation to the key's list. {@link #purge} drops an emptied list from the map under the list's lock,
     * so a list taken from the map is used only if it is still the key's list once locked; otherwise the operation
     * would sit in a list no later {@link #checkAndComplete} reaches, until its timeout.
     */
    private void watch(Object key, T operation) {
        while (true) {
            List<T> list = watchersByKey.computeIfAbsent(key, k -> new ArrayList<>());
            synchronized (list) {
                if (watchersByKey.get(key) != list) continue;
                list.add(operation);
                parked.incrementAndGet();
                return;
            }
        }
    }

    /** Tries to complete every operation parked under the key; returns how many completed. Also drops completed ones. */
    public int checkAndComplete(Object key) {
        List<T> list = watchersByKey.get(key);
        if (list == null) return 0;
        List<T> candidates;
        synchronized (list) {
            candidates = new ArrayList<>(list);
        }
        int completed = 0;
        for (T operation : candidates) {
            if (operation.safeTryComplete()) completed++;
        }
        purge(key, list);
        return completed;
    }

    private void purge(Object key, List<T> list) {
        synchronized (list) {
            for (Iterator<T> it = list.iterator(); it.hasNext(); ) {
                if (it.next().isCompleted()) {
                    it.remove();
                    parked.decrementAndGet();
                }
            }
            if (list.isEmpty()) watchersByKey.remove(key, list);
        }
    }

    /** Drops completed operations under every key (call now and then, e.g. from a timer). */
    public void purgeCompleted() {
        for (var entry : watchersByKey.entrySet()) purge(entry.getKey(), entry.getValue());
    }

    /** Parked registrations not yet purged: an operation watching two keys counts once per key until purged. */
    public int watched() {
        return Math.max(parked.get(), 0);
    }
}
