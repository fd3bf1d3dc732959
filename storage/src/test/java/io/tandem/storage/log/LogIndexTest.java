package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.compress.Compression;
import org.junit.jupiter.api.Test;

/** The offset and time indexes: sparse offset entries, reads that jump by the index, lookups by timestamp. */
class LogIndexTest extends LogTestSupport {
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

    /**
     * A new log's index files are created with their first entry, not with the log: until then the log is its .log
     * file alone (a new __consumer_offsets is 50 logs created while a fresh node's first consumer waits for its
     * coordinator). Reads, timestamp lookups, a flush, a roll, a close and a reopen (clean or not) behave as with
     * empty index files.
     */
    @Test
    void newLogShouldCreateItsIndexFilesWithTheirFirstEntry() throws IOException {
        LogConfig config = LogConfig.fromTopicConfig(Map.of("index.interval.bytes", "500"));
        try (Log log = open(config)) {
            assertEquals(List.of(), listMatching(".index"), "a new log's offset index");
            assertEquals(List.of(), listMatching(".timeindex"), "a new log's time index");
            log.flush();
            log.appendAsLeader(batch(1, 1000), 0, -1); // below index.interval.bytes: no entry yet
            log.flush();
            assertEquals(List.of(), listMatching(".index"), "no entry, no file");
            assertEquals(0, log.read(0, 10_000, Long.MAX_VALUE, true).firstOffset());
            assertEquals(0, log.offsetForTimestamp(1000).orElseThrow().offset());
            fill(log, 20, 3, 2000); // past the interval: entries
            assertEquals(1, listMatching(".index").size(), "the offset index once it has an entry");
            assertEquals(1, listMatching(".timeindex").size(), "the time index once it has an entry");
            assertEquals(16, log.offsetForTimestamp(2500).orElseThrow().offset());
        }
        Path small = dir.resolve("small");
        for (boolean clean : new boolean[] {false, true}) {
            Path logDir = small.resolve(clean ? "clean" : "unclean");
            Log first = Log.open(logDir, config, Log.Checkpoint.NONE, false, clock::get, null);
            first.appendAsLeader(batch(2, 1000), 0, -1);
            first.roll(); // an inactive segment without an index entry, then an empty active one
            first.appendAsLeader(batch(2, 1100), 0, -1);
            first.flush();
            Log.Checkpoint checkpoint = new Log.Checkpoint(first.recoveryPoint(), first.logStartOffset(),
                    first.highWatermark());
            first.close();
            try (Log log = Log.open(logDir, config, clean ? checkpoint : Log.Checkpoint.NONE, clean, clock::get,
                    null)) {
                assertEquals(4, log.logEndOffset(), "clean " + clean);
                assertEquals(2, log.read(2, 10_000, Long.MAX_VALUE, true).firstOffset(), "clean " + clean);
                assertEquals(2, log.offsetForTimestamp(1050).orElseThrow().offset(), "clean " + clean);
                log.appendAsLeader(batch(1, 1200), 0, -1);
                assertEquals(5, log.logEndOffset(), "clean " + clean);
            }
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
}
