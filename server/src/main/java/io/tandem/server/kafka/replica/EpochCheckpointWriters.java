package io.tandem.server.kafka.replica;

import io.tandem.server.kafka.log.Partition;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes the leader-epoch checkpoints of the partitions one LeaderAndIsr made this broker the leader of, side by side.
 * Each is an fsync of its own file; one after another, the 50 of {@code __consumer_offsets} took 0.3-1.2 s on a
 * loaded two-core machine while a fresh node's first consumer waited for its group coordinator, and concurrent
 * fsyncs of different files share the file system's journal commits (8 writers: 3-6x faster there). The threads are
 * made on first use and end after a while idle, so a broker that takes no leaderships in bulk keeps none. The queue
 * holds at most one LeaderAndIsr's partitions, those this broker hosts: the caller waits for all of them.
 */
final class EpochCheckpointWriters implements AutoCloseable {
    private static final int THREADS = 8;
    private static final long IDLE_SECONDS = 30;

    private final int brokerId;
    private final boolean concurrent;
    private ThreadPoolExecutor pool;

    /** {@code concurrent} false: every checkpoint is written on the caller's thread, in order (a simulation). */
    EpochCheckpointWriters(int brokerId, boolean concurrent) {
        this.brokerId = brokerId;
        this.concurrent = concurrent;
    }

    /**
     * Writes each partition's checkpoint (nothing for one unchanged since its last write) and waits for all;
     * returns, by position, the failure of each write or null.
     */
    synchronized IOException[] flushAll(List<Partition> partitions) {
        IOException[] failures = new IOException[partitions.size()];
        if (!concurrent || partitions.size() < 2) {
            for (int i = 0; i < partitions.size(); i++) failures[i] = flush(partitions.get(i));
            return failures;
        }
        List<Future<IOException>> writes = new ArrayList<>(partitions.size());
        for (Partition p : partitions) {
            try {
                writes.add(pool().submit(() -> flush(p)));
            } catch (RejectedExecutionException e) {
                writes.add(null); // closed meanwhile: written below on this thread
            }
        }
        for (int i = 0; i < partitions.size(); i++) {
            Future<IOException> write = writes.get(i);
            if (write == null) {
                failures[i] = flush(partitions.get(i));
                continue;
            }
            try {
                failures[i] = write.get();
            } catch (ExecutionException e) {
                failures[i] = new IOException("cannot write the leader-epoch checkpoint", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures[i] = new IOException("interrupted while writing the leader-epoch checkpoint");
            }
        }
        return failures;
    }

    private static IOException flush(Partition partition) {
        try {
            partition.flushLeaderEpochs();
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    private ThreadPoolExecutor pool() {
        if (pool == null) {
            AtomicInteger n = new AtomicInteger();
            pool = new ThreadPoolExecutor(THREADS, THREADS, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> {
                        Thread t = new Thread(r, "kafka-epoch-checkpoint-" + brokerId + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
        }
        return pool;
    }

    @Override
    public synchronized void close() {
        if (pool != null) pool.shutdownNow();
    }
}
