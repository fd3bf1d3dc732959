package io.tandem.storage.zk;

import static io.tandem.storage.zk.TxnLogs.appendRange;
import static io.tandem.storage.zk.TxnLogs.appendSyncedRange;
import static io.tandem.storage.zk.TxnLogs.listFiles;
import static io.tandem.storage.zk.TxnLogs.payload;
import static io.tandem.storage.zk.TxnLogs.range;
import static io.tandem.storage.zk.TxnLogs.recordStart;
import static io.tandem.storage.zk.TxnLogs.replay;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening a damaged log, as {@link TxnLogRecovery} scans it: a torn tail of the last file is cut off, a zero tail is
 * kept as preallocation, and damage anywhere else is refused rather than guessed around.
 */
class TxnLogRecoveryTest {
    @TempDir
    Path dir;

    @Test
    void shouldRecoverFromEveryTornTailOfTheLastRecords() throws IOException {
        Path source = dir.resolve("source");
        List<Long> endOfRecord = new ArrayList<>();
        try (TxnLog log = TxnLog.open(source)) {
            for (long z = 1; z <= 12; z++) {
                log.append(z, payload(z));
                log.sync();
                endOfRecord.add(Files.size(log.files().get(0)));
            }
        }
        Path file = source.resolve(LogFileFormat.fileName(1));
        byte[] whole = Files.readAllBytes(file);
        long cutFrom = endOfRecord.get(8); // every offset within the last three records
        for (int cut = (int) cutFrom; cut < whole.length; cut++) {
            Path trial = dir.resolve("cut" + cut);
            Files.createDirectories(trial);
            Files.write(trial.resolve(file.getFileName()), java.util.Arrays.copyOf(whole, cut));
            long expectedLast = 0;
            for (int i = 0; i < endOfRecord.size(); i++) {
                if (endOfRecord.get(i) <= cut) {
                    expectedLast = i + 1;
                }
            }
            try (TxnLog log = TxnLog.open(trial)) {
                assertEquals(expectedLast, log.lastZxid(), "cut at " + cut);
                assertEquals(range(1, expectedLast), replay(log, 0), "cut at " + cut);
                assertEquals(cut - endOfRecord.get((int) expectedLast - 1), log.truncatedTailBytes());
                appendRange(log, expectedLast + 1, expectedLast + 2);
                log.sync();
            }
            try (TxnLog log = TxnLog.open(trial)) {
                assertEquals(0, log.truncatedTailBytes(), "reopen after recovery at cut " + cut);
                assertEquals(range(1, expectedLast + 2), replay(log, 0));
            }
        }
    }

    @Test
    void shouldRemoveLastFileWhoseHeaderIsTornAndKeepThePreviousOne() throws IOException {
        try (TxnLog log = TxnLog.open(dir, 128)) {
            appendRange(log, 1, 30);
            log.sync();
        }
        List<Path> files = listFiles(dir);
        Path last = files.get(files.size() - 1);
        long lastStart = LogFileFormat.parseFileName(last.getFileName().toString());
        for (int cut = 0; cut <= LogFileFormat.FILE_HEADER_BYTES + 3; cut++) {
            byte[] bytes = Files.readAllBytes(last);
            Path trial = dir.resolve("trial" + cut);
            Files.createDirectories(trial);
            for (Path f : files) {
                Files.copy(f, trial.resolve(f.getFileName()));
            }
            Files.write(trial.resolve(last.getFileName()), java.util.Arrays.copyOf(bytes, cut));
            try (TxnLog log = TxnLog.open(trial, 128)) {
                assertEquals(lastStart - 1, log.lastZxid(), "cut at " + cut);
                assertEquals(range(1, lastStart - 1), replay(log, 0));
                assertEquals(files.size() - 1, log.files().size());
            }
        }
    }

    @Test
    void shouldKeepAZeroFilledTailLeftByUnwrittenPagesAsPreallocationAndWriteOverIt() throws IOException {
        // A zero tail is what preallocation leaves (zookeeper.preAllocSize): nothing is torn, nothing is cut, and the
        // next record goes where the records end.
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 10);
            log.sync();
        }
        Path file = listFiles(dir).get(0);
        long size = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(4096), size);
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(10, log.lastZxid());
            assertEquals(0, log.truncatedTailBytes());
            appendRange(log, 11, 12);
            log.sync();
        }
        try (TxnLog log = TxnLog.open(dir)) {
            assertEquals(range(1, 12), replay(log, 0));
            assertEquals(0, log.truncatedTailBytes());
        }
    }

    @Test
    void shouldTreatEveryDamagedByteOfTheLastRecordAsTornTail() throws IOException {
        try (TxnLog log = TxnLog.open(dir.resolve("source"))) {
            appendRange(log, 1, 9);
            log.sync();
        }
        Path file = dir.resolve("source").resolve(LogFileFormat.fileName(1));
        byte[] whole = Files.readAllBytes(file);
        int lastRecordStart = whole.length - LogFileFormat.RECORD_HEADER_BYTES - payload(9).length;
        for (int at = lastRecordStart; at < whole.length; at++) {
            byte[] damaged = whole.clone();
            damaged[at] ^= 0x5A;
            Path trial = dir.resolve("flip" + at);
            Files.createDirectories(trial);
            Files.write(trial.resolve(file.getFileName()), damaged);
            try (TxnLog log = TxnLog.open(trial)) {
                assertEquals(8, log.lastZxid(), "flip at " + at);
                assertEquals(range(1, 8), replay(log, 0));
            }
        }
    }

    @Test
    void shouldRefuseCorruptionInTheMiddleOfTheLastFile() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 20);
            log.sync();
        }
        Path file = listFiles(dir).get(0);
        byte[] bytes = Files.readAllBytes(file);
        long position = recordStart(file, 10);
        bytes[(int) position + LogFileFormat.RECORD_HEADER_BYTES] ^= 1; // first payload byte of zxid 10
        Files.write(file, bytes);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> TxnLog.open(dir));
        assertEquals(position, e.position());
        assertEquals(file, e.file());
        assertEquals(bytes.length, Files.size(file), "a refused log must not be modified");
    }

    @Test
    void shouldRefuseDamagedLengthFieldInTheMiddle() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 20);
            log.sync();
        }
        Path file = listFiles(dir).get(0);
        byte[] bytes = Files.readAllBytes(file);
        long position = recordStart(file, 5);
        bytes[(int) position] = 0x7F; // length becomes implausibly large
        Files.write(file, bytes);
        assertThrows(CorruptLogException.class, () -> TxnLog.open(dir));
    }

    @Test
    void shouldRefuseCorruptionInAnEarlierFileEvenAtItsEnd() throws IOException {
        try (TxnLog log = TxnLog.open(dir, 200)) {
            appendSyncedRange(log, 1, 40);
        }
        Path first = listFiles(dir).get(0);
        byte[] bytes = Files.readAllBytes(first);
        bytes[bytes.length - 1] ^= 1;
        Files.write(first, bytes);
        assertThrows(CorruptLogException.class, () -> TxnLog.open(dir, 200));
        Files.write(first, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertThrows(CorruptLogException.class, () -> TxnLog.open(dir, 200));
    }

    @Test
    void forEachShouldDetectCorruptionAppearingAfterOpen() throws IOException {
        try (TxnLog log = TxnLog.open(dir)) {
            appendRange(log, 1, 20);
            log.sync();
            Path file = listFiles(dir).get(0);
            long position = recordStart(file, 3);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap(new byte[] {(byte) 0xFF}), position + 5);
            }
            assertThrows(CorruptLogException.class, () -> log.forEach(0, (z, t) -> { }));
        }
    }
}
