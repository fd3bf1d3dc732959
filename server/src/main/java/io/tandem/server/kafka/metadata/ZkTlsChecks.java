package io.tandem.server.kafka.metadata;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where the delegated tasks of the broker's TLS handshakes to ZooKeeper run (the certificate check, which with a trust
 * store looks the dialled host's name up, {@link io.tandem.server.tls.AddressThenNameTrustManager}): a few threads
 * and a bounded queue, off the Netty event loops. Past the bound the task is refused, never run on the submitting
 * thread (an event loop, which must not wait on DNS): the SslHandler then fails that handshake, the ZooKeeper client
 * reports "TLS handshake with ... failed" and tries the next host after its back-off, as after any failed handshake.
 * The broker dials one ZooKeeper server at a time, so the bound is reached only when DNS stalls for long.
 */
final class ZkTlsChecks implements Executor {
    private static final System.Logger LOG = System.getLogger(ZkTlsChecks.class.getName());
    /** Every thread's name starts with this (tests check where a check ran). */
    static final String THREAD_NAME = "zookeeper-tls-checks";
    /** Threads at most: a check takes milliseconds unless DNS is slow, and then more threads would not help. */
    static final int THREADS_MAX = 2;
    /** Tasks waiting for a thread, at most. */
    static final int QUEUED_MAX = 64;
    /** The broker's: every ZooKeeper client of the process shares it. */
    static final ZkTlsChecks SHARED = new ZkTlsChecks(THREADS_MAX, QUEUED_MAX);

    private final ThreadPoolExecutor pool;
    private final int queuedMax;
    private final AtomicLong refused = new AtomicLong();

    ZkTlsChecks(int threads, int queuedMax) {
        this.queuedMax = queuedMax;
        this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queuedMax),
                runnable -> {
                    Thread thread = new Thread(runnable, THREAD_NAME);
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
        // Idle threads go away, so a broker without TLS to ZooKeeper keeps none.
        pool.allowCoreThreadTimeOut(true);
    }

    /** Runs {@code task} on a check thread, or throws RejectedExecutionException (that handshake fails) when full. */
    @Override
    public void execute(Runnable task) {
        try {
            pool.execute(task);
        } catch (RejectedExecutionException e) {
            long count = refused.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "Refused a TLS check of a connection to ZooKeeper: {0} checks already "
                    + "wait for {1} threads (slow DNS?); that handshake fails and the client retries ({2} refused so "
                    + "far)", queuedMax, pool.getMaximumPoolSize(), count);
            throw new RejectedExecutionException("TLS checks of connections to ZooKeeper are full (" + queuedMax
                    + " queued): handshake refused", e);
        }
    }

    /** Tasks refused since start. */
    long refused() {
        return refused.get();
    }
}
