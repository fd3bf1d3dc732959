package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.keyed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's cleaner merges small adjacent segments after cleaning them (LogCleaner.groupSegmentsBySize) and swaps the
 * result in through .cleaned and .swap files that its LogLoader finishes or undoes after a crash; and
 * max.compaction.lag.ms (KIP-354) forces a cleaning, and a roll, once the oldest dirty record is that old.
 */
class LogCleanerMergeTest {
    static final int ROUNDS = 12;
    static final String BIG = "v".repeat(1500);

    @TempDir
    Path dir;

    final AtomicLong clock = new AtomicLong(System.currentTimeMillis());

    static LogConfig config(Map<String, String> extra) {
        Map<String, String> topic = new HashMap<>(Map.of("cleanup.policy", "compact", "segment.bytes", "2048",
                "segment.index.bytes", "4096", "index.interval.bytes", "1", "file.delete.delay.ms", "0"));
        topic.putAll(extra);
        return LogConfig.fromTopicConfig(topic);
    }

    Log open(Path in, boolean cleanShutdown) throws IOException {
        return Log.open(in, config(Map.of()), Log.Checkpoint.NONE, cleanShutdown, clock::get, null);
    }

    /**
     * One segment per round (a small record with a key of its own, then a big one under the shared key), timestamps
     * one second apart; the shared key's big values all go at the first cleaning, leaving a small segment per round.
     */
    void writeRounds(Log log) throws IOException {
        for (int round = 0; round < ROUNDS; round++) {
            long timestamp = clock.get() - (ROUNDS - round) * 1000L;
            log.appendAsLeader(keyed(timestamp, Compression.NONE, "u" + round, "x" + round), 0, -1);
            log.appendAsLeader(keyed(timestamp, Compression.NONE, "shared", round == ROUNDS - 1 ? "last" : BIG),
                    0, -1);
        }
        log.roll();
        log.updateHighWatermark(log.logEndOffset());
    }

