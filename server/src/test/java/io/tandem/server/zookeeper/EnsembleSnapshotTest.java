package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ensemble.RetryingCreates;
import io.tandem.server.ensemble.TestEnsemble;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ensemble member's snapshots are written on the snapshot thread from the live tree (fuzzy, as the standalone
 * server's), into Zab's snapshot store, and Zab brings a wiped member back with them by SNAP. Three members run in this
 * JVM on loopback ports; a hook holds a member's snapshot writer half way through the tree.
 */
class EnsembleSnapshotTest {
    private static final long WAIT_SECONDS = 60;
    private static final int MEMBERS = 3;
    /** SnapshotStreams' chunk size switch: lowered so that a small tree's snapshot still flows in many chunks. */
    private static final String CHUNK_BYTES_PROPERTY = "tandem.zab.snapshotChunkBytes";
    private static final int CHUNK_BYTES = 8 << 10;

    @TempDir
    Path dir;

    private final Map<String, String> settings = new TreeMap<>();
    private final int[] clientPorts = new int[MEMBERS + 1];
    private final ZkServer[] members = new ZkServer[MEMBERS + 1];
    private final List<AutoCloseable> clients = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void closeAll() throws Exception {
        System.clearProperty(CHUNK_BYTES_PROPERTY);
        release.countDown();
        Collections.reverse(clients);
        for (AutoCloseable client : clients) {
            client.close();
        }
        for (int id = 1; id <= MEMBERS; id++) {
            if (members[id] != null) {
                members[id].close();
            }
        }
    }

    private void configure(int snapCount) throws IOException {
        settings.put("tickTime", "200");
        settings.put("initLimit", "10");
        settings.put("syncLimit", "5");
        settings.put("snapCount", Integer.toString(snapCount));
        for (int id = 1; id <= MEMBERS; id++) {
            clientPorts[id] = TestEnsemble.freePort();
            settings.put("server." + id, "127.0.0.1:" + TestEnsemble.freePort() + ":" + TestEnsemble.freePort());
        }
    }

    private void start(int id) throws IOException {
        Path data = dir.resolve("node" + id);
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", clientPorts[id], data, settings::get);
        members[id] = ZkServer.startEnsemble(config, null, id, settings, data.resolve("zab"));
    }

    private static BackgroundSnapshots snapshots(ZkServer member) {
        return ((EnsembleCommit) member.commitPath()).snapshots();
    }

