package io.tandem.server.kafka.network;

import java.util.ArrayDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The request-handler pool ({@code num.io.threads}) with Kafka's {@code queued.max.requests}: at most that many
 * requests wait for a handler thread; later ones wait, in arrival order, until one of those starts. A request never
 * runs on the thread that submits it (a Netty event loop must not block on disk or ZooKeeper). What waits here is a
 * connection's turn (its next frames, taken one by one on the handler thread that runs it) and at most one per
 * connection, because a connection is not read while a request of it is in hand ({@link KafkaConnectionHandler}):
 * a full queue thus leaves the connections of the waiting requests unread. A closed connection adds one task, which
 * tells the {@link ConnectionCloseListener}s (so the queue stays bounded by the connections).
 *
 * <p>Hand-off without a wake-up: a handler thread that finishes a request while nothing is queued spins for a short
 * while ({@link #SPIN_PROPERTY}, {@link #SPIN_MICROS_DEFAULT} us) before it goes back to the pool to park, and a
 * request submitted meanwhile is handed straight to it. An idle connection's next request (the event loop hands the
 * connection's turn over for each request that finds it idle) then starts without a futex wake-up of a parked thread
 * and the scheduler's switch to it, which cost a producer's requests two syscalls each. At most one thread spins at a
 * time, so the CPU this costs is bounded by the spin per request answered, and nothing runs on the submitting thread.
 */
public final class RequestDispatcher {
    /** System property: how long (microseconds) an idle handler thread spins for the next request; 0 turns it off. */
    static final String SPIN_PROPERTY = "tandem.kafka.handlerSpinMicros";
    static final long SPIN_MICROS_DEFAULT = 50;
    /** In {@link #slot}: a handler thread spins and takes the first request put there instead. */
    private static final Object SPINNING = new Object();

    private final ThreadPoolExecutor pool;
    private final long spinNanos;
    /** null (nobody spins), {@link #SPINNING}, or the request handed to the spinning thread. */
    private final AtomicReference<Object> slot = new AtomicReference<>();
    /** Requests handed to a spinning thread (for tests and diagnostics). */
    private final AtomicInteger handedToSpinner = new AtomicInteger();
    private final int queuedMax;
    /** Requests past the queue limit, oldest first; guarded by this. */
    private final ArrayDeque<Runnable> overflow = new ArrayDeque<>();
    /** Requests handed to the pool that have not started yet; guarded by this. */
    private int queued;

    public RequestDispatcher(int threads, int queuedMax) {
        this(threads, queuedMax, TimeUnit.MICROSECONDS.toNanos(Math.max(0, Long.getLong(SPIN_PROPERTY,
                SPIN_MICROS_DEFAULT))));
    }

    /** With an idle handler thread spinning up to spinNanos for the next request (0: it parks at once). */
    RequestDispatcher(int threads, int queuedMax, long spinNanos) {
        this.spinNanos = spinNanos;
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
        if (pool.isShutdown()) throw new RejectedExecutionException("the request handlers are shut down");
        if (slot.get() == SPINNING && slot.compareAndSet(SPINNING, request)) {
            handedToSpinner.incrementAndGet();
            return;
        }
        synchronized (this) {
            if (queued >= queuedMax) {
                overflow.addLast(request);
                return;
            }
            queued++;
        }
        pool.execute(() -> run(request));
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
                // Its connection is closed with the listener.
            }
        }
        request.run();
        spinForNext();
    }

    /**
     * After a request, while nothing is queued and no other thread spins: waits for the next request spinning, for up
     * to spinNanos, and runs it here; then goes back to the pool (to park, or to take what was queued meanwhile).
     */
    private void spinForNext() {
        while (spinNanos > 0 && pool.getQueue().isEmpty() && !pool.isShutdown()
                && slot.compareAndSet(null, SPINNING)) {
            long deadline = System.nanoTime() + spinNanos;
            while (slot.get() == SPINNING && System.nanoTime() - deadline < 0 && pool.getQueue().isEmpty()
                    && !pool.isShutdown()) {
                Thread.onSpinWait();
            }
            // Nobody handed a request over (the slot still says SPINNING): stop spinning.
            if (slot.compareAndSet(SPINNING, null)) return;
            // A submitter put its request in the slot; only this thread takes it out.
            ((Runnable) slot.getAndSet(null)).run();
        }
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

    /** Requests handed to a spinning handler thread instead of the pool's queue (for tests and diagnostics). */
    int handedToSpinner() {
        return handedToSpinner.get();
    }

    /** Requests waiting for a handler thread, queued or past the queue limit (for tests and diagnostics). */
    public synchronized int waiting() {
        return queued + overflow.size();
    }

    /** Stops taking requests and waits up to the timeout for the running ones. */
    public void close(long timeout, TimeUnit unit) throws InterruptedException {
        pool.shutdown();
        synchronized (this) {
            overflow.clear();
        }
        pool.awaitTermination(timeout, unit);
    }
}