    @Test
    void smallCleanedSegmentsShouldMergeIntoOneWithOffsetsAndIndexesIntact() throws IOException {
        Map<Long, Batches.Read> expected = new HashMap<>();
        try (Log log = open(dir, false)) {
            writeRounds(log);
            assertTrue(log.segmentCount() >= ROUNDS, "about a segment per round: " + log.segmentCount());
            log.compactNow();
            for (Batches.Read read : LogCleanerTest.readAll(log)) expected.put(read.offset(), read);
            assertEquals(ROUNDS + 1, expected.size(), "every round's own key and the shared key's last value");
            log.compactNow();
            assertEquals(2, log.segmentCount(), "the cleaned segments merged into one beside the active one");
            checkReads(log, expected);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(LogSegment.fileName(0) + ".log", LogSegment.fileName(2 * ROUNDS) + ".log"),
                    files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().toList());
        }
        assertTrue(Files.size(dir.resolve(LogSegment.fileName(0) + ".index")) >= 8 * ROUNDS,
                "the merged segment's offset index has an entry per batch");
        for (boolean clean : new boolean[] {true, false}) {
            try (Log log = open(dir, clean)) {
                assertEquals(2, log.segmentCount());
                log.updateHighWatermark(log.logEndOffset());
                checkReads(log, expected);
            }
        }
    }

    /**
     * Fetches running through a merge swap: each read finds a segment holding its offset (the merged one replaces the
     * first original under the same key before the others leave) and reads whole, valid batches, old or new.
     */
    @Test
    void readsDuringAMergeShouldAlwaysFindTheirRecords() throws Exception {
        // Replaced segments stay open for file.delete.delay.ms, as for a broker's fetches holding their channels.
        LogConfig config = config(Map.of("file.delete.delay.ms", "60000"));
        try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null)) {
            writeRounds(log);
            log.compactNow();
            Map<Long, Batches.Read> expected = byOffset(LogCleanerTest.readAll(log));
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CompletableFuture<Void> reader = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    while (!stop.get() || reads.get() == 0) {
                        for (Batches.Read read : expected.values()) {
                            LogSlice slice = log.read(read.offset(), 1, Long.MAX_VALUE, true);
                            assertTrue(Batches.parse(slice).contains(read), "offset " + read.offset());
                            reads.incrementAndGet();
                        }
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            while (reads.get() == 0) Thread.sleep(1);
            log.compactNow();
            assertEquals(2, log.segmentCount());
            stop.set(true);
            reader.get(30, java.util.concurrent.TimeUnit.SECONDS);
            checkReads(log, expected);
        }
    }

    /** Every kept record is read back from its own offset (offset index) and found by its timestamp (time index). */
    static void checkReads(Log log, Map<Long, Batches.Read> expected) throws IOException {
        assertEquals(Map.copyOf(expected), Map.copyOf(byOffset(LogCleanerTest.readAll(log))));
        for (Batches.Read read : expected.values()) {
            LogSlice slice = log.read(read.offset(), 1, Long.MAX_VALUE, true);
            Batches.Read first = Batches.parse(slice).get(0);
            assertEquals(read, first, "a read from offset " + read.offset());
            if (read.key().startsWith("u")) {
                assertEquals(read.offset(), log.offsetForTimestamp(read.timestamp()).orElseThrow().offset(),
                        "the first record at or after " + read.timestamp());
            }
        }
    }

    static Map<Long, Batches.Read> byOffset(List<Batches.Read> reads) {
        Map<Long, Batches.Read> map = new HashMap<>();
        for (Batches.Read read : reads) map.put(read.offset(), read);
        return map;
    }

    /**
     * The directory at every step of a merge swap: the merged segment written (.cleaned), half renamed to .swap, all
     * .swap, some originals renamed .deleted, the log file given its final name with its indexes still .swap. Up to
     * the complete .swap the originals stay; from there the merged segment does. Either way the log reads the same.
     */
    @Test
    void aCrashAtEveryStepOfAMergeSwapShouldRecoverAsKafkaDoes() throws IOException {
        Path live = Files.createDirectory(dir.resolve("live"));
        Path before = Files.createDirectory(dir.resolve("before"));
        Path after = Files.createDirectory(dir.resolve("after"));
        Map<Long, Batches.Read> expected = new HashMap<>();
        int segmentsBefore;
        try (Log log = open(live, false)) {
            writeRounds(log);
            log.compactNow();
            expected.putAll(byOffset(LogCleanerTest.readAll(log)));
            segmentsBefore = log.segmentCount();
        }
        copy(live, before, name -> true);
        try (Log log = open(live, true)) {
            log.updateHighWatermark(log.logEndOffset());
            log.compactNow();
            assertEquals(2, log.segmentCount());
        }
        copy(live, after, name -> true);
        String merged = LogSegment.fileName(0);
        Predicate<String> mergedFiles = name -> name.startsWith(merged) && !name.endsWith(".deleted");
        Predicate<String> mergedLog = name -> name.equals(merged + ".log");

        Map<String, Integer> cases = new java.util.LinkedHashMap<>();
        cases.put("cleaned", segmentsBefore);
        cases.put("log-swapped-indexes-cleaned", segmentsBefore);
        cases.put("all-swapped", 2);
        cases.put("all-swapped-some-originals-deleted", 2);
        cases.put("log-final-indexes-swapped", 2);
        for (Map.Entry<String, Integer> c : cases.entrySet()) {
            Path crashed = Files.createDirectory(dir.resolve(c.getKey()));
            switch (c.getKey()) {
                case "cleaned" -> {
                    copy(before, crashed, name -> true);
                    copyWithSuffix(after, crashed, mergedFiles, name -> ".cleaned");
                }
                case "log-swapped-indexes-cleaned" -> {
                    copy(before, crashed, name -> true);
                    copyWithSuffix(after, crashed, mergedFiles, name -> mergedLog.test(name) ? ".swap" : ".cleaned");
                }
                case "all-swapped" -> {
                    copy(before, crashed, name -> true);
                    copyWithSuffix(after, crashed, mergedFiles, name -> ".swap");
                }
                case "all-swapped-some-originals-deleted" -> {
                    copy(before, crashed, name -> true);
                    String second;
                    try (Stream<Path> logs = Files.list(before)) {
                        second = logs.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted()
                                .toList().get(1).substring(0, 20);
                    }
                    for (String original : List.of(merged + ".log", second + ".log", second + ".index")) {
                        Files.move(crashed.resolve(original), crashed.resolve(original + ".deleted"));
                    }
                    copyWithSuffix(after, crashed, mergedFiles, name -> ".swap");
                }
                default -> {
                    // Every original renamed .deleted, the merged log final, its indexes not yet.
                    copyWithSuffix(before, crashed, name -> LogLoader.parseBaseOffset(name.substring(0, 20)) >= 0
                            && LogLoader.parseBaseOffset(name.substring(0, 20)) < 2 * ROUNDS
                            && !name.contains(".deleted"), name -> ".deleted");
                    copy(before, crashed, name -> !name.startsWith("0000"));
                    copy(after, crashed, name -> name.startsWith(LogSegment.fileName(2 * ROUNDS)));
                    copyWithSuffix(after, crashed, mergedFiles, name -> mergedLog.test(name) ? "" : ".swap");
                }
            }
            try (Log log = open(crashed, false)) {
                assertEquals((int) c.getValue(), log.segmentCount(), c.getKey());
                log.updateHighWatermark(log.logEndOffset());
                checkReads(log, expected);
            }
            try (Stream<Path> files = Files.list(crashed)) {
                assertEquals(List.of(), files.map(f -> f.getFileName().toString())
                        .filter(n -> n.endsWith(".swap") || n.endsWith(".cleaned") || n.endsWith(".deleted"))
                        .toList(), c.getKey() + ": nothing of the swap is left");
            }
            try (Log log = open(crashed, true)) {
                log.updateHighWatermark(log.logEndOffset());
                log.compactNow();
                assertEquals(2, log.segmentCount(), c.getKey() + ": cleaned again, merged");
                checkReads(log, expected);
            }
        }
    }

    @Test
    void maxCompactionLagShouldForceACleaningBelowTheDirtyRatio() throws IOException {
        LogConfig config = config(Map.of("min.cleanable.dirty.ratio", "0.9", "max.compaction.lag.ms", "60000",
                "segment.bytes", "1048576"));
        try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null)) {
            for (int i = 0; i < 50; i++) {
                log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k" + i, BIG), 0, -1);
            }
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            log.compactNow();
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "k0", "newer"), 0, -1);
            log.roll();
            log.updateHighWatermark(log.logEndOffset());
            assertEquals(0, log.compact(), "one small dirty segment is far below the 0.9 dirty ratio");
            clock.addAndGet(60_001);
            assertEquals(1, log.compact(), "the dirty record waited past max.compaction.lag.ms: k0's old value goes");
            assertEquals(0, log.compact(), "nothing dirty is left");
        }
    }

    @Test
    void theActiveSegmentOfACompactedLogShouldRollAtMaxCompactionLag() throws IOException {
        LogConfig config = config(Map.of("max.compaction.lag.ms", "60000", "segment.bytes", "1048576"));
        try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, clock::get, null)) {
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "a", "1"), 0, -1);
            clock.addAndGet(30_000);
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "a", "2"), 0, -1);
            assertEquals(1, log.segmentCount(), "segment.ms (7 days) and the lag are both ahead");
            clock.addAndGet(30_001);
            log.appendAsLeader(keyed(clock.get(), Compression.NONE, "a", "3"), 0, -1);
            assertEquals(2, log.segmentCount(), "rolled at max.compaction.lag.ms, so the cleaner can reach it");
        }
    }

    static void copy(Path from, Path to, Predicate<String> names) throws IOException {
        copyWithSuffix(from, to, names, name -> "");
    }

    static void copyWithSuffix(Path from, Path to, Predicate<String> names,
            java.util.function.Function<String, String> suffix) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String name = file.getFileName().toString();
                if (names.test(name)) {
                    Files.copy(file, to.resolve(name + suffix.apply(name)), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
