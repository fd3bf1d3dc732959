package io.tandem.server.kafka.log;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogCleaningAbortedException;
import io.tandem.storage.log.LogClosedException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The periodic work on a broker's logs, on threads of its own as Kafka runs it: retention, time-based flushes and
 * recovery-point checkpoints on one thread, compaction on {@code log.cleaner.threads} others (Kafka's log cleaner
 * threads, none when {@code log.cleaner.enable=false} or the count is 0). A compaction pass over a large dirty log
 * takes as long as it takes; on these threads it delays neither retention nor the broker's other timers (group
 * session timeouts above all), which once shared one scheduler thread with it. Each cleaner thread goes over the
 * compacted logs and cleans those whose dirty ratio calls for it, skipping a log another cleaner thread holds (as
 * Kafka's LogCleanerManager hands a log to one thread at a time), then waits {@code log.cleaner.backoff.ms}.
 */
final class LogMaintenance implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LogMaintenance.class.getName());
    /** How long a close waits for a pass in progress to finish before the logs close under it. */
    private static final long STOP_WAIT_MS = 10_000;

    /** {@code log.cleaner.enable}, {@code log.cleaner.threads} and {@code log.cleaner.backoff.ms}. */
    record CleanerSettings(boolean enabled, int threads, long backoffMs) {
    }

    private final ScheduledExecutorService retention = Executors.newSingleThreadScheduledExecutor(
            daemon("kafka-log-retention"));
    private final LogManager logs;
    /** The cleaner threads and the settings they run with; replaced under this object's monitor. */
    private final List<ScheduledExecutorService> cleaners = new ArrayList<>();
    /**
     * Cleaner threads replaced by a reconfiguration whose pass may still be running: a close waits for them as for
     * the current ones, or such a pass would go on writing .cleaned files into logs being closed (or deleted).
     */
    private final List<ScheduledExecutorService> retired = new ArrayList<>();
    private CleanerSettings settings;
    /** Set at the start of a close: a cleaner pass in progress stops before its next batch. */
    private volatile boolean closed;
    /** The logs a cleaner thread is compacting now; another thread skips them. */
    private final Set<TopicPartition> inProgress = ConcurrentHashMap.newKeySet();
    /** Runs before each log's compaction: a test's way to make compaction slow. */
    private volatile Consumer<TopicPartition> beforeCompaction = tp -> { };

    LogMaintenance(LogManager logs, long retentionCheckIntervalMs, long checkpointIntervalMs, long initialTaskDelayMs,
            CleanerSettings cleaner) {
        // The first run of each task waits log.initial.task.delay.ms, as Kafka's LogManager.startup schedules its
        // retention, flusher and checkpoint tasks; the cleaner threads start at once, as Kafka's do.
        retention.scheduleWithFixedDelay(() -> applyRetention(logs.partitions().values()), initialTaskDelayMs,
                retentionCheckIntervalMs, TimeUnit.MILLISECONDS);
        // The recovery points on disk, as often as Kafka writes its recovery-point-offset-checkpoint: an unclean
        // restart re-reads only what was written after them, so this bounds the recovery time, not the log's size.
        retention.scheduleWithFixedDelay(() -> writeCheckpoints(logs), initialTaskDelayMs, checkpointIntervalMs,
                TimeUnit.MILLISECONDS);
        this.logs = logs;
        startCleaners(cleaner);
    }

    private void startCleaners(CleanerSettings cleaner) {
        settings = cleaner;
        int threads = cleaner.enabled() ? cleaner.threads() : 0;
        // scheduleWithFixedDelay needs a positive delay: a backoff of 0 (which Kafka accepts) waits 1 ms.
        long backoffMs = Math.max(1, cleaner.backoffMs());
        for (int i = 0; i < threads; i++) {
            ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
                    daemon("kafka-log-cleaner-thread-" + i));
            thread.scheduleWithFixedDelay(() -> compact(logs.partitions().values()), backoffMs, backoffMs,
                    TimeUnit.MILLISECONDS);
            cleaners.add(thread);
        }
    }

    /**
     * New cleaner settings (a dynamic log.cleaner.threads or log.cleaner.backoff.ms): as Kafka's
     * LogCleaner.reconfigure, the cleaner threads are replaced by new ones. A pass in progress finishes on its old
     * thread (never interrupted: an interrupt closes the log's channels) while the new threads skip the log it holds.
     * Unchanged settings change nothing.
     */
    synchronized void reconfigureCleaner(CleanerSettings cleaner) {
        if (cleaner.equals(settings) || closed) return;
        cleaners.forEach(ScheduledExecutorService::shutdown);
        retired.removeIf(ScheduledExecutorService::isTerminated);
        retired.addAll(cleaners);
        cleaners.clear();
        startCleaners(cleaner);
    }

    /** How many cleaner threads run. */
    synchronized int cleanerThreads() {
        return cleaners.size();
    }

    void beforeCompaction(Consumer<TopicPartition> hook) {
        beforeCompaction = hook;
    }

    /** Retention and time-based flushes (flush.ms) for every log. */
    static void applyRetention(Collection<Partition> partitions) {
        for (Partition partition : partitions) {
            try {
                Log log = partition.log();
                log.deleteOldSegments();
                log.flushIfDue();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Log retention of " + partition.topicPartition() + " failed", e);
            }
        }
    }

    /** One cleaner pass: compacts each compacted log whose dirty ratio calls for it and no other thread holds. */
    private void compact(Collection<Partition> partitions) {
        for (Partition partition : partitions) {
            if (closed) return;
            Log log = partition.log();
            if (!log.config().compact() || log.isClosed() || !inProgress.add(partition.topicPartition())) continue;
            try {
                beforeCompaction.accept(partition.topicPartition());
                // Stops within a batch once a close begins, so the close does not wait out a long pass.
                log.compact(() -> closed);
            } catch (LogCleaningAbortedException e) {
                LOG.log(System.Logger.Level.DEBUG, "Compaction of " + partition.topicPartition() + " stopped: closing");
            } catch (LogClosedException e) {
                // The log closed under the pass (a deleted partition, the broker stopping): nothing to report.
                LOG.log(System.Logger.Level.DEBUG, "Compaction of " + partition.topicPartition() + " stopped: closed");
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Compaction of " + partition.topicPartition() + " failed", e);
            } finally {
                inProgress.remove(partition.topicPartition());
            }
        }
    }

    private static void writeCheckpoints(LogManager logs) {
        try {
            logs.writeCheckpoints();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot write log checkpoints", e);
        }
    }

    /**
     * Stops the threads, the cleaner threads a reconfiguration replaced too, waiting a little for a pass in progress,
     * so no pass runs on a log being closed. A cleaning pass gives up before its next batch once {@link #closed} is
     * set, so the wait is short; a pass still running after it (a test's hook) is refused by the closing log.
     */
    @Override
    public void close() {
        List<ScheduledExecutorService> stopping;
        synchronized (this) {
            closed = true;
            stopping = new ArrayList<>(cleaners);
            stopping.addAll(retired);
        }
        // shutdown, not shutdownNow: the periodic tasks are cancelled and a run in progress finishes, uninterrupted,
        // since an interrupt during a read or write closes a segment's FileChannel for every reader of the log.
        retention.shutdown();
        stopping.forEach(ScheduledExecutorService::shutdown);
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MS);
            boolean stopped = retention.awaitTermination(STOP_WAIT_MS, TimeUnit.MILLISECONDS);
            for (ScheduledExecutorService cleaner : stopping) {
                stopped &= cleaner.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            if (!stopped) {
                LOG.log(System.Logger.Level.WARNING, "Log maintenance still running after {0} ms; closing the logs",
                        STOP_WAIT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
