package io.tandem.server.kafka.log;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogConfig;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The partitions of this broker on disk: one directory per partition named {@code topic-partition} under the
 * log directory (Kafka's layout), a checkpoint file with each log's recovery point, log start offset and high
 * watermark, and a clean-shutdown marker so a clean restart skips recovery.
 */
public final class LogManager implements Closeable {
    private static final System.Logger LOG = System.getLogger(LogManager.class.getName());
    static final String CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";
    static final String CHECKPOINT_FILE = "tandem-log-checkpoints";
    /**
     * Logs opened at start-up or closed at shutdown at once: enough for their file operations and fsyncs to overlap
     * and share journal commits, few enough for a small machine.
     */
    static final int IO_THREADS = 8;

    private final Path logDir;
    private final int localBrokerId;
    private final LongSupplier clock;
    private final ScheduledExecutorService scheduler;
    private final ConcurrentHashMap<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    /** The lock of a partition being opened or deleted; open partitions are found in {@link #partitions} first. */
    private final ConcurrentHashMap<TopicPartition, Object> opening = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Log.Checkpoint> checkpoints;
    private final boolean cleanShutdown;
    /** Told of each coordinator append to a partition (see Partition#append); set once by the broker. */
    private volatile java.util.function.Consumer<TopicPartition> coordinatorAppended = tp -> { };
    /** Retention, compaction and checkpoints on their own threads, once started. */
    private volatile LogMaintenance maintenance;

    public LogManager(Path logDir, int localBrokerId, LongSupplier clock, ScheduledExecutorService scheduler)
            throws IOException {
        this.logDir = logDir;
        this.localBrokerId = localBrokerId;
        this.clock = clock;
        this.scheduler = scheduler;
        Files.createDirectories(logDir);
        Path marker = logDir.resolve(CLEAN_SHUTDOWN_FILE);
        this.cleanShutdown = Files.exists(marker);
        this.checkpoints = new ConcurrentHashMap<>(readCheckpoints());
        // From here on a crash is an unclean shutdown.
        Files.deleteIfExists(marker);
    }

    /** {@code listener} is told of every later coordinator append, after the partition's lock is released. */
    public void onCoordinatorAppend(java.util.function.Consumer<TopicPartition> listener) {
        this.coordinatorAppended = listener;
    }

    /** Partition directories found on disk, for the broker to open with their topics' configs. */
    public List<TopicPartition> partitionsOnDisk() throws IOException {
        List<TopicPartition> found = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(logDir, Files::isDirectory)) {
            for (Path dir : stream) {
                TopicPartition tp = parseDirName(dir.getFileName().toString());
                if (tp != null) found.add(tp);
            }
        }
        return found;
    }

    static TopicPartition parseDirName(String name) {
        int dash = name.lastIndexOf('-');
        if (dash <= 0 || dash == name.length() - 1) return null;
        try {
            return new TopicPartition(name.substring(0, dash), Integer.parseInt(name.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private Path dirOf(TopicPartition tp) {
        return logDir.resolve(tp.topic() + "-" + tp.partition());
    }

    public Partition get(TopicPartition tp) {
        return partitions.get(tp);
    }

    /**
     * Opens the partition's log (recovering it after an unclean shutdown), creating it when new. Partitions open
     * independently (a lock per partition, not one for the manager), so {@link #openAll} can open thousands at once.
     */
    public Partition getOrCreate(TopicPartition tp, LogConfig config) throws IOException {
        Partition existing = partitions.get(tp);
        if (existing != null) return existing;
        Object lock = opening.computeIfAbsent(tp, k -> new Object());
        synchronized (lock) {
            existing = partitions.get(tp);
            if (existing != null) return existing;
            Log.Checkpoint checkpoint = checkpoints.getOrDefault(tp, Log.Checkpoint.NONE);
            Log log = Log.open(dirOf(tp), config, checkpoint, cleanShutdown && checkpoints.containsKey(tp), clock,
                    scheduler);
            if (log.recoveredTornBytes() > 0) {
                LOG.log(System.Logger.Level.WARNING, "Recovered {0}: cut {1} bytes of torn tail", tp,
                        log.recoveredTornBytes());
            }
            Partition partition = new Partition(tp, localBrokerId, log, appended -> coordinatorAppended.accept(appended));
            partitions.put(tp, partition);
            // A thread still waiting on this lock object finds the partition open; a later one sees it in the
            // map first. After a failure the lock stays, so a retry and a newcomer never open the log twice.
            opening.remove(tp, lock);
            return partition;
        }
    }

    /**
     * Opens the given partitions at start-up on up to {@link #IO_THREADS} threads: each open reads a few small files
     * and maps two indexes, and one after the other 10,000 partitions kept Kafka's listener closed for 30 s.
     * Throws a failure (the last, if several) once every open has finished.
     */
    public void openAll(Map<TopicPartition, LogConfig> wanted) throws IOException {
        IOException failure = onThreads("kafka-log-open-", new ArrayList<>(wanted.entrySet()),
                e -> getOrCreate(e.getKey(), e.getValue()));
        if (failure != null) throw failure;
    }

    /** Closes and deletes the partition's log: its topic was deleted. */
    public void delete(TopicPartition tp) throws IOException {
        Partition partition;
        Object lock = opening.computeIfAbsent(tp, k -> new Object());
        synchronized (lock) {
            partition = partitions.remove(tp);
            checkpoints.remove(tp);
        }
        opening.remove(tp, lock);
        if (partition != null) {
            partition.log().closeAndDelete();
        } else if (Files.exists(dirOf(tp))) {
            Log.open(dirOf(tp), LogConfig.defaults(), Log.Checkpoint.NONE, false, clock, null).closeAndDelete();
        }
    }

    /**
     * The open partitions, a snapshot in the map's own order: that order follows the keys' hashes alone, so it is the
     * same in every JVM, where {@code Map.copyOf} iterates in an order salted per JVM. The ISR maintenance walks it,
     * and so answers parked produces in it: with {@code Map.copyOf} one replication simulation seed ran differently
     * from one JVM to the next.
     */
    public Map<TopicPartition, Partition> partitions() {
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(partitions));
    }

    /**
     * Starts retention and time-based flushes (every {@code retentionCheckIntervalMs}), checkpoints (every
     * {@code checkpointIntervalMs}), the first of each after {@code initialTaskDelayMs} (Kafka's
     * log.initial.task.delay.ms, which LogManager.startup uses for the same tasks), and compaction on threads of their own (see {@link LogMaintenance}): the cleaner's
     * settings are {@code log.cleaner.enable}, {@code log.cleaner.threads} and {@code log.cleaner.backoff.ms} (the
     * wait between a cleaner thread's passes). Stopped by {@link #close}.
     */
    public synchronized void startMaintenance(long retentionCheckIntervalMs, long checkpointIntervalMs,
            long initialTaskDelayMs, boolean cleanerEnabled, int cleanerThreads, long cleanerBackoffMs) {
        if (maintenance != null) throw new IllegalStateException("log maintenance already started");
        maintenance = new LogMaintenance(this, retentionCheckIntervalMs, checkpointIntervalMs, initialTaskDelayMs,
                new LogMaintenance.CleanerSettings(cleanerEnabled, cleanerThreads, cleanerBackoffMs));
    }

    /**
     * Applies new cleaner settings (dynamic {@code log.cleaner.threads} / {@code log.cleaner.backoff.ms}); nothing
     * before maintenance starts or when they are unchanged.
     */
    public void reconfigureCleaner(boolean cleanerEnabled, int cleanerThreads, long cleanerBackoffMs) {
        LogMaintenance running = maintenance;
        if (running != null) {
            running.reconfigureCleaner(new LogMaintenance.CleanerSettings(cleanerEnabled, cleanerThreads,
                    cleanerBackoffMs));
        }
    }

    /** How many log cleaner threads run (0 before maintenance starts). */
    public int cleanerThreads() {
        LogMaintenance running = maintenance;
        return running == null ? 0 : running.cleanerThreads();
    }

    /** Runs {@code hook} before each log's compaction, on the cleaner thread: tests make compaction slow with it. */
    public void beforeEachCompaction(java.util.function.Consumer<TopicPartition> hook) {
        LogMaintenance running = maintenance;
        if (running == null) throw new IllegalStateException("log maintenance not started");
        running.beforeCompaction(hook);
    }

    /** Writes every log's recovery point, start offset and high watermark (atomically: temp file and rename). */
    public synchronized void writeCheckpoints() throws IOException {
        StringBuilder text = new StringBuilder();
        Map<TopicPartition, Log.Checkpoint> current = new HashMap<>(checkpoints);
        for (Partition p : partitions.values()) current.put(p.topicPartition(), p.log().checkpoint());
        for (Map.Entry<TopicPartition, Log.Checkpoint> e : current.entrySet()) {
            Log.Checkpoint c = e.getValue();
            text.append(e.getKey().topic()).append(' ').append(e.getKey().partition()).append(' ')
                    .append(c.recoveryPoint()).append(' ').append(c.logStartOffset()).append(' ')
                    .append(c.highWatermark()).append('\n');
        }
        Path tmp = logDir.resolve(CHECKPOINT_FILE + ".tmp");
        Files.writeString(tmp, text.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, logDir.resolve(CHECKPOINT_FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    static IOException closeAll(List<Partition> open) {
        return onThreads("kafka-log-close-", open, partition -> {
            partition.snapshotProducerState();
            partition.log().close();
        });
    }

    @FunctionalInterface
    interface IoAction<T> {
        void run(T item) throws IOException;
    }

    /** Runs the action for every item on up to {@link #IO_THREADS} threads; returns the last failure, if any. */
    static <T> IOException onThreads(String threadName, List<T> items, IoAction<T> action) {
        int threads = Math.min(IO_THREADS, items.size());
        if (threads == 0) return null;
        AtomicInteger named = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, threadName + named.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        IOException failure = null;
        try {
            List<Future<?>> running = new ArrayList<>(items.size());
            for (T item : items) {
                running.add(pool.submit(() -> {
                    action.run(item);
                    return null;
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    failure = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = new IOException("interrupted while opening or closing logs", e);
                    break;
                }
            }
        } finally {
            pool.shutdown();
        }
        return failure;
    }

    private Map<TopicPartition, Log.Checkpoint> readCheckpoints() throws IOException {
        Map<TopicPartition, Log.Checkpoint> result = new HashMap<>();
        Path file = logDir.resolve(CHECKPOINT_FILE);
        if (!Files.exists(file)) return result;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] parts = line.trim().split(" ");
            if (parts.length != 5) continue;
            try {
                result.put(new TopicPartition(parts[0], Integer.parseInt(parts[1])), new Log.Checkpoint(
                        Long.parseLong(parts[2]), Long.parseLong(parts[3]), Long.parseLong(parts[4])));
            } catch (NumberFormatException e) {
                LOG.log(System.Logger.Level.WARNING, "Ignoring bad checkpoint line: {0}", line);
            }
        }
        return result;
    }

    /**
     * Closes every log, writes the checkpoints and leaves the clean-shutdown marker. Each close fsyncs a few files
     * (segment, indexes, producer snapshot, transaction checkpoint), and one after the other each waits for its own
     * journal commit: with 10,000 partitions a stop took minutes. Closed by a few threads at once, the fsyncs share
     * commits, as Kafka's log manager closes logs on a pool (num.recovery.threads.per.data.dir).
     */
    @Override
    public void close() throws IOException {
        // Outside this monitor: a checkpoint being written by maintenance takes it.
        LogMaintenance running = maintenance;
        if (running != null) running.close();
        closeLogs();
    }

    private synchronized void closeLogs() throws IOException {
        IOException failure = closeAll(new ArrayList<>(partitions.values()));
        writeCheckpoints();
        partitions.clear();
        if (failure != null) throw failure;
        Files.writeString(logDir.resolve(CLEAN_SHUTDOWN_FILE), "");
    }
}
