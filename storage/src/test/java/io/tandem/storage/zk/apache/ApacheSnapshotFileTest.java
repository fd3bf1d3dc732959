package io.tandem.storage.zk.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Adler32;
import java.util.zip.CheckedOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApacheSnapshotFileTest {
    @TempDir
    Path dir;

    @Test
    void shouldReadBackWhatTheWriterWroteWithTheLastZxidUnderApachesFileName() throws IOException {
        Path file = ApacheSnapshotWriter.write(dir, 0x1a2bL, out -> {
            out.writeInt(7);
            ApacheSnapshotWriter.writeString(out, "/path");
            ApacheSnapshotWriter.writeBuffer(out, null);
        });
        assertEquals(dir.resolve("version-2").resolve("snapshot.1a2b"), file);
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of("snapshot.1a2b"), files.map(p -> p.getFileName().toString()).toList(),
                    "no temporary file is left behind");
        }
        try (ApacheSnapshotReader reader = ApacheSnapshotReader.open(file)) {
            assertEquals(-1, reader.dbId());
            assertEquals(7, reader.body().readInt());
            assertEquals("/path", reader.readString(100));
            assertEquals(null, reader.readBuffer(100));
            assertEquals(0x1a2bL, reader.finish());
        }
        assertEquals(0x1a2bL, ApacheFiles.list(file.getParent(), ApacheFiles.SNAPSHOT_PREFIX).firstKey());
    }

    @Test
    void shouldFailOnDamageAtEveryByte() throws IOException {
        Path file = ApacheSnapshotWriter.write(dir, 5, out -> {
            out.writeLong(42);
            ApacheSnapshotWriter.writeString(out, "/a");
        });
        byte[] good = Files.readAllBytes(file);
        for (int at = 0; at < good.length; at++) {
            byte[] bad = good.clone();
            bad[at] ^= 0x01;
            Files.write(file, bad);
            int position = at;
            assertThrows(IOException.class, () -> {
                try (ApacheSnapshotReader reader = ApacheSnapshotReader.open(file)) {
                    reader.body().readLong();
                    reader.readString(100);
                    reader.finish();
                }
            }, () -> "a flipped bit at byte " + position + " went unnoticed");
        }
    }

    @Test
    void shouldTellTheOptionalSectionsApartByTheBytesLeft() throws IOException {
        // Apache 3.5 (seal only), digest only, last zxid only (digest disabled), and both (3.9's default).
        assertEquals(-1, readBack(false, false));
        assertEquals(-1, readBack(true, false));
        assertEquals(99, readBack(false, true));
        assertEquals(99, readBack(true, true));
    }

    @Test
    void shouldRefuseCompressedSnapshotsAndOtherFilesByName() throws IOException {
        Path versionDir = Files.createDirectories(dir.resolve("version-2"));
        Path gz = Files.write(versionDir.resolve("snapshot.5.gz"), new byte[20]);
        IOException compressed = assertThrows(IOException.class, () -> ApacheSnapshotReader.open(gz));
        assertTrue(compressed.getMessage().contains("compressed"), compressed.getMessage());
        Path log = Files.write(versionDir.resolve("snapshot.6"), new byte[] {'Z', 'K', 'L', 'G', 0, 0, 0, 2, 0, 0, 0,
                0, 0, 0, 0, 0});
        IOException wrongMagic = assertThrows(IOException.class, () -> ApacheSnapshotReader.open(log));
        assertTrue(wrongMagic.getMessage().contains("not an Apache ZooKeeper snapshot"), wrongMagic.getMessage());
    }

    private long readBack(boolean digest, boolean lastZxid) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CheckedOutputStream checked = new CheckedOutputStream(bytes, new Adler32());
        DataOutputStream out = new DataOutputStream(checked);
        out.writeInt(ApacheSnapshotReader.MAGIC);
        out.writeInt(ApacheSnapshotReader.VERSION);
        out.writeLong(-1);
        out.writeInt(1234);
        seal(out, checked);
        if (digest) {
            out.writeLong(98);
            out.writeInt(2);
            out.writeLong(0xabcdef);
            seal(out, checked);
        }
        if (lastZxid) {
            out.writeLong(99);
            seal(out, checked);
        }
        Path file = dir.resolve("snapshot." + (digest ? "d" : "") + (lastZxid ? "1" : "0"));
        Files.write(file, bytes.toByteArray());
        try (ApacheSnapshotReader reader = ApacheSnapshotReader.open(file)) {
            assertEquals(1234, reader.body().readInt());
            return reader.finish();
        }
    }

    private static void seal(DataOutputStream out, CheckedOutputStream checked) throws IOException {
        out.writeLong(checked.getChecksum().getValue());
        ApacheSnapshotWriter.writeString(out, "/");
    }
}
