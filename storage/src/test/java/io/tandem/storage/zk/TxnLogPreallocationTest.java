package io.tandem.storage.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preallocation of the transaction log as Apache's FilePadding: the file grows in whole blocks ahead of the records,
 * and recovery tells the zero tail from a torn write and from corruption.
 */
class TxnLogPreallocationTest {
    private static final long BLOCK = 64 << 10;
    private static final long ROLL = 1 << 20;

    @TempDir
    Path dir;

    private static byte[] payload(long zxid) {
        byte[] txn = new byte[100 + (int) (zxid % 50)];
        for (int i = 0; i < txn.length; i++) {
            txn[i] = (byte) (zxid * 31 + i);
        }
        return txn;
    }

    private static int recordBytes(long zxid) {
        return LogFileFormat.RECORD_HEADER_BYTES + payload(zxid).length;
    }

    private List<Long> replay(TxnLog log) throws IOException {
        List<Long> zxids = new ArrayList<>();
        log.forEach(0, (zxid, txn) -> {
            assertArrayEquals(payload(zxid), txn, "payload of zxid " + zxid);
            zxids.add(zxid);
        });
        return zxids;
    }

    private static List<Long> range(long first, long last) {
        List<Long> zxids = new ArrayList<>();
        for (long zxid = first; zxid <= last; zxid++) {
            zxids.add(zxid);
        }
        return zxids;
    }

    @Test
    void shouldGrowTheFileInWholeBlocksNotWithEveryAppend() throws IOException {
        try (TxnLog log = TxnLog.open(dir, ROLL, BLOCK)) {
            log.append(1, payload(1));
            log.sync();
            Path file = log.files().get(0);
            assertEquals(BLOCK, Files.size(file), "the first block is allocated with the first record");
            long written = LogFileFormat.FILE_HEADER_BYTES + recordBytes(1);
            long zxid = 1;
            // Up to the margin before the block's end, the size does not move.
            while (written + recordBytes(zxid + 1) + 4096 < BLOCK) {
                zxid++;
                log.append(zxid, payload(zxid));
                log.sync();
                written += recordBytes(zxid);
                assertEquals(BLOCK, Files.size(file), "after zxid " + zxid);
            }
            zxid++;
            log.append(zxid, payload(zxid));
            log.sync();
            assertEquals(2 * BLOCK, Files.size(file), "a write within 4 KiB of the end adds a block");
            assertEquals(range(1, zxid), replay(log));
        }
    }

    @Test
    void shouldReopenAPreallocatedLogWithoutCuttingAnythingAndAppendOverItsZeroTail() throws IOException {
        Path file;
        try (TxnLog log = TxnLog.open(dir, ROLL, BLOCK)) {
            for (long zxid = 1; zxid <= 20; zxid++) {
                log.append(zxid, payload(zxid));
            }
            log.sync();
            file = log.files().get(0);
        }
        // A clean close cuts the file back to its records.
        long records = Files.size(file);
        assertTrue(records < BLOCK, "closed file keeps its padding: " + records);
        try (TxnLog log = TxnLog.open(dir, ROLL, BLOCK)) {
            assertEquals(0, log.truncatedTailBytes());
            assertEquals(20, log.lastZxid());
            log.append(21, payload(21));
            log.sync();
            assertEquals(BLOCK, Files.size(file));
            assertEquals(range(1, 21), replay(log));
        }
    }

