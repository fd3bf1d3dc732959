package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static io.tandem.storage.log.Batches.offsets;
import static io.tandem.storage.log.Batches.parse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.CorruptRecordException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTest {
    @TempDir
    Path dir;

    final AtomicLong clock = new AtomicLong(1_700_000_000_000L);

    Log open(LogConfig config) throws IOException {
        return Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null);
    }

    static LogConfig small() {
        // Segments of ~3 small batches, every batch indexed.
        return LogConfig.fromTopicConfig(Map.of("segment.bytes", "400", "index.interval.bytes", "0",
                "file.delete.delay.ms", "0"));
    }

    static List<Long> range(long fromInclusive, long toExclusive) {
        return LongStream.range(fromInclusive, toExclusive).boxed().toList();
    }

    /** Appends {@code batches} batches of {@code perBatch} records with increasing timestamps; returns the info. */
    static List<LogAppendInfo> fill(Log log, int batches, int perBatch, long firstTimestamp) throws IOException {
        List<LogAppendInfo> infos = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            infos.add(log.appendAsLeader(batch(perBatch, firstTimestamp + i * 100L), 0, -1));
        }
        return infos;
    }

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

    /**
     * Reads jump over the batches the offset index vouches for instead of reading every header: for any index
     * density, start, byte limit and offset limit the slice must still be exactly the whole batches a header-by-header
     * scan would take (the batch list here comes from one-batch reads, which never jump).
     */
    @Test
    void indexAssistedReadsShouldReturnExactlyTheBatchesAHeaderScanWould() throws IOException {
        for (String interval : List.of("0", "150", "700", "4096")) {
            Path logDir = dir.resolve("interval-" + interval);
            try (Log log = Log.open(logDir, LogConfig.fromTopicConfig(Map.of("index.interval.bytes", interval)),
                    Log.Checkpoint.NONE, false, clock::get, null)) {
                for (int i = 0; i < 30; i++) log.appendAsLeader(batch(1 + i % 7, 1000 + i), 0, -1);
                List<LogSlice> batches = new ArrayList<>();
                for (long offset = 0; offset < log.logEndOffset(); ) {
                    LogSlice one = log.read(offset, 1, Long.MAX_VALUE, true);
                    batches.add(one);
                    offset = one.nextOffset();
                }
                int total = batches.stream().mapToInt(LogSlice::length).sum();
                for (long start = 0; start < log.logEndOffset(); start += 3) {
                    for (int maxBytes = 0; maxBytes <= total + 200; maxBytes += 53) {
                        for (long limit : new long[] {start + 1, start + 9, log.logEndOffset() - 4, Long.MAX_VALUE}) {
                            for (boolean minOne : new boolean[] {true, false}) {
                                LogSlice expected = scan(batches, start, maxBytes, limit, minOne);
                                LogSlice actual = log.read(start, maxBytes, limit, minOne);
                                String what = "interval " + interval + " start " + start + " maxBytes " + maxBytes
                                        + " limit " + limit + " minOne " + minOne;
                                assertEquals(expected.position(), actual.position(), what);
                                assertEquals(expected.length(), actual.length(), what);
                                assertEquals(expected.nextOffset(), actual.nextOffset(), what);
                            }
                        }
                    }
                }
            }
        }
    }

    /** The reference: whole batches from the one holding {@code start}, header by header. */
    private static LogSlice scan(List<LogSlice> batches, long start, int maxBytes, long limit, boolean minOne) {
        int i = 0;
        while (batches.get(i).nextOffset() <= start) i++;
        LogSlice first = batches.get(i);
        if (first.firstOffset() >= limit || first.length() > maxBytes && !minOne) {
            return new LogSlice(null, null, first.position(), 0, first.firstOffset(), first.firstOffset());
        }
        int length = first.length();
        long next = first.nextOffset();
        for (i++; i < batches.size(); i++) {
            LogSlice b = batches.get(i);
            if (b.firstOffset() >= limit || (long) length + b.length() > maxBytes) break;
            length += b.length();
            next = b.nextOffset();
        }
        return new LogSlice(null, null, first.position(), length, first.firstOffset(), next);
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
    void shouldRollByTimeOnlyWhenTheActiveSegmentIsOlderThanSegmentMs() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.ms", "60000"));
        try (Log log = open(config)) {
            fill(log, 2, 2, 1000);
            assertEquals(1, log.segmentCount());
            clock.addAndGet(60_001);
            fill(log, 1, 2, 5000);
            assertEquals(List.of(0L, 4L), log.segmentBaseOffsets());
            fill(log, 1, 2, 6000);
            assertEquals(2, log.segmentCount());
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
    void offsetIndexShouldBeSparseByIndexIntervalBytes() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("index.interval.bytes", "500"));
        try (Log log = open(config)) {
            fill(log, 40, 3, 1000);
            log.roll();
            long entries = Files.size(dir.resolve("00000000000000000000.index")) / OffsetIndex.ENTRY_BYTES;
            int batchBytes = log.read(0, 1, Long.MAX_VALUE, true).length();
            long expectedMax = 40L * batchBytes / 500 + 1;
            assertTrue(entries > 0 && entries <= expectedMax, entries + " entries, batch " + batchBytes + " bytes");
            for (long offset = 0; offset < 120; offset += 7) {
                assertEquals(offset - offset % 3, log.read(offset, 1, Long.MAX_VALUE, true).firstOffset());
            }
        }
    }

    @Test
    void timestampLookupShouldFindTheFirstRecordAtOrAfterTheTimestamp() throws IOException {
        try (Log log = open(small())) {
            // Batch i holds 3 records with timestamps 1000 + 100 i + {0, 1, 2}.
            fill(log, 12, 3, 1000);
            assertEquals(0, log.offsetForTimestamp(0).orElseThrow().offset());
            assertEquals(0, log.offsetForTimestamp(1000).orElseThrow().offset());
            assertEquals(1, log.offsetForTimestamp(1001).orElseThrow().offset());
            TimestampAndOffset inside = log.offsetForTimestamp(1502).orElseThrow();
            assertEquals(17, inside.offset());
            assertEquals(1502, inside.timestamp());
            assertEquals(0, inside.leaderEpoch());
            assertEquals(18, log.offsetForTimestamp(1503).orElseThrow().offset());
            assertEquals(33, log.offsetForTimestamp(2100).orElseThrow().offset());
            assertTrue(log.offsetForTimestamp(2103).isEmpty());
            TimestampAndOffset max = log.offsetOfMaxTimestamp().orElseThrow();
            assertEquals(35, max.offset());
            assertEquals(2102, max.timestamp());
        }
    }

    @Test
    void timestampLookupShouldHandleOutOfOrderTimestampsAndCompressedBatches() throws IOException {
        try (Log log = open(small())) {
            log.appendAsLeader(batch(3, 5000, Compression.gzip().build()), 0, -1);
            log.appendAsLeader(batch(3, 1000, Compression.lz4().build()), 0, -1);
            log.appendAsLeader(batch(3, 9000, Compression.zstd().build()), 0, -1);
            assertEquals(0, log.offsetForTimestamp(1001).orElseThrow().offset());
            assertEquals(2, log.offsetForTimestamp(5002).orElseThrow().offset());
            assertEquals(6, log.offsetForTimestamp(5003).orElseThrow().offset());
            assertEquals(8, log.offsetOfMaxTimestamp().orElseThrow().offset());
        }
    }

    @Test
    void shouldReopenAfterCleanShutdownWithTrimmedIndexesAndCheckpointedOffsets() throws IOException {
        Log.Checkpoint checkpoint;
        try (Log log = open(small())) {
            fill(log, 10, 3, 1000);
            log.updateHighWatermark(21);
            log.deleteRecordsBefore(4);
            checkpoint = log.checkpoint();
            long activeBase = log.segmentBaseOffsets().get(log.segmentCount() - 1);
            assertEquals(new Log.Checkpoint(activeBase, 4, 21), checkpoint, "rolled segments are flushed");
        }
        for (Path index : listMatching(".index")) {
            long size = Files.size(index);
            assertEquals(0, size % OffsetIndex.ENTRY_BYTES);
            assertTrue(size < 4096, "index " + index + " was not trimmed: " + size);
        }
        try (Log log = Log.open(dir, small(), new Log.Checkpoint(30, 4, 21), true, clock::get, null)) {
            assertEquals(30, log.logEndOffset());
            assertEquals(4, log.logStartOffset());
            assertEquals(21, log.highWatermark());
            assertEquals(30, log.recoveryPoint());
            assertEquals(range(30, 33), List.of(log.appendAsLeader(batch(3, 0), 0, -1).firstOffset(), 31L, 32L));
            assertEquals(range(30, 33), offsets(parse(log.read(30, 1000, Long.MAX_VALUE, true))));
        }
    }

    @Test
    void shouldRecoverFromEveryTornTailOfTheActiveSegment() throws IOException {
        // Hundreds of opens, each with a few fsyncs: on tmpfs when there is one, since this tests recovery logic.
        Path base = Files.isDirectory(Path.of("/dev/shm")) ? Files.createTempDirectory(Path.of("/dev/shm"), "torn")
                : dir;
        try {
            recoverEveryTornTail(base);
        } finally {
            if (base != dir) {
                try (Stream<Path> files = Files.walk(base)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private void recoverEveryTornTail(Path dir) throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("segment.index.bytes", "4096"));
        Path source = dir.resolve("source");
        List<Integer> batchEnds = new ArrayList<>();
        try (Log log = Log.open(source, config, Log.Checkpoint.NONE, false, clock::get, null)) {
            for (int i = 0; i < 6; i++) {
                log.appendAsLeader(batch(1 + i % 3, 1000 + i), 0, -1);
                batchEnds.add((int) log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).length());
            }
        }
        byte[] whole = Files.readAllBytes(source.resolve("00000000000000000000.log"));
        long[] nextOffsets = {1, 3, 6, 7, 9, 12};
        for (int cut = batchEnds.get(2); cut < whole.length; cut++) {
            Path trial = dir.resolve("cut" + cut);
            Files.createDirectories(trial);
            for (Path file : Files.list(source).toList()) {
                Files.copy(file, trial.resolve(file.getFileName()));
            }
            Files.write(trial.resolve("00000000000000000000.log"), java.util.Arrays.copyOf(whole, cut));
            int wholeBatches = 0;
            while (wholeBatches < batchEnds.size() && batchEnds.get(wholeBatches) <= cut) {
                wholeBatches++;
            }
            long expectedEnd = nextOffsets[wholeBatches - 1];
            try (Log log = Log.open(trial, config, new Log.Checkpoint(3, 0, 0), false, clock::get,
                    null)) {
                assertEquals(expectedEnd, log.logEndOffset(), "cut at " + cut);
                assertEquals(cut - batchEnds.get(wholeBatches - 1), log.recoveredTornBytes(), "cut at " + cut);
                assertEquals(range(0, expectedEnd), offsets(parse(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE,
                        true))));
                assertEquals(expectedEnd, log.appendAsLeader(batch(2, 5000), 0, -1).firstOffset());
            }
        }
    }

    @Test
    void recoveryShouldCutAtACorruptBatchAndDeleteLaterSegments() throws IOException {
        try (Log log = open(small())) {
            fill(log, 12, 3, 1000);
        }
        Path first = dir.resolve("00000000000000000000.log");
        byte[] bytes = Files.readAllBytes(first);
        bytes[bytes.length - 2] ^= 0x40; // inside the last batch (offsets 9..11) of the first segment
        Files.write(first, bytes);
        try (Log log = open(small())) {
            assertEquals(List.of(0L), log.segmentBaseOffsets());
            assertEquals(9, log.logEndOffset());
            assertTrue(log.recoveredTornBytes() > 0);
            assertEquals(range(0, 9), offsets(parse(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true))));
        }
        assertEquals(List.of(dir.resolve("00000000000000000000.log")), listMatching(".log"));
    }

    @Test
    void cleanShutdownShouldSkipRecoveryButUncleanShouldRecoverFromTheRecoveryPoint() throws IOException {
        try (Log log = open(small())) {
            fill(log, 12, 3, 1000);
            log.flush();
            assertEquals(36, log.recoveryPoint());
        }
        try (Log log = open(small())) {
            assertEquals(36, log.logEndOffset());
            assertEquals(36, log.recoveryPoint());
            assertEquals(0, log.recoveredTornBytes());
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

    @Test
    void flushMessagesPolicyShouldFsyncAndMoveTheRecoveryPoint() throws IOException {
        try (Log log = open(LogConfig.fromTopicConfig(Map.of("flush.messages", "5")))) {
            log.appendAsLeader(batch(3, 0), 0, -1);
            assertEquals(0, log.recoveryPoint());
            log.appendAsLeader(batch(3, 0), 0, -1);
            assertEquals(6, log.recoveryPoint());
        }
        Files.walk(dir).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        try (Log log = open(LogConfig.defaults())) {
            fill(log, 50, 3, 0);
            assertEquals(0, log.recoveryPoint(), "Kafka's default leaves flushing to the OS");
            clock.addAndGet(1);
            log.flushIfDue();
            assertEquals(0, log.recoveryPoint());
        }
        try (Log log = open(LogConfig.fromTopicConfig(Map.of("flush.ms", "1000")))) {
            log.appendAsLeader(batch(3, 0), 0, -1);
            log.flushIfDue();
            assertEquals(150, log.recoveryPoint(), "just opened: recovery flushed everything");
            log.appendAsLeader(batch(3, 0), 0, -1);
            log.flushIfDue();
            assertEquals(150, log.recoveryPoint());
            clock.addAndGet(1000);
            log.flushIfDue();
            assertEquals(156, log.recoveryPoint());
        }
    }

    @Test
    void rollShouldFlushTheRolledSegmentAndMoveTheRecoveryPoint() throws IOException {
        try (Log log = open(small())) {
            fill(log, 6, 3, 0);
            assertTrue(log.segmentCount() > 1);
            assertEquals(log.segmentBaseOffsets().get(log.segmentCount() - 1), log.recoveryPoint());
        }
    }

    private List<Path> listMatching(String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(suffix)).toList();
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
