package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real files, real sockets, the official 3.9.5 client: a member whose Zab log or newest snapshot is damaged on disk
 * restarts recovering (its damaged files set aside, never deleted), refuses clients until a leader has re-synced it,
 * and then serves the same tree as everyone else, every acknowledged write included.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EnsembleDiskDamageTest {
    @TempDir
    Path dir;
    private TestEnsemble ensemble;

    @AfterEach
    void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static int otherThan(int... ids) {
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            final int candidate = id;
            if (java.util.Arrays.stream(ids).noneMatch(x -> x == candidate)) {
                return id;
            }
        }
        throw new AssertionError();
    }

    /** Flips one byte in the middle of the file: what a checksum must catch. */
    private static long damageMiddle(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long position = raf.length() / 2;
            raf.seek(position);
            int b = raf.read();
            raf.seek(position);
            raf.write(b ^ 0x5A);
            raf.getFD().sync();
            return position;
        }
    }

    private static Path largest(Path directory, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)
                            && !f.getFileName().toString().endsWith(".tmp"))
                    .max(Comparator.comparingLong(f -> f.toFile().length()))
                    .orElseThrow(() -> new AssertionError("no " + prefix + " file in " + directory));
        }
    }

    private static Path newest(Path directory, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)
                            && !f.getFileName().toString().endsWith(".tmp"))
                    .max(Comparator.comparing(f -> f.getFileName().toString()))
                    .orElseThrow(() -> new AssertionError("no " + prefix + " file in " + directory));
        }
    }

    private static List<Path> setAside(Path zabDir) throws IOException {
        try (Stream<Path> files = Files.list(zabDir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("corrupt-")).toList();
        }
    }

    /** True if a client talking only to {@code connect} gets a session within {@code millis}. */
    private static boolean clientConnects(String connect, long millis) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            return connected.await(millis, TimeUnit.MILLISECONDS);
        } finally {
            zk.close();
        }
    }

    private void create(ZooKeeper zk, String path, String data) throws Exception {
        zk.create(path, bytes(data), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private void assertIdenticalTrees(String... mustHold) throws Exception {
        Map<String, String> first = TestEnsemble.dump(ensemble.connect(1));
        for (String path : mustHold) {
            assertTrue(first.containsKey(path), "acknowledged write " + path + " is missing");
        }
        for (int id = 2; id <= TestEnsemble.SIZE; id++) {
            assertEquals(first, ensemble.dump(id), "member " + id + " differs from member 1");
        }
    }

    /**
     * The scenario on real files: a write acknowledged by {A, C} only; A stops; C's log is damaged in the
     * middle. B and C are a majority, but C lost the write, so they must not elect (and nobody serves). When A
     * returns, everyone converges, the write included.
     */
    @Test
    void aMemberWithADamagedLogDoesNotHelpElectAndResyncsOnceTheLeaderIsBack() throws Exception {
        ensemble = new TestEnsemble(dir);
        ensemble.startAll();
        int a = ensemble.awaitServing(30_000);
        int c = otherThan(a);
        int b = otherThan(a, c);
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(a), 10_000, null)) {
            create(zk, "/app", "root");
            for (int i = 0; i < 100; i++) {
                create(zk, "/app/n" + i, "value-" + i);
            }
            ensemble.stop(b);
            // Acknowledged by A and C only.
            create(zk, "/app/acked-by-a-and-c", "precious");
        }
        ensemble.stop(a);
        ensemble.stop(c);
        Path log = largest(ensemble.zabDir(c).resolve("log"), "log.");
        long offset = damageMiddle(log);
        String damagedName = log.getFileName().toString();

        ensemble.start(c);
        ensemble.start(b);
        Path zabC = ensemble.zabDir(c);
        assertTrue(Files.exists(zabC.resolve("recovering")), "the recovering marker is durable");
        List<Path> aside = setAside(zabC);
        assertEquals(1, aside.size(), "the damaged files are set aside once");
        assertTrue(Files.exists(aside.get(0).resolve("log").resolve(damagedName)),
                "the damaged log (byte " + offset + ") is kept for the operator");
        assertTrue(Files.exists(zabC.resolve("acceptedEpoch")), "the promise stays in place");

        // B and C must not elect: C lost what it acknowledged. Neither serves meanwhile.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        while (System.nanoTime() - until < 0) {
            assertEquals("looking", ensemble.mode(b));
            assertEquals("looking", ensemble.mode(c));
            Thread.sleep(100);
        }
        assertFalse(clientConnects(ensemble.connect(c), 1_500), "a recovering member refuses clients");
        assertTrue(Files.exists(zabC.resolve("recovering")));

        ensemble.start(a);
        ensemble.awaitServing(60_000);
        assertFalse(Files.exists(zabC.resolve("recovering")), "the marker goes once C is re-synced");
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(c), 10_000, null)) {
            assertArrayEquals(bytes("precious"), zk.getData("/app/acked-by-a-and-c", false, null));
        }
        assertIdenticalTrees("/app/acked-by-a-and-c", "/app/n0", "/app/n99");
        assertTrue(Files.exists(aside.get(0).resolve("log").resolve(damagedName)), "never deleted");
    }

    /** A follower's newest snapshot is damaged: it restarts recovering, re-syncs from the running leader, serves. */
    @Test
    void aFollowerWithADamagedSnapshotResyncsFromTheRunningLeader() throws Exception {
        ensemble = new TestEnsemble(dir);
        ensemble.extraSettings.put("snapCount", "40");
        ensemble.startAll();
        int leader = ensemble.awaitServing(30_000);
        int damaged = otherThan(leader);
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 10_000, null)) {
            create(zk, "/s", "root");
            for (int i = 0; i < 150; i++) {
                create(zk, "/s/n" + i, "value-" + i);
            }
            // Every member applied the writes (and so took its snapshots) before the follower stops.
            assertEquals(151, TestEnsemble.dump(ensemble.connect(damaged)).keySet().stream()
                    .filter(p -> p.startsWith("/s")).count());
            ensemble.stop(damaged);
            Path snapshot = newest(ensemble.zabDir(damaged).resolve("zab-snapshots"), "snapshot.");
            damageMiddle(snapshot);
            // Writes the damaged member misses while it is down.
            for (int i = 150; i < 170; i++) {
                create(zk, "/s/n" + i, "value-" + i);
            }
        }
        ensemble.start(damaged);
        assertEquals(1, setAside(ensemble.zabDir(damaged)).size(), "the damaged snapshot is set aside");
        ensemble.awaitServing(60_000);
        assertFalse(Files.exists(ensemble.zabDir(damaged).resolve("recovering")));
        // Once it serves again it serves everything, without a sync first.
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(damaged), 10_000, null)) {
            assertArrayEquals(bytes("value-169"), zk.getData("/s/n169", false, null));
            assertNotEquals(null, zk.exists("/s/n0", false));
        }
        assertIdenticalTrees("/s/n0", "/s/n169");
    }
}
