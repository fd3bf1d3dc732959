package io.tandem.server.kafka.network;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The request-handler pool ({@code num.io.threads}) with Kafka's {@code queued.max.requests}: at most that many
 * requests wait for a handler thread; later ones wait, in arrival order, until one of those starts. A request never
 * runs on the thread that submits it (a Netty event loop must not block on disk or ZooKeeper). What waits here is a
 * connection's turn (its next frames, taken one by one on the handler thread that runs it) and at most one per
 * connection, because a connection is not read while a request of it is in hand ({@link KafkaConnectionHandler}):
 * a full queue thus leaves the connections of the waiting requests unread. A closed connection adds one task, which
 * tells the {@link ConnectionCloseListener}s (so the queue stays bounded by the connections).
 */
public final class RequestDispatcher {
    /**
     * A task that holds a connection's request frames (its turn, or a request it starts): when the dispatcher drops
     * it instead of running it (the broker stops first), it is told, so the frames are released rather than leaked.
     */
    public interface FrameHolder extends Runnable {
        void dropped();
    }

    private final ThreadPoolExecutor pool;
    private final int queuedMax;
    /** Requests past the queue limit, oldest first; guarded by this. */
    private final ArrayDeque<Runnable> overflow = new ArrayDeque<>();
    /** Requests handed to the pool that have not started yet; guarded by this. */
    private int queued;
    /** Closed: nothing is taken any more; guarded by this. */
    private boolean closed;

    public RequestDispatcher(int threads, int queuedMax) {
        if (threads <= 0) throw new IllegalArgumentException("num.io.threads must be positive: " + threads);
        if (queuedMax <= 0) throw new IllegalArgumentException("queued.max.requests must be positive: " + queuedMax);
        this.queuedMax = queuedMax;
        AtomicInteger ids = new AtomicInteger();
        // The pool's own queue never holds more than queuedMax tasks: submit() counts them.
        this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "kafka-request-handler-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** Queues a request for a handler thread; throws {@link RejectedExecutionException} once shut down. */
    public void submit(Runnable request) {
        synchronized (this) {
            if (closed) throw new RejectedExecutionException("the request handlers are shut down");
            if (queued >= queuedMax) {
                overflow.addLast(request);
                return;
            }
            queued++;
        }
        try {
            pool.execute(() -> run(request));
        } catch (RejectedExecutionException e) {
            synchronized (this) {
                queued--;
            }
            throw e;
        }
    }

    private void run(Runnable request) {
        Runnable next;
        synchronized (this) {
            queued--;
            next = overflow.pollFirst();
            if (next != null) queued++;
        }
        if (next != null) {
            try {
                pool.execute(() -> run(next));
            } catch (RejectedExecutionException shuttingDown) {
                dropped(next);
            }
        }
        request.run();
    }

    /** The handler threads (num.io.threads). */
    public int threads() {
        return pool.getMaximumPoolSize();
    }

    /** num.io.threads changed at runtime: the pool grows or shrinks to it (core and maximum move in a valid order). */
    public synchronized void resize(int threads) {
        if (threads > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(threads);
            pool.setCorePoolSize(threads);
        } else {
            pool.setCorePoolSize(threads);
            pool.setMaximumPoolSize(threads);
        }
    }

    /** Requests waiting for a handler thread, queued or past the queue limit (for tests and diagnostics). */
    public synchronized int waiting() {
        return queued + overflow.size();
    }

    /**
     * Stops taking requests and waits up to the timeout for the running ones; those still waiting beyond the queue
     * never run, and each {@link FrameHolder} among them is told so.
     */
    public void close(long timeout, TimeUnit unit) throws InterruptedException {
        List<Runnable> dropped;
        synchronized (this) {
            closed = true;
            dropped = new ArrayList<>(overflow);
            overflow.clear();
        }
        pool.shutdown();
        for (Runnable request : dropped) dropped(request);
        pool.awaitTermination(timeout, unit);
    }

    /** A request that will not run: what it holds goes back (its connection is closed with the listener). */
    private static void dropped(Runnable request) {
        if (request instanceof FrameHolder holder) holder.dropped();
    }
}
