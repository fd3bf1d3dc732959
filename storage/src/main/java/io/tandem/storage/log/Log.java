package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * One partition's log: a directory of segments ({@code <base offset>.log/.index/.timeindex}, Kafka's names) plus its
 * {@code leader-epoch-checkpoint}. Appends, truncation, retention and compaction swaps hold the log's lock (one
 * writer at a time); reads take no lock and only see published segment sizes. Offsets: the log start offset (first
 * readable offset, raised by retention and DeleteRecords), the high watermark (set by replication, at most the log end
 * offset) and the log end offset (next offset to assign).
 */
public final class Log implements Closeable {
    private static final System.Logger LOG = System.getLogger(Log.class.getName());

    private final Path dir;
    private volatile LogConfig config;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
    private final LeaderEpochCache leaderEpochs;
    private final LogBackground background;

    private volatile long logEndOffset;
    private volatile long logStartOffset;
    private volatile long highWatermark;
    private volatile long firstDirtyOffset;
    /** Open transactions; bound the last stable offset. Mutated under the lock. */
    private final LogTransactions transactions = new LogTransactions();
    /** The recovery point and the flush policy's counters. */
    private final LogFlusher flusher;
    /** Volatile: reads take no lock and must see a close rather than an emptied segment map. */
    private volatile boolean closed;
    /** Set under the lock when a close starts (before its fsyncs), so no append or truncation follows them. */
    private volatile boolean closing;
    private final long recoveredTornBytes;

    private Log(Path dir, LogConfig config, LongSupplier clock, ScheduledExecutorService scheduler,
            LeaderEpochCache leaderEpochs, long recoveredTornBytes) {
        this.dir = dir;
        this.config = config;
        this.clock = clock;
        this.background = new LogBackground(dir, scheduler);
        this.leaderEpochs = leaderEpochs;
        this.recoveredTornBytes = recoveredTornBytes;
        this.flusher = new LogFlusher(this, lock, clock);
    }

    /** The offsets a log manager checkpoints for each partition, handed back when the log is reopened. */
    public record Checkpoint(long recoveryPoint, long logStartOffset, long highWatermark) {
        public static final Checkpoint NONE = new Checkpoint(0, 0, 0);
    }

    /**
     * Opens (creating if needed) the log in {@code dir}. Unless the last shutdown was clean, every segment from the
     * one holding the recovery point on is recovered: batches are re-read, CRC-checked and re-indexed, the first bad
     * one and everything after it is cut off (a torn tail), and later segments are deleted.
     *
     * @param scheduler runs delayed segment deletion and the flush of rolled segments; when null, delayed work goes
     *                  to one shared daemon thread and undelayed work runs inline
     */
    public static Log open(Path dir, LogConfig config, Checkpoint checkpoint, boolean cleanShutdown,
            LongSupplier clock, ScheduledExecutorService scheduler) throws IOException {
        long now = clock.getAsLong();
        LogLoader.Loaded loaded = LogLoader.load(dir, config, checkpoint, cleanShutdown, now);
        LeaderEpochCache epochs = loaded.epochs();
        Long recoverFrom = loaded.recoverFrom();
        Log log = new Log(dir, config, clock, scheduler, epochs, loaded.tornBytes());
        for (LogSegment segment : loaded.segments()) {
            log.segments.put(segment.baseOffset(), segment);
        }
        long start = Math.max(0, checkpoint.logStartOffset());
        if (log.segments.isEmpty()) {
            log.segments.put(start, LogSegment.create(dir, start, config, now, ""));
        }
        LogSegment active = log.segments.lastEntry().getValue();
        active.makeActive();
        log.logEndOffset = active.nextOffset();
        if (start > log.logEndOffset) {
            log.truncateFullyAndStartAt(start);
        }
        log.logStartOffset = Math.max(start, log.segments.firstKey());
        log.highWatermark = Math.min(Math.max(checkpoint.highWatermark(), log.logStartOffset), log.logEndOffset);
        epochs.truncateFromEnd(log.logEndOffset);
        epochs.truncateFromStart(log.logStartOffset);
        // The checkpoint is read (and consumed) in any case; it is trusted only after a clean shutdown.
        log.transactions.onHighWatermark(log.highWatermark);
        boolean restored = log.transactions.restore(dir, log.logEndOffset);
        if (!cleanShutdown || !restored) {
            log.transactions.rebuild(log.segments.values(), recoverFrom == null ? Long.MAX_VALUE : recoverFrom);
        }
        if (cleanShutdown) {
            log.flusher.openedDurableTo(log.logEndOffset, now);
        } else {
            // Recovered bytes came from the page cache or the disk; make them durable before trusting them.
            log.flush();
            log.flusher.openedDurableTo(log.recoveryPoint(), now);
        }
        epochs.flush();
        return log;
    }

