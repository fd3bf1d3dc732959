package io.tandem.storage.zk.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.Adler32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApacheTxnLogReaderTest {
    private static final int PREALLOCATED_ZEROS = 64;

    @TempDir
    Path dir;

    @Test
    void shouldVisitEveryEntryInOrderAndStopAtTheZeroFill() throws IOException {
        List<byte[]> entries = List.of(new byte[] {1}, new byte[] {2, 2}, new byte[300]);
        writeLog("log.1", entries, PREALLOCATED_ZEROS);
        List<byte[]> seen = readAll(0);
        assertEquals(entries.size(), seen.size());
        for (int i = 0; i < entries.size(); i++) {
            assertArrayEquals(entries.get(i), seen.get(i));
        }
    }

    @Test
    void shouldTreatAnEntryCutShortAtAnyByteAsTheEndOfTheFile() throws IOException {
        List<byte[]> entries = List.of(new byte[] {1, 1, 1}, new byte[] {2, 2, 2, 2});
        byte[] whole = logBytes(entries, 0);
        int lastEntryStart = whole.length - (8 + 4 + 4 + 1);
        for (int cut = lastEntryStart; cut < whole.length; cut++) {
            Files.write(versionDir().resolve("log.1"), Arrays.copyOf(whole, cut));
            assertEquals(1, readAll(0).size(), "cut at byte " + cut);
        }
        byte[] noEndMarker = whole.clone();
        noEndMarker[whole.length - 1] = 0;
        Files.write(versionDir().resolve("log.1"), noEndMarker);
        assertEquals(1, readAll(0).size(), "an entry without its 'B' is a partial write");
    }

    @Test
    void shouldFailOnAChecksumMismatch() throws IOException {
        byte[] bytes = logBytes(List.of(new byte[] {1, 2, 3}, new byte[] {4, 5, 6}), PREALLOCATED_ZEROS);
        bytes[16 + 8 + 4 + 1] ^= 0x10; // inside the first entry's txn bytes
        Files.write(versionDir().resolve("log.1"), bytes);
        IOException e = assertThrows(IOException.class, () -> readAll(0));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    @Test
    void shouldReadTheNewestFileAtOrBelowTheSnapshotAndEveryLaterOne() {
        TreeMap<Long, Path> logs = new TreeMap<>();
        for (long start : new long[] {1, 5, 9}) {
            logs.put(start, Path.of("log." + Long.toHexString(start)));
        }
        assertEquals(List.of(Path.of("log.5"), Path.of("log.9")), ApacheTxnLogReader.filesAfter(logs, 6));
        assertEquals(List.of(Path.of("log.5"), Path.of("log.9")), ApacheTxnLogReader.filesAfter(logs, 5));
        assertEquals(List.of(Path.of("log.1"), Path.of("log.5"), Path.of("log.9")),
                ApacheTxnLogReader.filesAfter(logs, 0));
        assertEquals(List.of(Path.of("log.9")), ApacheTxnLogReader.filesAfter(logs, 100));
    }

    @Test
    void shouldRefuseAFileThatIsNotATransactionLogAndSkipAnEmptyOne() throws IOException {
        Files.write(versionDir().resolve("log.1"), new byte[0]);
        assertEquals(0, readAll(0).size());
        Files.write(versionDir().resolve("log.2"), new byte[] {'Z', 'K', 'S', 'N', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0});
        IOException e = assertThrows(IOException.class, () -> readAll(0));
        assertTrue(e.getMessage().contains("not an Apache ZooKeeper transaction log"), e.getMessage());
    }

    private List<byte[]> readAll(long afterZxid) throws IOException {
        List<byte[]> seen = new ArrayList<>();
        ApacheTxnLogReader.forEach(dir, afterZxid, 1 << 20, seen::add);
        return seen;
    }

    private Path versionDir() throws IOException {
        return Files.createDirectories(dir.resolve("version-2"));
    }

    private void writeLog(String name, List<byte[]> entries, int zeros) throws IOException {
        Files.write(versionDir().resolve(name), logBytes(entries, zeros));
    }

    /** FileTxnLog's layout, as its append writes it. */
    private static byte[] logBytes(List<byte[]> entries, int zeros) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(ApacheTxnLogReader.MAGIC);
        out.writeInt(ApacheTxnLogReader.VERSION);
        out.writeLong(0);
        for (byte[] entry : entries) {
            Adler32 adler = new Adler32();
            adler.update(entry);
            out.writeLong(adler.getValue());
            out.writeInt(entry.length);
            out.write(entry);
            out.writeByte('B');
        }
        out.write(new byte[zeros]);
        return bytes.toByteArray();
    }
}
