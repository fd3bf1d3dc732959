package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Time-based segment rolls as Kafka 3.9 / 4.x decide them (LogSegment.shouldRoll, timeWaitedForRoll,
 * LogConfig.randomSegmentJitter): the append's largest timestamp against the largest timestamp of the segment's
 * first append, segment.ms less the segment's jitter, and the broker's clock only for a segment whose first append
 * had no timestamp.
 */
class LogTimeRollTest extends LogTestSupport {
    private static final long MINUTE = 60_000;

    private static LogConfig segmentMs(long ms, long jitterMs) {
        return LogConfig.fromTopicConfig(Map.of("segment.ms", Long.toString(ms), "segment.jitter.ms",
                Long.toString(jitterMs)));
    }

    private static void append(Log log, long timestamp) throws IOException {
        log.appendAsLeader(batch(1, timestamp), 0, -1);
    }

    @Test
    void theRecordsTimestampsDecideNotTheBrokersClock() throws IOException {
        try (Log log = open(segmentMs(MINUTE, 0))) {
            long t0 = 10 * MINUTE;
            append(log, t0);
            clock.addAndGet(10 * MINUTE);
            append(log, t0 + MINUTE);
            assertEquals(1, log.segmentCount(), "a minute exactly is not past segment.ms, whatever the clock says");
            append(log, t0 + MINUTE + 1);
            assertEquals(List.of(0L, 2L), log.segmentBaseOffsets(), "one millisecond past it rolls");
            append(log, t0 + 2 * MINUTE);
            assertEquals(2, log.segmentCount(), "the new segment counts from its own first batch");
            append(log, t0 - 5 * MINUTE);
            assertEquals(2, log.segmentCount(), "an older timestamp never rolls");
        }
    }

    @Test
    void oldRecordsFollowedByCurrentOnesRollAtOnce() throws IOException {
        // What a producer replaying 2023's records does, and what a commit marker (the coordinator's clock) after
        // them does: the new batch starts a segment although the segment is seconds old on the broker's clock.
        try (Log log = open(LogConfig.defaults())) {
            append(log, 1_700_000_000_000L - 365L * 24 * 3600 * 1000);
            append(log, clock.get());
            assertEquals(List.of(0L, 1L), log.segmentBaseOffsets());
        }
    }

    @Test
    void aFutureFirstTimestampHoldsTheSegmentOpenPastSegmentMsOnTheClock() throws IOException {
        try (Log log = open(segmentMs(MINUTE, 0))) {
            append(log, clock.get() + 30 * MINUTE);
            clock.addAndGet(20 * MINUTE);
            append(log, clock.get());
            assertEquals(1, log.segmentCount());
        }
    }

    @Test
    void theFirstAppendsLargestTimestampIsTheBase() throws IOException {
        // Two batches in one append (a follower's fetch): Kafka keeps the append's largest timestamp, not the first
        // batch's.
        try (Log log = open(segmentMs(MINUTE, 0))) {
            ByteBuf two = Unpooled.wrappedBuffer(batch(1, 1_000), batch(1, 31_000));
            log.appendAsLeader(two, 0, -1);
            append(log, 1_000 + MINUTE + 1);
            assertEquals(1, log.segmentCount(), "counted from 31,000, the append's largest");
            append(log, 31_000 + MINUTE + 1);
            assertEquals(2, log.segmentCount());
        }
    }

    @Test
    void withoutATimestampTheBrokersClockSinceCreationDecides() throws IOException {
        try (Log log = open(segmentMs(MINUTE, 0))) {
            append(log, -1);
            clock.addAndGet(MINUTE);
            append(log, -1);
            assertEquals(1, log.segmentCount(), "a minute since the segment's creation is not past it");
            clock.addAndGet(1);
            append(log, 5_000);
            assertEquals(List.of(0L, 2L), log.segmentBaseOffsets());
        }
    }

    @Test
    void logAppendTimeRollsByTheBrokersClockThroughTheStampedTimestamps() throws IOException {
        try (Log log = open(segmentMs(MINUTE, 0))) {
            log.appendAsLeader(batch(1, 5), 0, clock.get());
            clock.addAndGet(MINUTE + 1);
            log.appendAsLeader(batch(1, 5), 0, clock.get());
            assertEquals(2, log.segmentCount());
        }
    }

    @Test
    void aReloadedSegmentCountsFromItsFirstBatch() throws IOException {
        try (Log log = open(segmentMs(MINUTE, 0))) {
            append(log, 1_000);
            append(log, 40_000);
        }
        clock.addAndGet(24 * 60 * MINUTE);
        try (Log log = open(segmentMs(MINUTE, 0))) {
            append(log, 1_000 + MINUTE);
            assertEquals(1, log.segmentCount(), "the restart and the clock do not roll it");
            append(log, 1_000 + MINUTE + 1);
            assertEquals(2, log.segmentCount());
        }
    }

    @Test
    void aSegmentTruncatedEmptyCountsAfresh() throws IOException {
        try (Log log = open(segmentMs(MINUTE, 0))) {
            append(log, 1_000);
            log.roll();
            append(log, 2_000);
            log.truncateTo(1);
            assertEquals(List.of(0L, 1L), log.segmentBaseOffsets());
            append(log, 500_000);
            append(log, 500_000 + MINUTE);
            assertEquals(2, log.segmentCount(), "the emptied segment's first batch is now the 500,000 one");
        }
    }

    @Test
    void jitterRollsEachSegmentSoonerByItsOwnDraw() throws IOException {
        try (Log log = open(segmentMs(10 * MINUTE, MINUTE))) {
            append(log, 0);
            long jitter = log.segments().lastEntry().getValue().rollJitterMs();
            assertTrue(jitter >= 0 && jitter < MINUTE, "drawn below min(segment.jitter.ms, segment.ms): " + jitter);
            append(log, 10 * MINUTE - jitter);
            assertEquals(1, log.segmentCount());
            append(log, 10 * MINUTE - jitter + 1);
            assertEquals(2, log.segmentCount());
        }
    }

    @Test
    void theJitterIsDrawnBelowTheSmallerOfJitterAndSegmentMs() {
        assertEquals(0, segmentMs(MINUTE, 0).randomSegmentJitter());
        LogConfig config = segmentMs(1_000, MINUTE);
        boolean spread = false;
        long first = config.randomSegmentJitter();
        for (int i = 0; i < 200; i++) {
            long draw = config.randomSegmentJitter();
            assertTrue(draw >= 0 && draw < 1_000, "bounded by segment.ms: " + draw);
            spread |= draw != first;
        }
        assertTrue(spread, "a random draw per segment");
    }
}