    /** Bytes of torn tail cut off while opening (0 after a clean shutdown). */
    public long recoveredTornBytes() {
        return recoveredTornBytes;
    }

    public Path dir() {
        return dir;
    }

    public LogConfig config() {
        return config;
    }

    public void updateConfig(LogConfig newConfig) {
        this.config = newConfig;
    }

    public long logEndOffset() {
        return logEndOffset;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long highWatermark() {
        return highWatermark;
    }

    public long recoveryPoint() {
        return flusher.recoveryPoint();
    }

    public LeaderEpochCache leaderEpochs() {
        return leaderEpochs;
    }

    public Checkpoint checkpoint() {
        return new Checkpoint(flusher.recoveryPoint(), logStartOffset, highWatermark);
    }

    /** The base offset of the segment appends go to: it changes when the log rolls. */
    public long activeSegmentBaseOffset() {
        return segments.lastKey();
    }

    /**
     * The base offset of the segment holding {@code offset} (the log end: the active segment), as the segment of a
     * Kafka LogOffsetMetadata: a parked fetch compares it with its end's to see whether the log rolled past it. An
     * offset below every segment answers the first one.
     */
    public long segmentBaseOffsetFor(long offset) {
        Long base = segments.floorKey(offset);
        return base != null ? base : segments.firstKey();
    }

    public int segmentCount() {
        return segments.size();
    }

    /** Total bytes of all segments. */
    public long sizeInBytes() {
        long total = 0;
        for (LogSegment segment : segments.values()) {
            total += segment.size();
        }
        return total;
    }

    /** Segment base offsets, oldest first. */
    public List<Long> segmentBaseOffsets() {
        return List.copyOf(segments.keySet());
    }

    /** Sets the high watermark, clamped to [log start offset, log end offset]. */
    public void updateHighWatermark(long offset) {
        lock.lock();
        try {
            highWatermark = Math.min(Math.max(offset, logStartOffset), logEndOffset);
            transactions.onHighWatermark(highWatermark);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A leader append: checks every batch (framing, magic 2, CRC), assigns offsets from the log end offset by patching
     * each batch's base offset in place, stamps {@code leaderEpoch}, and when {@code logAppendTimeMs} is not -1 sets
     * LogAppendTime (which rewrites the CRC). The buffer's readable bytes must be whole batches.
     */
    public LogAppendInfo appendAsLeader(ByteBuf records, int leaderEpoch, long logAppendTimeMs) throws IOException {
        return LogAppender.append(this, records, true, true, leaderEpoch, logAppendTimeMs);
    }

    /**
     * As {@link #appendAsLeader}, for batches whose CRCs the caller verified over these very bytes just before (the
     * broker's produce validation): the produce path then computes each CRC once, as Kafka's does, and the log checks
     * only the framing it relies on. Follower appends and recovery keep checking CRCs themselves.
     */
    public LogAppendInfo appendValidatedAsLeader(ByteBuf records, int leaderEpoch, long logAppendTimeMs)
            throws IOException {
        return LogAppender.append(this, records, true, false, leaderEpoch, logAppendTimeMs);
    }

    /**
     * A new leader records its epoch as starting at the log end offset before it appends anything, so a follower
     * asking where that epoch began (OffsetsForLeaderEpoch, a fetch's last fetched epoch) gets the right answer.
     */
    public void assignLeaderEpoch(int epoch) throws IOException {
        recordLeaderEpoch(epoch);
        flushLeaderEpochs();
    }

    /**
     * {@link #assignLeaderEpoch} without writing the checkpoint: the caller calls {@link #flushLeaderEpochs} before it
     * tells anyone of the leadership, so a broker taking the lead of many partitions at once can write their
     * checkpoints side by side. An append in between writes it itself (every append flushes a changed checkpoint
     * before it returns), so no record is acknowledged under an epoch the disk does not know.
     */
    public void recordLeaderEpoch(int epoch) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            leaderEpochs.assign(epoch, logEndOffset);
        } finally {
            lock.unlock();
        }
    }

    /** Writes and fsyncs the leader-epoch checkpoint when it changed since its last write; never under the lock. */
    public void flushLeaderEpochs() throws IOException {
        leaderEpochs.flush();
    }

    /** A follower append: batches keep the leader's offsets and epochs, which must start at or after the log end. */
    public LogAppendInfo appendAsFollower(ByteBuf records) throws IOException {
        return LogAppender.append(this, records, false, true, -1, -1);
    }

    /** Starts a new active segment at the log end offset (or {@code base} when given) and flushes the old one. */
    public void roll() throws IOException {
        lock.lock();
        try {
            ensureOpen();
            if (!segments.lastEntry().getValue().isEmpty()) {
                LogAppender.roll(this, logEndOffset);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whole batches from the one holding {@code offset}: at least one batch when {@code minOneBatch}, else at most
     * {@code maxBytes}, never a batch starting at or after {@code maxOffsetExclusive} (the high watermark for
     * consumers, the log end for followers). Empty at the log end.
     *
     * @throws OffsetOutOfRangeException if {@code offset} is below the log start or above the log end
     * @throws LogClosedException if the log was closed (its partition deleted or moved away)
     */
    public LogSlice read(long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) throws IOException {
        return LogReader.read(this, offset, maxBytes, maxOffsetExclusive, minOneBatch);
    }

    /** ListOffsets by timestamp: the first record at or after the log start with timestamp at least {@code ts}. */
    public Optional<TimestampAndOffset> offsetForTimestamp(long timestamp) throws IOException {
        return TimestampSearch.offsetForTimestamp(this, timestamp);
    }

    /** ListOffsets MAX_TIMESTAMP (-3): the first record carrying the largest timestamp in the log. */
    public Optional<TimestampAndOffset> offsetOfMaxTimestamp() throws IOException {
        return TimestampSearch.offsetOfMaxTimestamp(this);
    }

    /**
     * DeleteRecords: raises the log start offset to {@code offset} (-1 means the high watermark) and deletes segments
     * wholly below it. Returns the new log start offset (the low watermark).
     *
     * @throws OffsetOutOfRangeException if {@code offset} is above the high watermark
     */
    public long deleteRecordsBefore(long offset) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            long target = offset == -1 ? highWatermark : offset;
            if (target < 0 || target > highWatermark) {
                throw new OffsetOutOfRangeException("cannot delete records before " + offset + ": high watermark is "
                        + highWatermark);
            }
            if (target > logStartOffset) {
                logStartOffset = target;
                leaderEpochs.truncateFromStart(target);
                LogRetention.deleteSegmentsBelowLogStart(this);
            }
        } finally {
            lock.unlock();
        }
        leaderEpochs.flush();
        return logStartOffset;
    }

    /**
     * Applies retention: with cleanup.policy=delete, segments whose newest timestamp is older than retention.ms and
     * the oldest segments beyond retention.bytes; always, segments wholly below the log start offset. Only data below
     * the high watermark is deleted. An expired active segment is rolled first. Returns the segments deleted.
     */
    public int deleteOldSegments() throws IOException {
        int deleted;
        lock.lock();
        try {
            ensureOpen();
            deleted = LogRetention.deleteOldSegments(this);
        } finally {
            lock.unlock();
        }
        leaderEpochs.flush();
        return deleted;
    }

    /**
     * Replication truncation: drops every record at or after {@code offset}. A batch holding {@code offset} goes whole,
     * so the log end offset may end up below {@code offset}.
     */
    public void truncateTo(long offset) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            LogTruncation.truncateTo(this, offset);
        } finally {
            lock.unlock();
        }
        leaderEpochs.flush();
    }

