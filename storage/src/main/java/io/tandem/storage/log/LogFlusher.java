package io.tandem.storage.log;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * What of a {@link Log} is durable: its recovery point (everything below it was fsynced, so an unclean restart
 * recovers only from there) and the flush policy's counters (records appended and time since the last flush, for
 * flush.messages and flush.ms). The fsyncs themselves run without the log's lock, so appends continue meanwhile; a
 * truncation during a flush makes that flush claim nothing. Fields change under the log's lock.
 */
final class LogFlusher {
    private final Log log;
    private final ReentrantLock lock;
    private final LongSupplier clock;
    private volatile long recoveryPoint;
    /** Counts truncations, so a flush that ran across one does not claim bytes written after it. */
    private long truncations;
    private long unflushedRecords;
    private long lastFlushMs;
    /** Runs before each segment's fsync: a test's way to make the disk slow. */
    private volatile Runnable beforeFsync = () -> { };

    LogFlusher(Log log, ReentrantLock lock, LongSupplier clock) {
        this.log = log;
        this.lock = lock;
        this.clock = clock;
    }

    /** Sets what runs before each segment's fsync (tests: a slow disk). */
    void beforeFsync(Runnable hook) {
        beforeFsync = hook;
    }

    long recoveryPoint() {
        return recoveryPoint;
    }

    /** Opening: everything below {@code offset} is durable (a clean shutdown's log end), as of {@code nowMs}. */
    void openedDurableTo(long offset, long nowMs) {
        recoveryPoint = offset;
        lastFlushMs = nowMs;
    }

    /** An append of {@code records}; returns whether flush.messages calls for a flush now. Under the lock. */
    boolean appended(long records, long flushIntervalMessages) {
        unflushedRecords += records;
        return unflushedRecords >= flushIntervalMessages;
    }

    /** The log was truncated to {@code logEndOffset}. Under the lock. */
    void truncated(long logEndOffset) {
        truncations++;
        recoveryPoint = Math.min(recoveryPoint, logEndOffset);
        unflushedRecords = 0;
    }

    long truncationCount() {
        return truncations;
    }

    /** Whether unflushed data is older than {@code flushIntervalMs}. */
    boolean due(long flushIntervalMs) {
        return log.logEndOffset() > recoveryPoint && clock.getAsLong() - lastFlushMs >= flushIntervalMs;
    }

    /** Fsyncs the segments holding offsets from the recovery point up to {@code offsetExclusive} and moves it. */
    void flushUpTo(long offsetExclusive) throws IOException {
        List<LogSegment> toFlush = new ArrayList<>();
        long target;
        long truncationsBefore;
        lock.lock();
        try {
            if (log.isClosed()) {
                return;
            }
            target = Math.min(offsetExclusive, log.logEndOffset());
            if (target <= recoveryPoint) {
                return;
            }
            truncationsBefore = truncations;
            for (LogSegment segment : log.segments().values()) {
                if (segment.nextOffset() > recoveryPoint && segment.baseOffset() < target) {
                    toFlush.add(segment);
                }
            }
        } finally {
            lock.unlock();
        }
        // The fsyncs run without the lock so appends continue meanwhile; appends only add bytes after the target.
        for (LogSegment segment : toFlush) {
            try {
                beforeFsync.run();
                segment.flush();
            } catch (ClosedChannelException e) {
                if (!log.isClosed() && log.segments().get(segment.baseOffset()) == segment) {
                    throw e;
                }
                // Truncated, compacted or deleted meanwhile: nothing of it is left to make durable. Or the log was
                // closed, and the close fsynced everything appended before it first.
            }
        }
        // The recovery point may pass records of a new epoch only once the checkpoint naming it is durable: a
        // restart recovers (and re-reads) only from the recovery point on.
        log.leaderEpochs().flush();
        lock.lock();
        try {
            // After a truncation meanwhile, bytes below the target may be new and unflushed: claim nothing then.
            long logEnd = log.logEndOffset();
            long durable = truncations == truncationsBefore ? Math.min(target, logEnd) : recoveryPoint;
            if (durable > recoveryPoint) {
                recoveryPoint = durable;
            }
            if (recoveryPoint == logEnd) {
                unflushedRecords = 0;
            }
            lastFlushMs = clock.getAsLong();
        } finally {
            lock.unlock();
        }
    }
}
