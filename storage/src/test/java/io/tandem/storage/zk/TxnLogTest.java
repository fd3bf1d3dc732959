package io.tandem.storage.zk;

import static io.tandem.storage.zk.TxnLogs.appendRange;
import static io.tandem.storage.zk.TxnLogs.appendSyncedRange;
import static io.tandem.storage.zk.TxnLogs.listFiles;
import static io.tandem.storage.zk.TxnLogs.payload;
import static io.tandem.storage.zk.TxnLogs.range;
import static io.tandem.storage.zk.TxnLogs.replay;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TxnLogTest {
    @TempDir
    Path dir;

    @Test
    void emptyLogHasLastZxidZeroAndReplaysNothing() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(0, log.lastZxid());
            assertEquals(List.of(), replay(log, 0));
        }
    }

    @Test
    void shouldReplaySyncedEntriesInOrderAfterReopen() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 100);
            log.sync();
            assertEquals(100, log.lastSyncedZxid());
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(100, log.lastZxid());
            assertEquals(range(1, 100), replay(log, 0));
            assertEquals(range(43, 100), replay(log, 42));
            assertEquals(List.of(), replay(log, 100));
        }
    }

    @Test
    void shouldLogOnlyTheGivenSliceOfAReusedArray() throws IOException {
        // One array reused for every record, as the log syncer serializes into one buffer: each record is the slice
        // given (the bytes around it and what the array holds later never reach the log). The last record is larger
        // than the write buffer, so it goes to the file directly.
        byte[] shared = new byte[200 << 10];
        try (TxnLog log = TxnLog.open(dir)) {
            for (long z = 1; z <= 50; z++) {
                java.util.Arrays.fill(shared, (byte) 0x5A);
                byte[] txn = payload(z);
                System.arraycopy(txn, 0, shared, 7, txn.length);
                log.append(z, shared, 7, txn.length);
            }
            java.util.Arrays.fill(shared, (byte) 0x33);
            log.append(51, shared, 1, shared.length - 2);
            java.util.Arrays.fill(shared, (byte) 0x44);
            log.sync();
            assertThrows(IndexOutOfBoundsException.class, () -> log.append(52, shared, shared.length - 1, 2));
        }
        try (TxnLog log = TxnLog.open(dir)) {
            List<Long> zxids = new ArrayList<>();
            log.forEach(0, (zxid, txn) -> {
                if (zxid == 51) {
                    byte[] expected = new byte[shared.length - 2];
                    java.util.Arrays.fill(expected, (byte) 0x33);
                    assertArrayEquals(expected, txn);
                } else {
                    assertArrayEquals(payload(zxid), txn, "payload of zxid " + zxid);
                }
                zxids.add(zxid);
            });
            assertEquals(range(1, 51), zxids);
        }
    }

    @Test
    void shouldReplayAppendedButUnsyncedEntries() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 10);
            assertEquals(range(1, 10), replay(log, 0));
            assertEquals(0, log.lastSyncedZxid());
        }
    }

    @Test
    void shouldRejectZxidThatDoesNotIncrease() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            log.append(5, payload(5));
            assertThrows(IllegalArgumentException.class, () -> log.append(5, payload(5)));
            assertThrows(IllegalArgumentException.class, () -> log.append(4, payload(4)));
            assertThrows(IllegalArgumentException.class, () -> TxnLog.open(dir.resolve("x")).append(0, new byte[0]));
        }
    }

    @Test
    void reopenShouldContinueZxidsAndRejectOlderOnes() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 20);
            log.sync();
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertThrows(IllegalArgumentException.class, () -> log.append(20, payload(20)));
            appendRange(log, 21, 30);
            log.sync();
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(30, log.lastZxid());
            assertEquals(range(1, 30), replay(log, 0));
            assertEquals(0, log.truncatedTailBytes());
        }
    }

    @Test
    void shouldRollFilesBySizeAndNameThemByFirstZxid() throws IOException {
        try (TxnLog log = TxnLog.open(dir, 256)) {
            // A file rolls at the first sync that finds it full (a server syncs every group it appends).
            for (long zxid = 1; zxid <= 60; zxid++) {
                log.append(zxid, payload(zxid));
                log.sync();
            }
            List<Path> files = log.files();
            assertTrue(files.size() > 3, "expected several files, got " + files);
            assertEquals("log.0000000000000001", files.get(0).getFileName().toString());
        }
        // Measured once closed: the file being written is preallocated ahead of its records until then.
        for (Path file : listFiles(dir)) {
            assertTrue(Files.size(file) <= 256 + 16 + 40, file + " exceeds roll size by more than one record");
        }
        try (TxnLog log = TxnLog.open(dir, 256)) {
            List<Path> files = log.files();
            for (Path file : files) {
                long first = LogFileFormat.parseFileName(file.getFileName().toString());
                List<Long> inFile = new ArrayList<>();
                try (FileChannel channel = FileChannel.open(file)) {
                    LogFileFormat.scan(channel, channel.size(), 0, 0, Long.MAX_VALUE, (z, t) -> inFile.add(z));
                }
                assertEquals(first, inFile.get(0));
            }
            assertEquals(range(1, 60), replay(log, 0));
            long secondFileStart = LogFileFormat.parseFileName(files.get(1).getFileName().toString());
            assertEquals(range(secondFileStart + 2, 60), replay(log, secondFileStart + 1));
            assertEquals(range(secondFileStart, 60), replay(log, secondFileStart - 1));
        }
    }

    @Test
    void shouldNeverRollOrFsyncInAppendAndStartTheNextFileOnlyAfterTheFullOneIsSynced() throws IOException {
        try (TxnLog log = TxnLog.open(dir, 256)) {
            // Far past the roll size without a sync: appends only buffer and write, they never roll (a roll used to
            // fsync the full file inline, on the thread that answers clients).
            appendRange(log, 1, 40);
            assertEquals(1, log.files().size());
            assertEquals(0, log.lastSyncedZxid());
            // The sync forces the full file and closes it; what is appended next starts the next file.
            log.sync();
            assertEquals(40, log.lastSyncedZxid());
            appendRange(log, 41, 45);
            assertEquals(2, log.files().size());
            assertEquals("log.0000000000000029", log.files().get(1).getFileName().toString());
            log.sync();
            assertEquals(range(1, 45), replay(log, 0));
        }
        try (TxnLog log = TxnLog.open(dir, 256)) {
            assertEquals(45, log.lastZxid());
            assertEquals(range(1, 45), replay(log, 0));
        }
    }

    @Test
    void shouldHoldAppendsMadeDuringTheRollingSyncForTheNextFile() throws Exception {
        java.util.concurrent.atomic.AtomicLong last = new java.util.concurrent.atomic.AtomicLong(20);
        try (TxnLog log = TxnLog.open(dir, 256)) {
            appendRange(log, 1, 20);
            // Appends racing with the syncs that roll: every record lands in exactly one file, in order. The
            // appender goes on past 3,000 until the syncs have rolled a few times, however the threads are scheduled.
            java.util.concurrent.atomic.AtomicBoolean rolledEnough = new java.util.concurrent.atomic.AtomicBoolean();
            Thread appender = new Thread(() -> {
                try {
                    for (long zxid = 21; zxid <= 3_000 || (!rolledEnough.get() && zxid <= 200_000); zxid++) {
                        log.append(zxid, payload(zxid));
                        last.set(zxid);
                        if (zxid % 10 == 0) {
                            java.util.concurrent.locks.LockSupport.parkNanos(100_000); // let syncs interleave
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            appender.start();
            while (appender.isAlive()) {
                log.sync();
                if (log.files().size() > 3) rolledEnough.set(true);
            }
            appender.join();
            log.sync();
            assertTrue(log.files().size() > 3, "expected several files, got " + log.files());
            assertEquals(range(1, last.get()), replay(log, 0));
        }
        try (TxnLog log = TxnLog.open(dir, 256)) {
            assertEquals(range(1, last.get()), replay(log, 0));
            assertEquals(0, log.truncatedTailBytes());
        }
    }

    @Test
    void truncateAfterShouldDropLaterEntriesDurablyAcrossFiles() throws IOException {
        try (TxnLog log = TxnLog.open(dir, 200)) {
            appendSyncedRange(log, 1, 50);
            int filesBefore = log.files().size();
            log.truncateAfter(17);
            assertEquals(17, log.lastZxid());
            assertTrue(log.files().size() < filesBefore);
            assertEquals(range(1, 17), replay(log, 0));
            assertThrows(IllegalArgumentException.class, () -> log.append(17, payload(17)));
            appendRange(log, 18, 25);
            log.sync();
        }
        try (TxnLog log = TxnLog.open(dir, 200)) {
            assertEquals(25, log.lastZxid());
            assertEquals(range(1, 25), replay(log, 0));
            log.truncateAfter(25);
            assertEquals(25, log.lastZxid());
            log.truncateAfter(0);
            assertEquals(0, log.lastZxid());
            assertEquals(List.of(), replay(log, 0));
        }
        try (TxnLog log = TxnLog.open(dir, 200)) {
            assertEquals(0, log.lastZxid());
            appendRange(log, 1, 3);
            log.sync();
            assertEquals(range(1, 3), replay(log, 0));
        }
    }

    @Test
    void truncateAfterShouldAlsoDropUnsyncedAppends() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 10);
            log.sync();
            appendRange(log, 11, 15);
            log.truncateAfter(12);
            assertEquals(range(1, 12), replay(log, 0));
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(12, log.lastZxid());
        }
    }

    @Test
    void truncateAfterSupportsGapsBetweenEpochs() throws IOException {
        long epoch1 = 1L << 32;
        long epoch2 = 2L << 32;
        try (TxnLog log = TxnLog.open(dir)) {
            log.append(epoch1 | 1, new byte[] {1});
            log.append(epoch1 | 2, new byte[] {2});
            log.append(epoch2 | 1, new byte[] {3});
            log.sync();
            log.truncateAfter(epoch1 | 5);
            assertEquals(epoch1 | 2, log.lastZxid());
        }
    }

    @Test
    void purgeBeforeShouldDeleteOnlyFilesWhollyBelowTheZxid() throws IOException {
        try (TxnLog log = TxnLog.open(dir, 200)) {
            appendSyncedRange(log, 1, 80);
            List<Path> files = log.files();
            long thirdStart = LogFileFormat.parseFileName(files.get(2).getFileName().toString());
            log.purgeBefore(thirdStart);
            assertEquals(files.subList(2, files.size()), log.files());
            assertEquals(thirdStart, log.firstZxid());
            assertEquals(range(thirdStart, 80), replay(log, 0));
            // A zxid inside the (new) second file keeps the first file, which still holds zxids at or above it.
            List<Path> now = log.files();
            long secondStart = LogFileFormat.parseFileName(now.get(1).getFileName().toString());
            log.purgeBefore(secondStart - 1);
            assertEquals(now, log.files());
            log.purgeBefore(Long.MAX_VALUE);
            assertEquals(1, log.files().size(), "the newest file always stays");
            assertEquals(80, log.lastZxid());
        }
        try (TxnLog log = TxnLog.open(dir, 200)) {
            assertEquals(80, log.lastZxid());
            appendRange(log, 81, 82);
        }
    }

    @Test
    void shouldKeepAllEntriesWhenAppendsAndSyncsRunConcurrently() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // A flag, not Thread.interrupt(): interrupting a thread inside FileChannel.force closes the channel by design.
        AtomicBoolean appending = new AtomicBoolean(true);
        try (TxnLog log = TxnLog.open(dir, 4096)) {
            Thread syncer = new Thread(() -> {
                try {
                    while (appending.get()) {
                        log.sync();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            syncer.start();
            appendRange(log, 1, 3000);
            appending.set(false);
            syncer.join();
            log.sync();
            assertEquals(3000, log.lastSyncedZxid());
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        try (TxnLog log = TxnLog.open(dir, 4096)) {
            assertEquals(range(1, 3000), replay(log, 0));
        }
    }

    @Test
    void anInterruptedSyncingThreadShouldNotBreakTheLog() throws Exception {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 50);
            Thread.currentThread().interrupt();
            try {
                log.sync(); // an interruptible FileChannel would be closed for everyone here
                assertTrue(Thread.currentThread().isInterrupted(), "the caller's interrupt status must survive");
            } finally {
                Thread.interrupted();
            }
            appendRange(log, 51, 60);
            log.sync();
            assertEquals(60, log.lastSyncedZxid());
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(range(1, 60), replay(log, 0));
        }
    }

    @Test
    void shouldStoreLargeTransactionsThatExceedTheWriteBuffer() throws IOException {
        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        try (TxnLog log = TxnLog.open(dir)) {
            log.append(1, "small".getBytes(StandardCharsets.UTF_8));
            log.append(2, big);
            log.append(3, new byte[0]);
            log.sync();
        }
        List<byte[]> seen = new ArrayList<>();
        try (TxnLog log = TxnLog.open(dir)) {
            log.forEach(0, (z, t) -> seen.add(t));
        }
        assertEquals(3, seen.size());
        assertArrayEquals(big, seen.get(1));
        assertEquals(0, seen.get(2).length);
    }
}
