package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static io.tandem.storage.log.Batches.offsets;
import static io.tandem.storage.log.Batches.parse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Truncation and the leader epochs it must trim with the records. */
class LogTruncationTest extends LogTestSupport {
    @Test
    void truncatingToTheLogEndShouldDropAnEpochThatStartsThereWithNothingInIt() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            log.appendAsLeader(batch(3, 0), 1, -1);
            // Leader at epoch 2, then deposed before its first append: epoch 2 starts at the log end, empty.
            log.assignLeaderEpoch(2);
            assertEquals(Map.of(1, 0L, 2, 3L), log.leaderEpochs().entries());
            // As a follower it truncates to where it agrees with the new leader: its log end. Kafka's UnifiedLog
            // trims the empty epoch then; keeping it made the leader see this follower diverge at 3 forever.
            log.truncateTo(3);
            assertEquals(3, log.logEndOffset());
            assertEquals(Map.of(1, 0L), log.leaderEpochs().entries());
        }
    }

    @Test
    void leaderEpochCacheShouldAnswerEndOffsetsAndSurviveReopen() throws IOException {
        try (Log log = open(LogConfig.defaults())) {
            log.appendAsLeader(batch(3, 0), 1, -1);
            log.appendAsLeader(batch(3, 0), 1, -1);
            log.appendAsLeader(batch(3, 0), 4, -1);
            assertEquals(4, log.leaderEpochs().latestEpoch());
            assertEquals(6, log.leaderEpochs().endOffsetFor(1, log.logEndOffset())[1]);
            assertEquals(1, log.leaderEpochs().endOffsetFor(3, log.logEndOffset())[0]);
            assertEquals(9, log.leaderEpochs().endOffsetFor(4, log.logEndOffset())[1]);
            // Below every known epoch: where the first starts, under the epoch asked (Kafka's rule).
            assertArrayEquals(new long[] {0, 0}, log.leaderEpochs().endOffsetFor(0, log.logEndOffset()));
        }
        assertEquals(List.of("0", "2", "1 0", "4 6"), Files.readAllLines(dir.resolve("leader-epoch-checkpoint")));
        try (Log log = open(LogConfig.defaults())) {
            assertEquals(Map.of(1, 0L, 4, 6L), log.leaderEpochs().entries());
            log.truncateTo(5);
            assertEquals(Map.of(1, 0L), log.leaderEpochs().entries());
        }
    }

    @Test
    void truncateToShouldDropLaterBatchesAcrossSegmentsAndAllowNewAppends() throws IOException {
        try (Log log = open(small())) {
            fill(log, 12, 3, 1000);
            log.updateHighWatermark(36);
            log.truncateTo(20); // inside batch 18..20: that batch goes whole
            assertEquals(18, log.logEndOffset());
            assertEquals(18, log.highWatermark());
            assertTrue(log.segmentBaseOffsets().stream().allMatch(base -> base <= 18));
            assertEquals(18, log.appendAsLeader(batch(3, 0), 1, -1).firstOffset());
            assertEquals(21, log.logEndOffset());
            List<Long> all = new ArrayList<>();
            long offset = 0;
            while (offset < log.logEndOffset()) {
                LogSlice slice = log.read(offset, Integer.MAX_VALUE, Long.MAX_VALUE, true);
                all.addAll(offsets(parse(slice)));
                offset = slice.nextOffset();
            }
            assertEquals(range(0, 21), all);
            log.truncateTo(0);
            assertEquals(0, log.logEndOffset());
            assertEquals(List.of(0L), log.segmentBaseOffsets());
        }
        try (Log log = open(small())) {
            assertEquals(0, log.logEndOffset());
        }
    }
}
