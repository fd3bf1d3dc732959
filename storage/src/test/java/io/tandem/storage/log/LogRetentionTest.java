package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static io.tandem.storage.log.Batches.offsets;
import static io.tandem.storage.log.Batches.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Segments rolled by size and time, and removed by DeleteRecords and by retention. */
class LogRetentionTest extends LogTestSupport {
    @Test
    void shouldRollBySizeWithKafkaFileNamesAndReadAcrossSegments() throws IOException {
        try (Log log = open(small())) {
            fill(log, 12, 3, 1000);
            assertTrue(log.segmentCount() >= 3, "segments: " + log.segmentBaseOffsets());
            assertTrue(Files.exists(dir.resolve("00000000000000000000.log")));
            assertTrue(Files.exists(dir.resolve("00000000000000000000.index")));
            assertTrue(Files.exists(dir.resolve("00000000000000000000.timeindex")));
            long second = log.segmentBaseOffsets().get(1);
            assertTrue(Files.exists(dir.resolve(String.format("%020d.log", second))));
            for (long offset = 0; offset < 36; offset++) {
                LogSlice slice = log.read(offset, 1, Long.MAX_VALUE, true);
                List<Long> got = offsets(parse(slice));
                assertTrue(got.contains(offset), "offset " + offset + " not in " + got);
                assertEquals(offset - offset % 3, got.get(0));
            }
            // A read never spans segments: it ends at the end of the segment holding the start offset.
            List<Long> fromZero = offsets(parse(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true)));
            assertEquals(range(0, second), fromZero);
        }
    }

    @Test
    void deleteRecordsShouldRaiseTheLogStartAndDeleteWholeSegmentsBelowIt() throws IOException {
        try (Log log = open(small())) {
            fill(log, 12, 3, 1000);
            assertThrows(OffsetOutOfRangeException.class, () -> log.deleteRecordsBefore(5));
            log.updateHighWatermark(30);
            long second = log.segmentBaseOffsets().get(1);
            long third = log.segmentBaseOffsets().get(2);
            assertEquals(second + 1, log.deleteRecordsBefore(second + 1));
            assertEquals(second, log.segmentBaseOffsets().get(0));
            assertThrows(OffsetOutOfRangeException.class, () -> log.read(second, 100, Long.MAX_VALUE, true));
            assertEquals(second + 1, log.read(second + 1, 1, Long.MAX_VALUE, true).firstOffset() + 1);
            assertEquals(second + 1, log.deleteRecordsBefore(second), "the log start never moves back");
            assertEquals(30, log.deleteRecordsBefore(-1), "-1 means the high watermark");
            assertTrue(log.segmentBaseOffsets().get(0) >= third);
            assertThrows(OffsetOutOfRangeException.class, () -> log.deleteRecordsBefore(31));
            assertEquals(30, log.offsetForTimestamp(0).orElseThrow().offset());
        }
        assertTrue(listMatching(".deleted").isEmpty());
    }

    @Test
    void retentionByTimeShouldDeleteExpiredSegmentsBelowTheHighWatermark() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", "400", "retention.ms", "10000",
                "file.delete.delay.ms", "0"));
        long now = clock.get();
        try (Log log = open(config)) {
            fill(log, 6, 3, now - 60_000); // old
            fill(log, 6, 3, now); // fresh
            log.updateHighWatermark(log.logEndOffset());
            int before = log.segmentCount();
            int deleted = log.deleteOldSegments();
            assertTrue(deleted > 0 && log.segmentCount() == before - deleted);
            assertTrue(log.logStartOffset() > 0 && log.logStartOffset() <= 18);
            assertEquals(log.segmentBaseOffsets().get(0), log.logStartOffset());
            clock.addAndGet(120_000);
            log.updateHighWatermark(30);
            log.deleteOldSegments();
            assertTrue(log.segmentBaseOffsets().get(0) <= 30, "data above the high watermark must stay");
            log.updateHighWatermark(36);
            log.deleteOldSegments();
            assertEquals(36, log.logStartOffset());
            assertEquals(36, log.logEndOffset());
            assertTrue(log.read(36, 100, Long.MAX_VALUE, true).isEmpty());
        }
    }

    @Test
    void retentionShouldEmptyAnIdleExpiredLogInOnePassKeepingTheLogEndOffset() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", "400", "retention.ms", "10000",
                "file.delete.delay.ms", "0", "segment.index.bytes", "4096"));
        try (Log log = open(config)) {
            fill(log, 10, 3, clock.get() - 60_000);
            log.updateHighWatermark(log.logEndOffset());
            assertTrue(log.segmentCount() > 2);
            int deleted = log.deleteOldSegments();
            assertTrue(deleted > 2);
            assertEquals(List.of(30L), log.segmentBaseOffsets());
            assertEquals(30, log.logStartOffset());
            assertEquals(30, log.logEndOffset());
            assertEquals(30, log.appendAsLeader(batch(1, clock.get()), 0, -1).firstOffset());
        }
    }

    @Test
    void retentionByBytesShouldKeepTheLogUnderTheLimit() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", "400", "retention.bytes", "900",
                "file.delete.delay.ms", "0"));
        try (Log log = open(config)) {
            fill(log, 20, 3, clock.get());
            log.updateHighWatermark(log.logEndOffset());
            log.deleteOldSegments();
            long size = log.sizeInBytes();
            assertTrue(size <= 900 + 400, "size " + size);
            assertTrue(log.segmentCount() >= 2);
            long withoutOldest = size - Files.size(dir.resolve(String.format("%020d.log",
                    log.segmentBaseOffsets().get(0))));
            assertTrue(withoutOldest < 900, "could have deleted one more segment");
        }
    }

    @Test
    void compactPolicyAloneShouldNotDeleteByRetention() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.bytes", "400", "retention.ms", "1",
                "cleanup.policy", "compact", "file.delete.delay.ms", "0"));
        try (Log log = open(config)) {
            fill(log, 6, 3, 0);
            log.updateHighWatermark(18);
            assertEquals(0, log.deleteOldSegments());
            assertEquals(0, log.logStartOffset());
        }
    }
}