    /** Deletes every segment and starts empty at {@code offset}: a follower far behind, or a log start past the end. */
    public void truncateFullyAndStartAt(long offset) throws IOException {
        lock.lock();
        try {
            ensureOpen();
            LogTruncation.truncateFullyAndStartAt(this, offset);
        } finally {
            lock.unlock();
        }
        leaderEpochs.flush();
    }

    /** After a truncation: the new log end and start, and what follows from them. Under the lock. */
    void truncatedTo(long newLogEndOffset, long newLogStartOffset) throws IOException {
        logEndOffset = newLogEndOffset;
        logStartOffset = newLogStartOffset;
        flusher.truncated(logEndOffset);
        highWatermark = Math.min(highWatermark, logEndOffset);
        transactions.onHighWatermark(highWatermark);
        transactions.rebuild(segments.values(), Long.MAX_VALUE);
        leaderEpochs.truncateFromEnd(logEndOffset);
    }

    /**
     * The last stable offset: the high watermark, or the first offset of the oldest open transaction when that is
     * lower. read_committed consumers read up to here.
     */
    public long lastStableOffset() {
        return Math.min(highWatermark, transactions.firstUnstableOffset());
    }

    /**
     * The aborted transactions with records in [{@code fetchOffset}, {@code upperBoundOffset}): what a
     * read_committed fetch reports so the consumer can drop those records.
     */
    public List<AbortedTransaction> abortedTransactions(long fetchOffset, long upperBoundOffset) {
        return LogReader.abortedTransactions(this, fetchOffset, upperBoundOffset);
    }

