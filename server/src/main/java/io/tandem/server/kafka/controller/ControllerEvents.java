package io.tandem.server.kafka.controller;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The {@link KafkaController}'s event thread: events queued from watches and timers, calls that wait for their
 * answer, and the retries of events that failed. It owns the ordering and retrying of events, not their decisions.
 */
final class ControllerEvents {
    /** How long a caller waits for the controller's event thread (a topic's first leaders, an ISR change). */
    static final long EVENT_WAIT_MS = KafkaController.EVENT_WAIT_MS;

    private final ExecutorService events;
    private final BiConsumer<Long, Runnable> later;
    private final EventRetries retries;
    private volatile boolean closed;

    /** {@code events} runs one event at a time, in order; {@code later} runs an action after a delay in ms. */
    ControllerEvents(ExecutorService events, BiConsumer<Long, Runnable> later, EventRetries retries) {
        this.events = events;
        this.later = later;
        this.retries = retries;
    }

    boolean closed() {
        return closed;
    }

    /** No event is queued or retried from now on. */
    void markClosed() {
        closed = true;
    }

    void shutdownNow() {
        events.shutdownNow();
    }

    void enqueue(Runnable event) {
        if (closed) return;
        try {
            events.execute(() -> runSafely(event));
        } catch (RejectedExecutionException ignored) {
            // closing
        }
    }

    /** What the controller's failed events are waiting to retry (empty when nothing is stuck), oldest first. */
    List<String> stuckEvents() {
        return retries.descriptions();
    }

    /** Runs {@code event} on the event thread and waits (at most {@link #EVENT_WAIT_MS}) for its answer. */
    <T> T call(Callable<T> event) throws Exception {
        return submit(event).get(EVENT_WAIT_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Queues {@code event} behind every event queued before it (a failover's load among them) and returns its answer
     * to come, so a client's request waits for the controller without holding the caller's thread. A failure
     * completes the answer exceptionally and is not retried; a closed controller answers RejectedExecutionException.
     */
    <T> CompletableFuture<T> submit(Callable<T> event) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            events.execute(() -> {
                try {
                    result.complete(event.call());
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * Every event re-reads what it acts on from ZooKeeper, so one that failed (ZooKeeper unreachable while its
     * ensemble changes leader, a session being renewed) is simply run again later rather than lost.
     */
    private void runSafely(Runnable event) {
        runSafely(event, 0, null);
    }

    /**
     * {@code failedRuns} of this event failed before, the last with {@code lastFailure}: the next waits longer each
     * time ({@link EventRetries}), on the event thread, since ZooKeeper may be between leaders or down for a while.
     */
    private void runSafely(Runnable event, int failedRuns, String lastFailure) {
        try {
            event.run();
            if (failedRuns > 0) retries.recovered(lastFailure, failedRuns);
        } catch (RuntimeException e) {
            if (closed) return;
            String failure = EventRetries.describe(e);
            long backoffMs = retries.failed(failure, failedRuns + 1, lastFailure);
            later.accept(backoffMs, () -> {
                if (closed) return;
                try {
                    events.execute(() -> runSafely(event, failedRuns + 1, failure));
                } catch (RejectedExecutionException ignored) {
                    // closing
                }
            });
        }
    }
}