    private int awaitLeader() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() - deadline < 0) {
            int leaders = 0;
            int leader = -1;
            int serving = 0;
            for (int id = 1; id <= MEMBERS; id++) {
                String mode = members[id] == null ? "down" : members[id].mode();
                if (mode.equals("leader")) {
                    leaders++;
                    leader = id;
                }
                if (mode.equals("leader") || mode.equals("follower")) {
                    serving++;
                }
            }
            if (leaders == 1 && serving == running()) {
                return leader;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the ensemble did not settle");
    }

    private int running() {
        int count = 0;
        for (int id = 1; id <= MEMBERS; id++) {
            count += members[id] == null ? 0 : 1;
        }
        return count;
    }

    private ZooKeeper connect(int id) throws Exception {
        ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + clientPorts[id]);
        clients.add(zk);
        return zk;
    }

    /**
     * {@code count} creates under {@code parent}, many in flight, each acknowledged within the wait, retrying those
     * that lose their connection (see {@link RetryingCreates}).
     */
    private static void createMany(ZooKeeper zk, String parent, int count, int dataBytes) throws Exception {
        RetryingCreates.createRetrying(zk, parent, null, WAIT_SECONDS);
        RetryingCreates.createMany(zk, count, i -> parent + "/n" + i, new byte[dataBytes], 500, WAIT_SECONDS);
    }

    private List<String> zabSnapshotFiles(int id) throws IOException {
        Path store = dir.resolve("node" + id).resolve("zab").resolve("zab-snapshots");
        try (Stream<Path> files = Files.list(store)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void shouldKeepCommittingWhileEveryMembersSnapshotIsHeldHalfWritten() throws Exception {
        configure(200);
        List<CountDownLatch> held = new ArrayList<>();
        long[] heldZxid = new long[MEMBERS + 1];
        for (int id = 1; id <= MEMBERS; id++) {
            start(id);
        }
        for (int id = 1; id <= MEMBERS; id++) {
            CountDownLatch latch = new CountDownLatch(1);
            held.add(latch);
            int member = id;
            snapshots(members[id]).progressHook = (zxid, written) -> {
                if (written != 50 || latch.getCount() == 0) {
                    return;
                }
                heldZxid[member] = zxid;
                latch.countDown();
                try {
                    if (!release.await(2 * WAIT_SECONDS, TimeUnit.SECONDS)) {
                        throw new IOException("test never released the snapshot");
                    }
                } catch (InterruptedException e) {
                    throw new InterruptedIOException("snapshot writer interrupted while held");
                }
            };
        }
        int leader = awaitLeader();
        ZooKeeper zk = connect(leader);
        createMany(zk, "/before", 300, 10);
        for (CountDownLatch latch : held) {
            assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "a member started no snapshot after snapCount");
        }

        // Every member's snapshot is stuck half way; their commit threads must not be: these are committed, applied
        // and answered (on a commit thread that took the snapshot itself they would wait for the release).
        createMany(zk, "/during", 300, 10);
        for (int id = 1; id <= MEMBERS; id++) {
            assertEquals(0, snapshots(members[id]).completed(), "member " + id + "'s snapshot is held");
        }

        release.countDown();
        for (int id = 1; id <= MEMBERS; id++) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (snapshots(members[id]).completed() == 0 && System.nanoTime() - deadline < 0) {
                Thread.sleep(10);
            }
            assertTrue(snapshots(members[id]).completed() >= 1, "member " + id + " finished no snapshot");
            assertTrue(zabSnapshotFiles(id).contains(String.format("snapshot.%016x", heldZxid[id])),
                    "member " + id + ": " + zabSnapshotFiles(id));
        }
    }

    @Test
    void shouldBringAWipedMemberBackFromTheLeadersFuzzySnapshotStreamedInChunks() throws Exception {
        System.setProperty(CHUNK_BYTES_PROPERTY, Integer.toString(CHUNK_BYTES));
        configure(500);
        for (int id = 1; id <= MEMBERS; id++) {
            start(id);
        }
        int leader = awaitLeader();
        int wiped = leader % MEMBERS + 1;
        ZooKeeper zk = connect(leader);
        createMany(zk, "/a", 2_000, 100);
        members[wiped].close();
        members[wiped] = null;
        deleteRecursively(dir.resolve("node" + wiped));
        createMany(zk, "/b", 1_200, 100); // the leader's snapshot now covers more than the wiped member ever had
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (snapshots(members[leader]).completed() < 2 && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }

        start(wiped);
        awaitLeader();
        ZooKeeper back = connect(wiped);
        back.sync("/", (rc, path, ctx) -> { }, null);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (members[wiped].lastProcessedZxid() < members[leader].lastProcessedZxid()
                && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
        assertEquals(2_000, back.getChildren("/a", false).size());
        assertEquals(1_200, back.getChildren("/b", false).size());
        assertEquals(members[leader].tree.nodeCount(), members[wiped].tree.nodeCount());
        // The snapshot (over 300 KB: 3,200 znodes of 100 bytes) crossed in chunks, none larger than CHUNK_BYTES.
        long received = ((EnsembleCommit) members[wiped].commitPath()).zab().snapshotChunksReceived();
        assertTrue(received >= 300_000 / CHUNK_BYTES, "chunks received: " + received);
        // Every chunk sent arrived. Counted over the whole ensemble: on a loaded machine the other follower can fall
        // behind too and be brought back by a snapshot of its own (seen: 127 chunks sent, 78 of them to the wiped
        // member, 49 to the other), and a new election may move the leadership.
        long sentByAll = 0;
        long receivedByAll = 0;
        for (int id = 1; id <= MEMBERS; id++) {
            sentByAll += ((EnsembleCommit) members[id].commitPath()).zab().snapshotChunksSent();
            receivedByAll += ((EnsembleCommit) members[id].commitPath()).zab().snapshotChunksReceived();
        }
        assertEquals(sentByAll, receivedByAll);
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