    /** Producer id to the first offset of its open transaction, for the broker's transaction bookkeeping. */
    public Map<Long, Long> openTransactions() {
        lock.lock();
        try {
            return transactions.open();
        } finally {
            lock.unlock();
        }
    }

    /** Fsyncs everything appended so far and moves the recovery point to the log end offset. Never under the lock. */
    public void flush() throws IOException {
        flusher.flushUpTo(Long.MAX_VALUE);
    }

    /** Fsyncs when unflushed data is older than flush.ms; called periodically by the log manager. */
    public void flushIfDue() throws IOException {
        if (flusher.due(config.flushIntervalMs())) {
            flush();
        }
    }

    /**
     * Compacts when cleanup.policy has compact and more than min.cleanable.dirty.ratio of the cleanable bytes were
     * appended since the last pass; see {@link LogCleaner}. Returns records removed.
     */
    public long compact() throws IOException {
        return compact(() -> false);
    }

    /**
     * The background cleaner's entry point: {@link #compact()}, giving up within a batch once {@code stopRequested}
     * says so ({@link LogCleaningAbortedException}) or the log starts closing ({@link LogClosedException}).
     */
    public long compact(BooleanSupplier stopRequested) throws IOException {
        if (!config.compact()) {
            return 0;
        }
        return LogCleaner.clean(this, false, stopRequested).recordsRemoved();
    }

    /**
     * Compacts now whatever the dirty ratio, re-cleaning already clean segments too (that is when tombstones past
     * their delete horizon go). For tests and administrative use; returns records removed.
     */
    public long compactNow() throws IOException {
        if (!config.compact()) {
            return 0;
        }
        return LogCleaner.clean(this, true, () -> false).recordsRemoved();
    }

    /** Offsets below this were compacted by an earlier pass (in memory: a restart re-cleans, which is harmless). */
    long firstDirtyOffset() {
        return firstDirtyOffset;
    }

    void markCleanedUpTo(long offset) {
        firstDirtyOffset = Math.max(firstDirtyOffset, offset);
    }

    /** True once closed: the partition was deleted or moved away, or the broker is stopping. */
    public boolean isClosed() {
        return closed;
    }

    /** How many truncations happened so far: the cleaner discards its work when this moved while it ran. */
    long truncationCount() {
        return flusher.truncationCount();
    }

    /** Retention raises the log start before it unlinks a segment (see {@link #read}). Under the lock. */
    void raiseLogStartOffset(long offset) {
        if (offset > logStartOffset) {
            logStartOffset = offset;
        }
    }

    /** Rolls the active segment at {@code base}, even an empty one. Under the lock. */
    void rollAt(long base) throws IOException {
        LogAppender.roll(this, base);
    }

    // Package-private access for the cleaner, which swaps segments under the lock.
    ReentrantLock lock() {
        return lock;
    }

    ConcurrentSkipListMap<Long, LogSegment> segments() {
        return segments;
    }

    LongSupplier clock() {
        return clock;
    }

    LogFlusher flusher() {
        return flusher;
    }

    LogTransactions transactions() {
        return transactions;
    }

    /** An append moved the log end. Under the lock. */
    void appendedTo(long newLogEndOffset) {
        logEndOffset = newLogEndOffset;
    }

    void runLater(LogBackground.IoTask task, long delayMs) {
        background.runLater(task, delayMs);
    }

    /** Changes are refused from the start of a close on. */
    void ensureOpen() {
        if (closing) {
            throw new LogClosedException("log " + dir + " is closed");
        }
    }

    /** True once a close started: no change is made to the log after that. */
    boolean isClosing() {
        return closing;
    }

    /**
     * Flushes and closes the segments; after this a reopen with cleanShutdown=true skips recovery. Changes are refused
     * from the start of the close ({@link LogClosedException}), so what the fsyncs cover is everything appended before
     * it; the fsyncs and checkpoint writes run without the lock (as an append's do), so reads, high-watermark updates
     * and a refused append never wait for the disk meanwhile.
     */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
        } finally {
            lock.unlock();
        }
        flush();
        leaderEpochs.flush();
        // Nothing changes the log end or the open transactions once closing is set.
        transactions.save(dir, logEndOffset);
        lock.lock();
        try {
            closed = true;
            for (LogSegment segment : segments.values()) {
                segment.close();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closes the log and deletes its directory: the partition was deleted. */
    public void closeAndDelete() throws IOException {
        lock.lock();
        try {
            closing = true;
            closed = true;
            for (LogSegment segment : segments.values()) {
                segment.closeAndDelete();
            }
            segments.clear();
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(dir);
        } finally {
            lock.unlock();
        }
    }
}
