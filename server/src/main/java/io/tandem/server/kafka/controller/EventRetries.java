package io.tandem.server.kafka.controller;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * How the controller retries an event that failed (ZooKeeper unreachable, a write it refuses): each event again after
 * a pause that doubles from {@link #BACKOFF_MS_MIN} up to {@link #BACKOFF_MS_MAX}, so a ZooKeeper that stays down is
 * not asked twice a second for ever, and a warning per distinct failure, not one per retry (the log filled with the
 * same line every 500 ms). What is stuck is listed ({@link #stuck()}: the failure, how many runs failed, since when,
 * the next pause) and logged once more when its pause reaches the cap; its recovery is logged with the time it took.
 * Every event re-reads what it acts on, so running one again late loses nothing.
 */
final class EventRetries {
    private static final System.Logger LOG = System.getLogger(KafkaController.class.getName());
    /** The first pause: ZooKeeper between leaders usually answers again within it. */
    static final long BACKOFF_MS_MIN = 500;
    /** The longest pause: how late the controller may notice that ZooKeeper answers again. */
    static final long BACKOFF_MS_MAX = 30_000;
    /**
     * Distinct failures listed at most (one per kind of event and cause in practice); one beyond it is still retried
     * and warned of, only not listed.
     */
    static final int STUCK_MAX = 64;

    /** A failure the controller's events are retrying: what failed, runs failed so far, since when, next pause. */
    record Stuck(String failure, int failedRuns, long sinceMs, long nextBackoffMs) {
    }

    private final int brokerId;
    private final LongSupplier clockMs;
    /** By failure text; with the number of event chains retrying it, so one recovering leaves the others listed. */
    private final Map<String, Stuck> stuck = new LinkedHashMap<>();
    private final Map<String, Integer> chains = new LinkedHashMap<>();

    EventRetries(int brokerId, LongSupplier clockMs) {
        this.brokerId = brokerId;
        this.clockMs = clockMs;
    }

    /** The pause before the run after {@code failedRuns} failed ones: 500 ms, 1 s, 2 s, ... 30 s. */
    static long backoffMs(int failedRuns) {
        long backoff = BACKOFF_MS_MIN;
        for (int i = 1; i < failedRuns && backoff < BACKOFF_MS_MAX; i++) backoff *= 2;
        return Math.min(backoff, BACKOFF_MS_MAX);
    }

    /** The failure as logged and listed: the event's own words (which event) and the root cause (why). */
    static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String what = failure.getMessage() == null ? failure.toString() : failure.getMessage();
        return root == failure ? what : what + ": " + root;
    }

    /**
     * An event's run failed, its {@code failedRuns}-th in a row ({@code previous}: the failure of the run before, null
     * for the first). Logs as described above and answers the pause before its next run.
     */
    synchronized long failed(String failure, int failedRuns, String previous) {
        long backoffMs = backoffMs(failedRuns);
        if (previous != null && !previous.equals(failure)) release(previous);
        Stuck known = stuck.get(failure);
        if (known == null) {
            LOG.log(System.Logger.Level.WARNING, "Controller event failed on broker {0}; retrying in {1} ms, then "
                    + "less and less often (up to every {2} ms) while it fails: {3}", brokerId, Long.toString(backoffMs),
                    Long.toString(BACKOFF_MS_MAX), failure);
            if (stuck.size() < STUCK_MAX) {
                stuck.put(failure, new Stuck(failure, 1, clockMs.getAsLong(), backoffMs));
                chains.put(failure, 1);
            }
            return backoffMs;
        }
        if (previous == null || !previous.equals(failure)) chains.merge(failure, 1, Integer::sum);
        Stuck next = new Stuck(failure, known.failedRuns() + 1, known.sinceMs(), backoffMs);
        stuck.put(failure, next);
        if (backoffMs == BACKOFF_MS_MAX && known.nextBackoffMs() < BACKOFF_MS_MAX) {
            LOG.log(System.Logger.Level.WARNING, "Controller of broker {0} is stuck: {1} runs failed over {2} s, "
                    + "retrying every {3} ms: {4}", brokerId, next.failedRuns(),
                    Long.toString((clockMs.getAsLong() - next.sinceMs()) / 1000), Long.toString(BACKOFF_MS_MAX),
                    failure);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "Controller event failed again on broker {0} (run {1}); retrying in "
                    + "{2} ms: {3}", brokerId, failedRuns, Long.toString(backoffMs), failure);
        }
        return backoffMs;
    }

    /** An event that had failed ({@code failure}, its last) ran through after {@code failedRuns} failed runs. */
    synchronized void recovered(String failure, int failedRuns) {
        Stuck was = stuck.get(failure);
        if (release(failure) && was != null) {
            LOG.log(System.Logger.Level.INFO, "Controller of broker {0} recovered after {1} failed runs over {2} ms: "
                    + "{3}", brokerId, failedRuns, Long.toString(clockMs.getAsLong() - was.sinceMs()), failure);
        }
    }

    /** One chain no longer retries {@code failure}; true when it was the last one, and the failure is unlisted. */
    private boolean release(String failure) {
        Integer left = chains.get(failure);
        if (left == null) return false;
        if (left > 1) {
            chains.put(failure, left - 1);
            return false;
        }
        chains.remove(failure);
        stuck.remove(failure);
        return true;
    }

    /** {@link #stuck()} in words, for operators: each failure, its failed runs, since when, and the next pause. */
    synchronized List<String> descriptions() {
        return stuck.values().stream().map(s -> s.failure() + " (" + s.failedRuns() + " failed runs since "
                + java.time.Instant.ofEpochMilli(s.sinceMs()) + ", next in " + s.nextBackoffMs() + " ms)").toList();
    }

    /** What the controller's events are retrying now, oldest first. */
    synchronized List<Stuck> stuck() {
        return List.copyOf(new ArrayList<>(stuck.values()));
    }
}
