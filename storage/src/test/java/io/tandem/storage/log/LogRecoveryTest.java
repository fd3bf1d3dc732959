package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static io.tandem.storage.log.Batches.offsets;
import static io.tandem.storage.log.Batches.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Opening a log again (after a clean shutdown, after torn or corrupt tails) and the recovery point flushes move. */
class LogRecoveryTest extends LogTestSupport {
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
}
