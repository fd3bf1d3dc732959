package io.tandem.storage.log;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import java.io.IOException;

/**
 * The write path of a {@link Log}: an append (checked and stamped by {@link AppendScan}, written to the active
 * segment, its open transactions and leader epochs recorded) and the segment rolls it calls for. Runs under the log's
 * lock; the fsyncs an append calls for run after the lock is released.
 */
final class LogAppender {
    private LogAppender() {
    }

    /**
     * Appends under the lock; the fsyncs an append calls for (flush.messages reached, a new leader epoch's checkpoint)
     * run after the lock is released, so another append or a truncation never waits for this one's disk. The append
     * still returns only once they are done: a caller acknowledging it gets the durability Kafka gives.
     */
    static LogAppendInfo append(Log log, ByteBuf records, boolean assignOffsets, boolean checkCrc, int leaderEpoch,
            long logAppendTimeMs) throws IOException {
        LogAppendInfo info;
        boolean flushNow;
        LeaderEpochCache leaderEpochs = log.leaderEpochs();
        log.lock().lock();
        try {
            log.ensureOpen();
            int bytes = records.readableBytes();
            if (bytes == 0) {
                throw new CorruptRecordException("empty append");
            }
            AppendScan scan = AppendScan.prepare(records, log.logEndOffset(), assignOffsets, checkCrc, leaderEpoch,
                    logAppendTimeMs);
            long firstOffset = scan.firstOffset();
            long next = scan.nextOffset();
            LogSegment active = maybeRoll(log, bytes, firstOffset, next - 1, scan.maxTimestamp());
            active.append(records);
            for (RecordBatch batch : RecordBatches.of(records)) {
                if (batch.isTransactional()) {
                    log.transactions().track(batch.producerId(), batch.isControl(), batch.baseOffset(),
                            batch.isControl() ? LogSegment.controlType(batch) : null, active, true);
                }
            }
            if (assignOffsets) {
                leaderEpochs.assign(leaderEpoch, firstOffset);
            } else {
                for (RecordBatch batch : RecordBatches.of(records)) {
                    leaderEpochs.assign(batch.partitionLeaderEpoch(), batch.baseOffset());
                }
            }
            log.appendedTo(next);
            flushNow = log.flusher().appended(scan.recordCount(), log.config().flushIntervalMessages());
            info = new LogAppendInfo(firstOffset, next - 1, scan.maxTimestamp(), logAppendTimeMs, scan.batches(),
                    bytes);
        } finally {
            log.lock().unlock();
        }
        leaderEpochs.flush();
        if (flushNow) {
            log.flush();
        }
        return info;
    }

    /**
     * Kafka's UnifiedLog.maybeRoll / LogSegment.shouldRoll: a non-empty active segment rolls when the append would
     * take it past segment.bytes, when the append's largest timestamp is segment.ms (less the segment's jitter)
     * past the segment's first ({@link LogSegment#shouldRollByTime}), when an index is full, or when the append's
     * last offset would not fit the indexes' relative offsets.
     */
    private static LogSegment maybeRoll(Log log, int appendBytes, long firstOffset, long lastOffset,
            long maxTimestampInMessages) throws IOException {
        LogSegment active = log.segments().lastEntry().getValue();
        long now = log.clock().getAsLong();
        LogConfig c = log.config();
        boolean roll = !active.isEmpty() && ((long) active.size() + appendBytes > c.segmentBytes()
                || active.shouldRollByTime(now, maxTimestampInMessages, c.maxSegmentMs())
                || active.indexIsFull()
                || lastOffset - active.baseOffset() > Integer.MAX_VALUE);
        if (!roll) {
            if (active.isEmpty() && active.baseOffset() != firstOffset && firstOffset > active.baseOffset()) {
                // A follower's first batch may start past the empty active segment's base; keep names truthful.
                return replaceEmptyActive(log, active, firstOffset);
            }
            return active;
        }
        return roll(log, firstOffset);
    }

    private static LogSegment replaceEmptyActive(Log log, LogSegment active, long base) throws IOException {
        log.segments().remove(active.baseOffset());
        active.closeAndDelete();
        LogSegment created = LogSegment.create(log.dir(), base, log.config(), log.clock().getAsLong(), "");
        log.segments().put(base, created);
        return created;
    }

    /** Starts a new active segment at {@code base} (even when the old one is empty). Under the lock. */
    static LogSegment roll(Log log, long base) throws IOException {
        LogSegment old = log.segments().lastEntry().getValue();
        old.onBecomeInactive();
        LogSegment created = LogSegment.create(log.dir(), base, log.config(), log.clock().getAsLong(), "");
        log.segments().put(base, created);
        // Kafka flushes a rolled segment in the background, so the recovery point keeps moving even when no fsync
        // policy is configured, and an unclean restart only re-reads the newest segment.
        log.runLater(() -> log.flusher().flushUpTo(base), 0);
        return created;
    }
}
