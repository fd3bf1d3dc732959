package io.tandem.server.kafka.replica.sim;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The controller's event thread, simulated: an event submitted while none runs runs at once on the caller (the
 * simulation's one thread); one submitted by a running event waits until that event and those before it finish, as
 * on production's single event thread. So {@code KafkaController.call} completes inline, and order is kept.
 */
final class SimEventLoop extends AbstractExecutorService {
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean running;
    private boolean shutdown;

    @Override
    public void execute(Runnable command) {
        if (shutdown) throw new RejectedExecutionException("controller event loop stopped");
        queue.add(command);
        if (running) return;
        running = true;
        try {
            for (Runnable next; !shutdown && (next = queue.poll()) != null; ) next.run();
        } finally {
            running = false;
        }
    }

    @Override
    public void shutdown() {
        shutdown = true;
        queue.clear();
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }
}
