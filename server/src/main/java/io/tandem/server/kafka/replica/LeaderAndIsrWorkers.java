package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The disk work of one LeaderAndIsr that names many partitions, done side by side: opening (creating) their logs and
 * writing the leader-epoch checkpoints of the partitions it made this broker the leader of. One after another, the
 * 50 partitions of a new {@code __consumer_offsets} took over a second on a loaded two-core machine while a fresh
 * node's first consumer waited for its group coordinator; concurrent fsyncs of different files share the file
 * system's journal commits (8 writers: 3-6x faster there). The threads are made on first use and end after a while
 * idle, so a broker that takes no partitions in bulk keeps none. The queue holds at most one LeaderAndIsr's
 * partitions, those this broker hosts, and the caller waits for all of them.
 */
final class LeaderAndIsrWorkers implements AutoCloseable {
    private static final int THREADS = 8;
    private static final long IDLE_SECONDS = 30;

    private final int brokerId;
    private final boolean concurrent;
    private ThreadPoolExecutor pool;

    /** {@code concurrent} false: everything runs on the caller's thread, in order (a simulation owns no threads). */
    LeaderAndIsrWorkers(int brokerId, boolean concurrent) {
        this.brokerId = brokerId;
        this.concurrent = concurrent;
    }

    /**
     * Writes each partition's checkpoint (nothing for one unchanged since its last write) and waits for all;
     * returns, by position, the failure of each write or null.
     */
    IOException[] flushAll(List<Partition> partitions) {
        List<Callable<IOException>> writes = new ArrayList<>(partitions.size());
        for (Partition p : partitions) writes.add(() -> flush(p));
        List<Object> outcomes = runAll(writes);
        IOException[] failures = new IOException[partitions.size()];
        for (int i = 0; i < outcomes.size(); i++) {
            Object outcome = outcomes.get(i);
            if (outcome instanceof IOException e) {
                failures[i] = e;
            } else if (outcome instanceof Throwable t) {
                failures[i] = new IOException("cannot write the leader-epoch checkpoint", t);
            }
        }
        return failures;
    }

    /**
     * Opens (creates, for a new topic) the logs of the partitions a LeaderAndIsr gives this broker side by side and
     * waits for all, before ReplicaManager's own pass over them, which then finds each open: a new
     * {@code __consumer_offsets} is 50 logs' directories, segments, indexes and mmaps. Kafka's broker creates them one
     * by one (makeLeaders); only the time differs, the request being answered after all of them either way. Whatever
     * fails here is tried again and answered by that pass. Nothing is done here in a simulation: the pass opens them.
     */
    void openLogs(List<LeaderAndIsrPartitionState> states, int localBrokerId, ClusterMetadata metadata,
                  BiFunction<TopicInfo, Integer, Partition> openLog) {
        if (!concurrent) return;
        Map<String, TopicInfo> topics = new HashMap<>();
        List<Callable<Object>> opens = new ArrayList<>();
        for (LeaderAndIsrPartitionState state : states) {
            if (!state.replicas.contains(localBrokerId)) continue;
            if (!topics.containsKey(state.topicName)) {
                TopicInfo read;
                try {
                    read = metadata.controllerTopic(state.topicName);
                } catch (ApiException e) {
                    read = null; // the pass reads it again and answers the error
                }
                topics.put(state.topicName, read);
            }
            TopicInfo topic = topics.get(state.topicName);
            if (topic == null) continue;
            int partition = state.partitionIndex;
            opens.add(() -> openLog.apply(topic, partition));
        }
        if (opens.size() > 1) runAll(opens);
    }

    /** Each task's result or the Throwable it ended with, by position; on the caller's thread when not concurrent. */
    private synchronized List<Object> runAll(List<? extends Callable<?>> tasks) {
        List<Object> outcomes = new ArrayList<>(tasks.size());
        if (!concurrent || tasks.size() < 2) {
            for (Callable<?> task : tasks) outcomes.add(call(task));
            return outcomes;
        }
        List<Future<?>> running = new ArrayList<>(tasks.size());
        for (Callable<?> task : tasks) {
            try {
                running.add(pool().submit(task));
            } catch (RejectedExecutionException e) {
                running.add(null); // closed meanwhile: run below on this thread
            }
        }
        for (int i = 0; i < tasks.size(); i++) {
            Future<?> f = running.get(i);
            if (f == null) {
                outcomes.add(call(tasks.get(i)));
                continue;
            }
            try {
                outcomes.add(f.get());
            } catch (ExecutionException e) {
                outcomes.add(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                outcomes.add(new IOException("interrupted while waiting for the disk"));
            }
        }
        return outcomes;
    }

    private static Object call(Callable<?> task) {
        try {
            return task.call();
        } catch (Exception e) {
            return e;
        }
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
                        Thread t = new Thread(r, "kafka-leader-and-isr-" + brokerId + "-" + n.incrementAndGet());
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