    @Test
    void shouldRecoverEveryAcknowledgedTxnAfterACrashMidWriteIntoThePreallocatedTail() throws IOException {
        // The process dies (no close, so the padding stays) while the record after the last acknowledged one is only
        // partly on disk; the rest of the block is still zeros.
        TxnLog log = TxnLog.open(dir, ROLL, BLOCK);
        for (long zxid = 1; zxid <= 30; zxid++) {
            log.append(zxid, payload(zxid));
            log.sync(); // acknowledged from here on
        }
        Path file = log.files().get(0);
        long end = Files.size(file);
        assertEquals(BLOCK, end);
        long recordsEnd = LogFileFormat.FILE_HEADER_BYTES;
        for (long zxid = 1; zxid <= 30; zxid++) {
            recordsEnd += recordBytes(zxid);
        }
        try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] txn = payload(31);
            ByteBuffer torn = ByteBuffer.allocate(LogFileFormat.RECORD_HEADER_BYTES + txn.length / 2);
            torn.putInt(txn.length).putInt(LogFileFormat.crc(txn.length, 31, txn, 0)).putLong(31)
                    .put(txn, 0, txn.length / 2);
            raw.seek(recordsEnd);
            raw.write(torn.array());
        }
        // The crash: the old handle is abandoned, not closed (closing would trim the padding).
        try (TxnLog reopened = TxnLog.open(dir, ROLL, BLOCK)) {
            assertEquals(30, reopened.lastZxid());
            assertEquals(range(1, 30), replay(reopened));
            assertTrue(reopened.truncatedTailBytes() > 0, "the torn record is cut off");
            reopened.append(31, payload(31));
            reopened.sync();
        }
        try (TxnLog again = TxnLog.open(dir, ROLL, BLOCK)) {
            assertEquals(0, again.truncatedTailBytes());
            assertEquals(range(1, 31), replay(again));
        }
    }

    @Test
    void shouldKeepAnUntornZeroTailAsPaddingAfterACrash() throws IOException {
        TxnLog log = TxnLog.open(dir, ROLL, BLOCK);
        for (long zxid = 1; zxid <= 10; zxid++) {
            log.append(zxid, payload(zxid));
        }
        log.sync();
        Path file = log.files().get(0);
        // Crashed without closing: the zero tail is preallocation, not damage; nothing is cut.
        try (TxnLog reopened = TxnLog.open(dir, ROLL, BLOCK)) {
            assertEquals(0, reopened.truncatedTailBytes());
            assertEquals(BLOCK, Files.size(file));
            assertEquals(range(1, 10), replay(reopened));
        }
    }

    @Test
    void shouldRefuseRecordsFoundAfterAZeroedHeaderInTheMiddle() throws IOException {
        // A zeroed record header followed by valid records is damage, not padding: dropping what follows could lose
        // acknowledged transactions.
        TxnLog log = TxnLog.open(dir, ROLL, BLOCK);
        for (long zxid = 1; zxid <= 10; zxid++) {
            log.append(zxid, payload(zxid));
        }
        log.sync();
        Path file = log.files().get(0);
        long fifth = LogFileFormat.FILE_HEADER_BYTES;
        for (long zxid = 1; zxid <= 4; zxid++) {
            fifth += recordBytes(zxid);
        }
        try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
            raw.seek(fifth);
            raw.write(new byte[LogFileFormat.RECORD_HEADER_BYTES]);
        }
        assertThrows(CorruptLogException.class, () -> TxnLog.open(dir, ROLL, BLOCK));
    }

    @Test
    void shouldCutARolledFileBackToItsRecordsAndReplayAcrossFiles() throws IOException {
        long last = 0;
        try (TxnLog log = TxnLog.open(dir, 32 << 10, BLOCK)) {
            while (log.files().size() < 3) {
                last++;
                log.append(last, payload(last));
                log.sync();
            }
            List<Path> files = log.files();
            for (Path rolled : files.subList(0, files.size() - 1)) {
                assertTrue(Files.size(rolled) < BLOCK, rolled + " keeps its padding");
            }
            assertEquals(BLOCK, Files.size(files.get(files.size() - 1)));
        }
        try (TxnLog log = TxnLog.open(dir, 32 << 10, BLOCK)) {
            assertEquals(range(1, last), replay(log));
        }
    }

    @Test
    void shouldRemoveAPreallocatedFileWhoseHeaderNeverReachedTheDisk() throws IOException {
        try (TxnLog log = TxnLog.open(dir, ROLL, BLOCK)) {
            log.append(1, payload(1));
            log.sync();
        }
        // The next file was created and preallocated, but nothing of it reached the disk: all zeros, 64 KiB long.
        Path blank = dir.resolve(LogFileFormat.fileName(2));
        try (RandomAccessFile raw = new RandomAccessFile(blank.toFile(), "rw")) {
            raw.setLength(BLOCK);
        }
        try (TxnLog log = TxnLog.open(dir, ROLL, BLOCK)) {
            assertEquals(1, log.lastZxid());
            assertTrue(Files.notExists(blank));
        }
    }

    @Test
    void shouldReadTheBlockSizeFromApachesPropertyInKibibytes() {
        String before = System.getProperty(TxnLog.PREALLOC_PROPERTY);
        try {
            System.clearProperty(TxnLog.PREALLOC_PROPERTY);
            assertEquals(64L << 20, TxnLog.configuredPreAllocBytes());
            System.setProperty(TxnLog.PREALLOC_PROPERTY, "128");
            assertEquals(128L << 10, TxnLog.configuredPreAllocBytes());
            System.setProperty(TxnLog.PREALLOC_PROPERTY, "0");
            assertEquals(0, TxnLog.configuredPreAllocBytes());
            System.setProperty(TxnLog.PREALLOC_PROPERTY, "lots");
            assertThrows(IllegalArgumentException.class, TxnLog::configuredPreAllocBytes);
        } finally {
            if (before == null) {
                System.clearProperty(TxnLog.PREALLOC_PROPERTY);
            } else {
                System.setProperty(TxnLog.PREALLOC_PROPERTY, before);
            }
        }
    }

    @Test
    void shouldNotPadWhenPreallocationIsOff() throws IOException {
        try (TxnLog log = TxnLog.open(dir, ROLL, 0)) {
            log.append(1, payload(1));
            log.sync();
            assertEquals(LogFileFormat.FILE_HEADER_BYTES + recordBytes(1), Files.size(log.files().get(0)));
        }
    }
}
