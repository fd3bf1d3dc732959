package io.tandem.storage.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
    @TempDir
    Path dir;

    private static SnapshotBody body(long zxid, int count) {
        return out -> {
            out.writeLong(zxid);
            out.writeInt(count);
            for (int i = 0; i < count; i++) {
                out.writeUTF("/node-" + i);
            }
        };
    }

    private static void assertBody(Snapshot snapshot, int count) throws IOException {
        try (DataInputStream in = snapshot.open()) {
            assertEquals(snapshot.zxid(), in.readLong());
            assertEquals(count, in.readInt());
            for (int i = 0; i < count; i++) {
                assertEquals("/node-" + i, in.readUTF());
            }
            assertEquals(-1, in.read(), "the body must end where the writer stopped, before the trailer");
        }
    }

    @Test
    void shouldReturnNewestSnapshotWithItsExactBody() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        assertEquals(Optional.empty(), store.latestValid());
        store.write(0x100000005L, body(0x100000005L, 3));
        store.write(0x100000009L, body(0x100000009L, 5000));
        Snapshot latest = SnapshotStore.open(dir).latestValid().orElseThrow();
        assertEquals(0x100000009L, latest.zxid());
        assertEquals("snapshot.0000000100000009", latest.file().getFileName().toString());
        assertBody(latest, 5000);
    }

    @Test
    void latestValidShouldSkipSnapshotsWithAnyDamagedByte() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        store.write(10, body(10, 2));
        store.write(20, body(20, 2));
        Path newest = dir.resolve("snapshot.0000000000000014");
        byte[] good = Files.readAllBytes(newest);
        for (int at = 0; at < good.length; at++) {
            byte[] damaged = good.clone();
            damaged[at] ^= 0x10;
            Files.write(newest, damaged);
            assertEquals(10, store.latestValid().orElseThrow().zxid(), "damage at byte " + at);
        }
        for (int cut = 0; cut < good.length; cut++) {
            Files.write(newest, java.util.Arrays.copyOf(good, cut));
            assertEquals(10, store.latestValid().orElseThrow().zxid(), "cut at byte " + cut);
        }
        Files.write(newest, good);
        assertEquals(20, store.latestValid().orElseThrow().zxid());
    }

    @Test
    void shouldRejectSnapshotRenamedToAnotherZxid() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        store.write(7, body(7, 1));
        Files.move(dir.resolve("snapshot.0000000000000007"), dir.resolve("snapshot.0000000000000008"));
        assertEquals(Optional.empty(), store.latestValid());
    }

    @Test
    void shouldLeaveNoTempFileAndKeepOldSnapshotWhenBodyFails() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        store.write(1, body(1, 1));
        IOException failure = assertThrows(IOException.class, () -> store.write(2, out -> {
            out.writeInt(42);
            throw new IOException("tree serialization failed");
        }));
        assertEquals("tree serialization failed", failure.getMessage());
        assertEquals(List.of(dir.resolve("snapshot.0000000000000001")), listAll());
        assertEquals(1, store.latestValid().orElseThrow().zxid());
    }

    @Test
    void openShouldRemoveTempFilesLeftByACrash() throws IOException {
        Files.write(dir.resolve("snapshot.0000000000000003.tmp"), new byte[] {1, 2, 3});
        SnapshotStore store = SnapshotStore.open(dir);
        assertEquals(List.of(), listAll());
        assertEquals(Optional.empty(), store.latestValid());
    }

    @Test
    void retainShouldKeepNewestValidSnapshotsAndNeverTheOnlyGoodOne() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        for (long zxid = 1; zxid <= 5; zxid++) {
            store.write(zxid, body(zxid, 1));
        }
        store.retain(3);
        assertEquals(List.of(3L, 4L, 5L), zxids());
        Files.write(dir.resolve("snapshot.0000000000000005"), new byte[] {9, 9, 9});
        store.retain(1);
        assertEquals(List.of(4L, 5L), zxids(), "a damaged newest snapshot must not cost the last good one");
        assertEquals(4, store.latestValid().orElseThrow().zxid());
        assertThrows(IllegalArgumentException.class, () -> store.retain(0));
    }

    @Test
    void rewritingTheSameZxidReplacesTheFileAtomically() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        store.write(9, body(9, 1));
        store.write(9, body(9, 4));
        assertBody(store.latestValid().orElseThrow(), 4);
        assertTrue(listAll().stream().noneMatch(p -> p.toString().endsWith(".tmp")));
        assertFalse(Files.exists(dir.resolve("snapshot.0000000000000009.tmp")));
    }

    @Test
    void emptyBodyIsValid() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        store.write(3, out -> { });
        Snapshot snapshot = store.latestValid().orElseThrow();
        try (DataInputStream in = snapshot.open()) {
            assertArrayEquals(new byte[0], in.readAllBytes());
        }
    }

    private List<Long> zxids() throws IOException {
        return SnapshotStore.open(dir).newestFirst().stream().map(Snapshot::zxid).sorted().toList();
    }

    private List<Path> listAll() throws IOException {
        try (Stream<Path> stream = Files.list(dir)) {
            return stream.sorted().toList();
        }
    }
}
