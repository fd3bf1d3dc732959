package io.tandem.storage.log;

import static io.tandem.storage.log.Batches.batch;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After an unclean shutdown the leader epochs agree with the batches recovery kept (issue 12 leftovers): an epoch
 * whose records reached the log but whose checkpoint line did not is found again from the batches, and epochs whose
 * records were cut off as a torn tail are dropped, so OffsetsForLeaderEpoch answers from what the log holds.
 */
class LogEpochRecoveryTest {
    @TempDir
    Path dir;

    private static final String SEGMENT = "00000000000000000000.log";
    /** The batches written: {record count, leader epoch}. */
    private static final int[][] BATCHES = {{3, 0}, {2, 0}, {3, 2}, {1, 2}, {3, 5}, {2, 7}};

    @Test
    void shouldRebuildEpochsFromTheBatchesKeptWhenTheLogIsCutAnywhereAndTheCheckpointIsBehindOrAhead()
            throws IOException {
        Path source = dir.resolve("source");
        List<Integer> batchEnds = new ArrayList<>();
        List<String> behind;
        try (Log log = Log.open(source, LogConfig.defaults(), Log.Checkpoint.NONE, false, () -> 1000L, null)) {
            for (int[] b : BATCHES) {
                log.appendAsLeader(batch(b[0], 1000), b[1], -1);
                batchEnds.add((int) log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true).length());
            }
            behind = List.of("0", "1", "0 0");
        }
        List<String> ahead = Files.readAllLines(source.resolve(LeaderEpochCache.FILE_NAME));
        assertEquals(List.of("0", "4", "0 0", "2 5", "5 9", "7 12"), ahead);
        byte[] whole = Files.readAllBytes(source.resolve(SEGMENT));

        List<Integer> cuts = new ArrayList<>();
        for (int i = 1; i < batchEnds.size(); i++) {
            int from = batchEnds.get(i - 1);
            int to = batchEnds.get(i);
            cuts.addAll(List.of(from, from + 1, (from + to) / 2, to - 1));
        }
        cuts.add(whole.length);
        for (int cut : cuts) {
            for (List<String> checkpoint : List.of(behind, ahead)) {
                Path trial = dir.resolve("cut" + cut + "-" + checkpoint.size());
                crashCopy(source, trial, Arrays.copyOf(whole, cut), checkpoint);
                Map<Integer, Long> expected = epochsOfWholeBatches(batchEnds, cut);
                try (Log log = Log.open(trial, LogConfig.defaults(), Log.Checkpoint.NONE, false, () -> 2000L,
                        null)) {
                    String what = "cut at byte " + cut + ", checkpoint " + checkpoint;
                    assertEquals(expected, log.leaderEpochs().entries(), what);
                    List<String> lines = new ArrayList<>(List.of("0", Integer.toString(expected.size())));
                    new TreeMap<>(expected).forEach((epoch, start) -> lines.add(epoch + " " + start));
                    assertEquals(lines, Files.readAllLines(trial.resolve(LeaderEpochCache.FILE_NAME)),
                            what + ": the checkpoint on disk says the same");
                }
            }
        }
    }

    @Test
    void offsetsForLeaderEpochShouldAnswerFromTheRecoveredBatchesAfterACrashBeforeTheCheckpointWrite()
            throws IOException {
        Log crashed = Log.open(dir, LogConfig.defaults(), Log.Checkpoint.NONE, false, () -> 1000L, null);
        crashed.appendAsLeader(batch(3, 1000), 0, -1);
        crashed.appendAsLeader(batch(2, 1000), 1, -1);
        // The process dies after the append reached the segment file and before the checkpoint naming epoch 3 was
        // written: the records are in the page cache, the checkpoint still ends at epoch 1.
        crashed.leaderEpochs().beforeWrite(() -> {
            throw new UncheckedIOException(new IOException("killed before the checkpoint write"));
        });
        assertThrows(UncheckedIOException.class, () -> crashed.appendAsLeader(batch(4, 1000), 3, -1));
        assertEquals(List.of("0", "2", "0 0", "1 3"), Files.readAllLines(dir.resolve(LeaderEpochCache.FILE_NAME)));
        // And the write of a later batch was torn: half of it reached the file.
        try (var channel = java.nio.channels.FileChannel.open(dir.resolve(SEGMENT),
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND)) {
            var next = batch(2, 1000);
            byte[] half = new byte[next.readableBytes() / 2];
            next.getBytes(next.readerIndex(), half);
            channel.write(java.nio.ByteBuffer.wrap(half));
        }

        try (Log log = Log.open(dir, LogConfig.defaults(), new Log.Checkpoint(3, 0, 0), false, () -> 2000L, null)) {
            assertEquals(9, log.logEndOffset(), "the torn batch is cut off");
            LeaderEpochCache epochs = log.leaderEpochs();
            assertEquals(Map.of(0, 0L, 1, 3L, 3, 5L), epochs.entries());
            assertArrayEquals(new long[] {0, 3}, epochs.endOffsetFor(0, log.logEndOffset()));
            assertArrayEquals(new long[] {1, 5}, epochs.endOffsetFor(1, log.logEndOffset()),
                    "epoch 1 ends where the recovered epoch 3 starts, not at the log end");
            assertArrayEquals(new long[] {1, 5}, epochs.endOffsetFor(2, log.logEndOffset()));
            assertArrayEquals(new long[] {3, 9}, epochs.endOffsetFor(3, log.logEndOffset()));
            assertArrayEquals(new long[] {-1, -1}, epochs.endOffsetFor(4, log.logEndOffset()));
            assertEquals(List.of("0", "3", "0 0", "1 3", "3 5"),
                    Files.readAllLines(dir.resolve(LeaderEpochCache.FILE_NAME)), "and the checkpoint names it");
        }
        crashed.leaderEpochs().beforeWrite(() -> { });
    }

    /** The directory a crash leaves: the segment cut to {@code segment}, the checkpoint as {@code checkpoint}. */
    private static void crashCopy(Path source, Path trial, byte[] segment, List<String> checkpoint)
            throws IOException {
        Files.createDirectories(trial);
        try (var files = Files.list(source)) {
            for (Path file : files.toList()) {
                Files.copy(file, trial.resolve(file.getFileName()));
            }
        }
        Files.write(trial.resolve(SEGMENT), segment);
        Files.write(trial.resolve(LeaderEpochCache.FILE_NAME), checkpoint);
    }

    /** Each epoch of the batches wholly below {@code cut} with the base offset of its first batch. */
    private static Map<Integer, Long> epochsOfWholeBatches(List<Integer> batchEnds, int cut) {
        Map<Integer, Long> epochs = new TreeMap<>();
        long offset = 0;
        for (int i = 0; i < BATCHES.length && batchEnds.get(i) <= cut; i++) {
            epochs.putIfAbsent(BATCHES[i][1], offset);
            offset += BATCHES[i][0];
        }
        return epochs;
    }
}
