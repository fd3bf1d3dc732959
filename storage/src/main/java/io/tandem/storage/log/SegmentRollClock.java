package io.tandem.storage.log;

import io.tandem.kafka.wire.record.RecordBatch;

/**
 * When a segment rolls by time, as Kafka's LogSegment decides it (shouldRoll's reachedRollMs, timeWaitedForRoll): the
 * records' own time counts from the largest timestamp of the segment's first append, and only when that append had no
 * timestamp does the broker's clock since the segment's creation decide. Each segment draws its jitter once. Written
 * by the segment's one writer (the owning {@link Log}'s lock), like the segment.
 */
final class SegmentRollClock {
    /** Drawn once per segment from segment.jitter.ms: the segment rolls this much before segment.ms. */
    private final long jitterMs;
    /**
     * Kafka's rollingBasedTimestamp: the largest timestamp of the first append to this segment (of its first batch
     * once loaded), which a later append's largest timestamp is measured against to decide a time-based roll; -1
     * when the segment is empty or that append had no timestamp, and then the broker's clock since
     * {@link #createdMs} decides.
     */
    private long rollingBasedTimestamp = RecordBatch.NO_TIMESTAMP;
    /** When this segment was created or loaded, or emptied by a truncation (Kafka's LogSegment.created). */
    private long createdMs;

    SegmentRollClock(long jitterMs) {
        this.jitterMs = jitterMs;
    }

    long jitterMs() {
        return jitterMs;
    }

    /** The segment was created, loaded or emptied at {@code nowMs}; its first batch's largest timestamp, or -1. */
    void start(long nowMs, long firstBatchTimestamp) {
        createdMs = nowMs;
        rollingBasedTimestamp = firstBatchTimestamp;
    }

    /** As Kafka's LogSegment.append: the first append's largest timestamp, which time-based rolls count from. */
    void firstAppend(long maxTimestamp) {
        rollingBasedTimestamp = maxTimestamp;
    }

    /**
     * Kafka's time-based roll (LogSegment.shouldRoll's reachedRollMs): a non-empty segment rolls before an append
     * whose largest timestamp is more than {@code maxSegmentMs} minus this segment's jitter past the largest
     * timestamp of the segment's first append. So the records' own time decides, not the broker's: a producer
     * replaying old records rolls as their timestamps advance, and one whose clock runs ahead rolls early. Only
     * when the first append had no timestamp does the broker's clock since the segment's creation decide.
     *
     * @param nowMs                   the broker's clock
     * @param maxTimestampInMessages  the largest timestamp of the append (the log append time when the log stamps
     *                                it), -1 when it has none
     */
    boolean shouldRoll(boolean empty, long nowMs, long maxTimestampInMessages, long maxSegmentMs) {
        return !empty && timeWaitedForRoll(nowMs, maxTimestampInMessages) > maxSegmentMs - jitterMs;
    }

    /** Kafka's LogSegment.timeWaitedForRoll. */
    long timeWaitedForRoll(long nowMs, long maxTimestampInMessages) {
        long base = rollingBasedTimestamp;
        return base >= 0 ? maxTimestampInMessages - base : nowMs - createdMs;
    }
}
