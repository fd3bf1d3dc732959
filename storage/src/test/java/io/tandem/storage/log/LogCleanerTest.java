package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.keyed;
import static io.tandem.storage.log.Batches.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogCleanerTest {
    @TempDir
    Path dir;

    // Real time, not an arbitrary past instant: a segment emptied by compaction is dated by its file's mtime.
    final AtomicLong clock = new AtomicLong(System.currentTimeMillis());

    static final long DELETE_RETENTION_MS = 60_000;

    Log open() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("cleanup.policy", "compact", "segment.bytes", "300",
                "delete.retention.ms", Long.toString(DELETE_RETENTION_MS), "file.delete.delay.ms", "0",
                "segment.index.bytes", "4096"));
        return Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null);
    }

    /** Everything a consumer reading from the log start would see, across segments. */
    static List<Batches.Read> readAll(Log log) throws IOException {
        List<Batches.Read> all = new ArrayList<>();
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            LogSlice slice = log.read(offset, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            all.addAll(parse(slice));
            offset = slice.nextOffset();
        }
        return all;
    }

    static Map<String, String> latestByKey(List<Batches.Read> reads) {
        Map<String, String> latest = new LinkedHashMap<>();
        for (Batches.Read read : reads) {
            latest.put(read.key(), read.value());
        }
        return latest;
    }

    @Test
    void shouldKeepOnlyTheLatestValuePerKeyAndPreserveOffsets() throws IOException {
        try (Log log = open()) {
            for (int round = 0; round < 10; round++) {
                log.appendAsLeader(keyed(clock.get(), Compression.NONE, "a", "a" + round, "b", "b" + round), 0, -1);
                log.appendAsLeader(keyed(clock.get(), Compression.gzip().build(), "c" + round, "x"), 0, -1);
            }
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "a", "final"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            List<Batches.Read> before = readAll(log);
            long removed = log.compactNow();
            List<Batches.Read> after = readAll(log);
            assertEquals(latestByKey(before), latestByKey(after), "compaction must not change the latest values");
            assertEquals(before.size() - removed, after.size());
            assertEquals(1 + 1 + 10, after.size(), "one record per key: a, b and c0..c9");
            for (Batches.Read read : after) {
                Batches.Read original = before.stream().filter(r -> r.offset() == read.offset()).findFirst()
                        .orElseThrow();
                assertEquals(original, read, "a kept record keeps its offset, key, value and timestamp");
            }
            assertEquals(31, log.logEndOffset());
            assertEquals(31, log.appendAsLeader(keyed(clock.get(), Compression.NONE, "z", "z"), 0, -1)
                    .firstOffset());
        }
        assertTrue(Files.list(dir).noneMatch(p -> p.toString().endsWith(".cleaned")));
        try (Log log = open()) {
            Map<String, String> reopened = latestByKey(readAll(log));
            assertEquals("final", reopened.get("a"));
            assertEquals("b9", reopened.get("b"));
            assertEquals("z", reopened.get("z"));
        }
    }

    @Test
    void backgroundCompactionShouldWaitForTheDirtyRatio() throws IOException {
        try (Log log = open()) {
            for (int i = 0; i < 8; i++) {
                log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k", "v" + i), 0, -1);
            }
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            assertTrue(log.compact() > 0, "a never-cleaned log is entirely dirty");
            assertEquals(0, log.compact(), "nothing new since the last pass");
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k", "again"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            // One new small segment against the cleaned ones: below the default 0.5 ratio or not, either way the
            // pass must leave exactly one "k" in the cleanable range.
            log.compactNow();
            List<Batches.Read> after = readAll(log);
            assertEquals(List.of("again"), after.stream().map(Batches.Read::value).toList());
        }
    }

    @Test
    void shouldNotTouchTheActiveSegmentOrDataAboveTheHighWatermark() throws IOException {
        try (Log log = open()) {
            for (int i = 0; i < 6; i++) {
                log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k", "v" + i), 0, -1);
            }
            log.updateHighWatermark(0);
            assertEquals(0, log.compactNow());
            log.updateHighWatermark(log.logEndOffset());
            log.compactNow();
            List<Batches.Read> after = readAll(log);
            // The cleanable range ends at the active segment: its newest "k" survives there, as do the active
            // segment's records, which the cleaner never reads.
            long activeBase = log.segmentBaseOffsets().get(log.segmentCount() - 1);
            List<Long> expected = new ArrayList<>();
            expected.add(activeBase - 1);
            for (long offset = activeBase; offset < 6; offset++) {
                expected.add(offset);
            }
            assertTrue(activeBase > 1 && activeBase < 6, "segments " + log.segmentBaseOffsets());
            assertEquals(expected, Batches.offsets(after));
            assertEquals("v5", after.get(after.size() - 1).value());
        }
    }

    @Test
    void tombstonesShouldStayForDeleteRetentionThenBeRemoved() throws IOException {
        try (Log log = open()) {
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "gone", "1", "kept", "1"), 0, -1);
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "gone", null), 0, -1);
            log.roll();
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "other", "1"), 0, -1);
            log.updateHighWatermark(log.logEndOffset());

            log.compactNow();
            List<Batches.Read> first = readAll(log);
            assertEquals(List.of("kept", "gone", "other"), first.stream().map(Batches.Read::key).toList());
            assertEquals(null, first.get(1).value(), "the tombstone stays through the first cleaning");

            clock.addAndGet(DELETE_RETENTION_MS - 1);
            log.compactNow();
            assertEquals(3, readAll(log).size(), "still inside delete.retention.ms");

            clock.addAndGet(1);
            log.compactNow();
            List<Batches.Read> last = readAll(log);
            assertEquals(List.of("kept", "other"), last.stream().map(Batches.Read::key).toList());
        }
    }

    @Test
    void shouldKeepAnEmptyBatchForAProducersLastBatchAndItsLastOffset() throws IOException {
        try (Log log = open()) {
            var idempotent = MemoryRecords.withIdempotentRecords(Compression.NONE, 42L, (short) 3, 7,
                    new SimpleRecord(clock.get(), "p".getBytes(), "old".getBytes()),
                    new SimpleRecord(clock.get(), "q".getBytes(), "old".getBytes()));
            log.appendAsLeader(Unpooled.wrappedBuffer(idempotent.buffer()), 0, -1);
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "p", "new", "q", "new"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            log.compactNow();
            LogSlice slice = log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true);
            ByteBuffer bytes = slice.readBytes(io.netty.buffer.ByteBufAllocator.DEFAULT).nioBuffer();
            var batches = new ArrayList<org.apache.kafka.common.record.internal.RecordBatch>();
            MemoryRecords.readableRecords(bytes).batches().forEach(batches::add);
            var producerBatch = batches.get(0);
            producerBatch.ensureValid();
            assertEquals(42L, producerBatch.producerId());
            assertEquals(7, producerBatch.baseSequence());
            assertEquals(0, producerBatch.countOrNull());
            assertEquals(1, producerBatch.lastOffset(), "the last offset, hence the last sequence, is preserved");
            assertEquals(8, producerBatch.lastSequence());
            assertEquals(List.of("p", "q"), readAll(log).stream().map(Batches.Read::key).toList());
        }
    }

    /** A compacted log whose segments roll only when told to, with the given dirty ratio. */
    Log openRolledByHand(String minCleanableDirtyRatio) throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("cleanup.policy", "compact", "segment.bytes", "1048576",
                "min.cleanable.dirty.ratio", minCleanableDirtyRatio, "file.delete.delay.ms", "0"));
        return Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null);
    }

    /** One batch of ten records, keys k0..k9, values {@code prefix}0..9: the same size whatever the prefix letter. */
    ByteBuf tenKeys(String prefix) {
        String[] keyValues = new String[20];
        for (int i = 0; i < 10; i++) {
            keyValues[2 * i] = "k" + i;
            keyValues[2 * i + 1] = prefix + i;
        }
        return keyed(clock.get(), Compression.NONE, keyValues);
    }

    @Test
    void shouldCleanOnlyWhenTheDirtyRatioIsStrictlyAboveTheMinimumAsKafkaDoes() throws IOException {
        try (Log log = openRolledByHand("0.5")) {
            log.appendAsLeader(tenKeys("a"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(0, log.compact(), "ten distinct keys: the first pass cleans and removes nothing");
            log.appendAsLeader(tenKeys("b"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            List<Long> sizes = log.segments().values().stream().map(s -> (long) s.size()).toList();
            assertEquals(sizes.get(0), sizes.get(1), "a clean and a dirty segment of equal size: ratio 0.5");
            // Kafka's LogCleanerManager cleans a log only when cleanableRatio > minCleanableRatio.
            assertEquals(0, log.compact(), "a dirty ratio equal to min.cleanable.dirty.ratio does not clean");
            assertEquals(20, readAll(log).size());

            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k0", "c0"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(11, log.compact(), "above the ratio: a0..a9 and b0 go");
            assertEquals("c0", latestByKey(readAll(log)).get("k0"));
        }
    }

    /** A log of 50 batches over 5 keys in one segment below the active one: a pass has 50 batches to read. */
    Log fiftyBatchesInOneSegment() throws IOException {
        Log log = openRolledByHand("0.5");
        for (int i = 0; i < 50; i++) {
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k" + i % 5, "v" + i), 0, -1);
        }
        log.roll();
        log.updateHighWatermark(log.logEndOffset());
        return log;
    }

    @Test
    void aStopRequestShouldEndThePassWithinOneBatchAndLeaveTheLogAsItWas() throws IOException {
        try (Log log = fiftyBatchesInOneSegment()) {
            List<Batches.Read> before = readAll(log);
            AtomicInteger asked = new AtomicInteger();
            BooleanSupplier stopAtTheThirdBatch = () -> asked.incrementAndGet() >= 3;
            assertThrows(LogCleaningAbortedException.class, () -> log.compact(stopAtTheThirdBatch));
            // Checked before every batch, not only between segments: the pass ends inside its only segment.
            assertEquals(3, asked.get(), "the pass stops at its first check after the request");
            assertEquals(before, readAll(log));
            assertTrue(Files.list(dir).noneMatch(p -> p.toString().endsWith(".cleaned")));
            assertEquals(45, log.compact(() -> false), "a stopped pass marked nothing clean: the next one cleans");
        }
    }

    @Test
    void aCloseDuringAPassShouldEndItBeforeItsNextBatch() throws IOException {
        Log log = fiftyBatchesInOneSegment();
        AtomicInteger asked = new AtomicInteger();
        BooleanSupplier closeAtTheThirdBatch = () -> {
            if (asked.incrementAndGet() == 3) {
                try {
                    log.close();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return false;
        };
        assertThrows(LogClosedException.class, () -> log.compact(closeAtTheThirdBatch));
        assertEquals(3, asked.get(), "no batch is read after the close began");
        assertTrue(Files.list(dir).noneMatch(p -> p.toString().endsWith(".cleaned")));
        try (Log reopened = openRolledByHand("0.5")) {
            assertEquals(50, readAll(reopened).size());
        }
    }
}
