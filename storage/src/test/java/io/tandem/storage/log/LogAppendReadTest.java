package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static io.tandem.storage.log.Batches.offsets;
import static io.tandem.storage.log.Batches.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.CorruptRecordException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Appends as leader and follower, and reads by offset, byte and high-watermark limits. */
class LogAppendReadTest extends LogTestSupport {
    @Test
    void leaderAppendShouldAssignOffsetsByPatchingTheBaseOffset() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            assertEquals(0, log.logEndOffset());
            LogAppendInfo first = log.appendAsLeader(batch(5, 1000), 3, -1);
            LogAppendInfo second = log.appendAsLeader(batch(2, 2000), 3, -1);
            assertEquals(0, first.firstOffset());
            assertEquals(4, first.lastOffset());
            assertEquals(5, second.firstOffset());
            assertEquals(6, second.lastOffset());
            assertEquals(2001, second.maxTimestamp());
            assertEquals(7, log.logEndOffset());
            List<Batches.Read> reads = parse(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true));
            assertEquals(range(0, 7), offsets(reads));
            assertEquals("k1", reads.get(1).key());
            assertEquals(1001, reads.get(1).timestamp());
            assertEquals(Map.of(3, 0L), log.leaderEpochs().entries());
        }
    }

    @Test
    void fetchStartingInsideABatchShouldReturnTheWholeBatch() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            fill(log, 3, 5, 1000);
            LogSlice slice = log.read(7, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            assertEquals(5, slice.firstOffset());
            assertEquals(range(5, 15), offsets(parse(slice)));
        }
    }

    @Test
    void readShouldStopAtMaxBytesButReturnAtLeastOneWholeBatch() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            fill(log, 4, 5, 1000);
            int batchBytes = log.read(0, 1, Long.MAX_VALUE, true).length();
            assertEquals(range(0, 5), offsets(parse(log.read(0, 1, Long.MAX_VALUE, true))));
            assertTrue(log.read(0, 1, Long.MAX_VALUE, false).isEmpty());
            assertEquals(range(0, 10), offsets(parse(log.read(0, 2 * batchBytes, Long.MAX_VALUE, false))));
            assertEquals(range(0, 10), offsets(parse(log.read(3, 3 * batchBytes - 1, Long.MAX_VALUE, true))));
        }
    }

    @Test
    void readShouldNotReturnBatchesAtOrAboveTheHighWatermarkLimit() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            fill(log, 3, 5, 1000);
            assertEquals(range(0, 10), offsets(parse(log.read(0, Integer.MAX_VALUE, 10, true))));
            assertTrue(log.read(10, Integer.MAX_VALUE, 10, true).isEmpty());
        }
    }

    @Test
    void readOutsideTheLogShouldBeOutOfRangeAndAtTheEndEmpty() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            fill(log, 2, 5, 1000);
            assertTrue(log.read(10, 100, Long.MAX_VALUE, true).isEmpty());
            assertThrows(OffsetOutOfRangeException.class, () -> log.read(11, 100, Long.MAX_VALUE, true));
            assertThrows(OffsetOutOfRangeException.class, () -> log.read(-1, 100, Long.MAX_VALUE, true));
        }
    }

    @Test
    void shouldRejectCorruptBatchesAndPartialTrailingBytes() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            ByteBuf damaged = batch(3, 1000);
            damaged.setByte(damaged.writerIndex() - 1, damaged.getByte(damaged.writerIndex() - 1) ^ 1);
            assertThrows(CorruptRecordException.class, () -> log.appendAsLeader(damaged, 0, -1));
            ByteBuf partial = batch(3, 1000);
            partial.writerIndex(partial.writerIndex() - 1);
            assertThrows(CorruptRecordException.class, () -> log.appendAsLeader(partial, 0, -1));
            assertEquals(0, log.logEndOffset());
        }
    }

    @Test
    void aValidatedLeaderAppendShouldLeaveTheCrcToItsCallerButStillCheckFraming() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            // The broker's produce validation has just computed this CRC; the log must not compute it again. A
            // damaged byte gets through here (only here), which is how the test sees that the log did not look.
            ByteBuf damaged = batch(3, 1000);
            damaged.setByte(damaged.writerIndex() - 1, damaged.getByte(damaged.writerIndex() - 1) ^ 1);
            assertEquals(0, log.appendValidatedAsLeader(damaged, 0, -1).firstOffset());
            ByteBuf partial = batch(3, 1000);
            partial.writerIndex(partial.writerIndex() - 1);
            assertThrows(CorruptRecordException.class, () -> log.appendValidatedAsLeader(partial, 0, -1));
            assertEquals(3, log.logEndOffset());
        }
    }

    @Test
    void logAppendTimeShouldStampEveryRecordAndKeepTheCrcValid() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            LogAppendInfo info = log.appendAsLeader(batch(3, 1000), 0, 777_777L);
            assertEquals(777_777L, info.maxTimestamp());
            for (Batches.Read read : parse(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true))) {
                assertEquals(777_777L, read.timestamp());
            }
        }
    }

    @Test
    void followerAppendShouldKeepLeaderOffsetsAndEpochs() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            log.appendAsFollower(Batches.withOffsets(0, 4, 1000, 1));
            log.appendAsFollower(Batches.withOffsets(4, 4, 1000, 2));
            assertEquals(8, log.logEndOffset());
            assertEquals(Map.of(1, 0L, 2, 4L), log.leaderEpochs().entries());
            assertThrows(CorruptRecordException.class, () -> log.appendAsFollower(Batches.withOffsets(6, 1, 0, 2)));
            assertEquals(range(0, 8), offsets(parse(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true))));
        }
    }

    @Test
    void followerStartingPastAnEmptyLogShouldNameTheSegmentByItsFirstOffset() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            log.truncateFullyAndStartAt(100);
            log.appendAsFollower(Batches.withOffsets(100, 2, 1000, 0));
            assertEquals(List.of(100L), log.segmentBaseOffsets());
            assertEquals(102, log.logEndOffset());
        }
    }

    @Test
    void closedLogShouldRefuseAppends() throws IOException {
        Log log = open(LogConfig.defaults());
        log.close();
        assertThrows(IllegalStateException.class, () -> log.appendAsLeader(batch(1, 0), 0, -1));
        assertFalse(log.segmentBaseOffsets().isEmpty());
    }
}
