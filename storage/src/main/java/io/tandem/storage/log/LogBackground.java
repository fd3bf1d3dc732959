package io.tandem.storage.log;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Where a {@link Log}'s background work runs (delayed deletion of segment files, the flush of a rolled segment): the
 * log manager's scheduler, or without one a process-wide daemon thread for delayed work and the caller for the rest.
 */
final class LogBackground {
    private static final System.Logger LOG = System.getLogger(LogBackground.class.getName());

    private final Path dir;
    private final ScheduledExecutorService scheduler;

    LogBackground(Path dir, ScheduledExecutorService scheduler) {
        this.dir = dir;
        this.scheduler = scheduler;
    }

    /** Runs {@code task} after {@code delayMs}; a failure is logged, since nobody waits for it. */
    void runLater(IoTask task, long delayMs) {
        Runnable runnable = () -> {
            try {
                task.run();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "background task on " + dir + " failed", e);
            }
        };
        if (delayMs == 0 && scheduler == null) {
            runnable.run();
            return;
        }
        ScheduledExecutorService executor = scheduler != null && !scheduler.isShutdown() ? scheduler
                : SharedScheduler.INSTANCE;
        executor.schedule(runnable, delayMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Runs delayed work for logs opened without a scheduler: one daemon thread for the whole process, created on
     * first use. Closing a deleted segment early would break fetches still reading it, so the delay is honoured even
     * then.
     */
    private static final class SharedScheduler {
        static final ScheduledExecutorService INSTANCE =
                Executors.newSingleThreadScheduledExecutor(
                runnable -> {
                    Thread thread = new Thread(runnable, "tandem-log-background");
                    thread.setDaemon(true);
                    return thread;
                });
    }

    @FunctionalInterface
    interface IoTask {
        void run() throws IOException;
    }
}
