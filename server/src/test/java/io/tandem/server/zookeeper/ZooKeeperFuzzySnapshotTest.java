package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots are written in the background from the live tree (fuzzy, as Apache's): writes go on while one is being
 * written, and a server stopped without a clean shutdown during or after such a snapshot comes back with exactly the
 * acknowledged tree. A hook holds the snapshot writer half way through the tree, so the writes happen while it runs.
 */
class ZooKeeperFuzzySnapshotTest {
    private static final long WAIT_SECONDS = 20;

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile long heldZxid = -1;

    @AfterEach
    void closeAll() throws Exception {
        release.countDown();
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    private ZkServer start(int port, int snapCount) throws Exception {
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", port, dir,
                Map.of("snapCount", String.valueOf(snapCount))::get);
        ZkServer server = ZkServer.start(config, StorageZkStore.open(dir), null);
        toClose.add(server);
        return server;
    }

    private ZooKeeper connect(ZkServer server) throws Exception {
        ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port());
        toClose.add(zk);
        return zk;
    }

    private static BackgroundSnapshots snapshots(ZkServer server) {
        return ((StandaloneCommit) server.commitPath()).snapshots();
    }

    /** Holds the first background snapshot once it has written {@code nodes} nodes, until {@link #release}. */
    private void holdFirstSnapshotAfter(ZkServer server, long nodes) {
        snapshots(server).progressHook = (zxid, written) -> {
            if (written != nodes || held.getCount() == 0) {
                return;
            }
            heldZxid = zxid;
            held.countDown();
            try {
                if (!release.await(60, TimeUnit.SECONDS)) {
                    throw new IOException("test never released the snapshot");
                }
            } catch (InterruptedException e) {
                throw new InterruptedIOException("snapshot writer interrupted while held");
            }
        };
    }

    /** Creates {@code parents} x {@code children} nodes under /t with async creates, waiting for all of them. */
    private static void createTree(ZooKeeper zk, int parents, int children) throws Exception {
        zk.create("/t", "top".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Semaphore inFlight = new Semaphore(200);
        CountDownLatch done = new CountDownLatch(parents * children);
        List<Integer> failures = Collections.synchronizedList(new ArrayList<>());
        for (int p = 0; p < parents; p++) {
            zk.create("/t/a" + p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int c = 0; c < children; c++) {
                inFlight.acquire();
                zk.create(String.format("/t/a%d/n%03d", p, c), ("v" + c).getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT, (rc, path, ctx, name) -> {
                            if (rc != 0) {
                                failures.add(rc);
                            }
                            inFlight.release();
                            done.countDown();
                        }, null);
            }
        }
        assertTrue(done.await(WAIT_SECONDS, TimeUnit.SECONDS), "tree creates did not complete");
        assertEquals(List.of(), failures);
    }

    /** Every node under the root with its data and Stat, as the client reads them. */
    private static Map<String, String> dump(ZooKeeper zk) throws Exception {
        Map<String, String> nodes = new TreeMap<>();
        List<String> pending = new ArrayList<>(List.of("/"));
        while (!pending.isEmpty()) {
            String path = pending.remove(pending.size() - 1);
            Stat stat = new Stat();
            byte[] data = zk.getData(path, false, stat);
            nodes.put(path, Arrays.toString(data) + " " + stat + " acl=" + zk.getACL(path, new Stat()));
            for (String child : zk.getChildren(path, false)) {
                pending.add(path.equals("/") ? "/" + child : path + "/" + child);
            }
        }
        return nodes;
    }

    private static void within(CompletableFuture<?> write, String what) throws Exception {
        try {
            write.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError(what + " did not complete while the snapshot was being written", e);
        }
    }

    private List<String> snapshotFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("snapshots"))) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    private static String snapshotName(long zxid) {
        return String.format("snapshot.%016x", zxid);
    }

    @Test
    void shouldAnswerWritesAndReadsWhileASnapshotOfALargeTreeIsBeingWritten() throws Exception {
        ZkServer server = start(0, 3_000);
        holdFirstSnapshotAfter(server, 1_500);
        ZooKeeper zk = connect(server);
        createTree(zk, 6, 500);
        assertTrue(held.await(WAIT_SECONDS, TimeUnit.SECONDS), "no snapshot started after snapCount transactions");

        // The commit thread must not wait for the held writer: every one of these is answered now.
        CompletableFuture<String> created = new CompletableFuture<>();
        zk.create("/during", "d".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                (rc, path, ctx, name) -> created.complete(rc == 0 ? name : "rc " + rc), null);
        within(created, "a create");
        assertEquals("/during", created.get());
        CompletableFuture<Stat> set = new CompletableFuture<>();
        zk.setData("/t/a5/n499", "new".getBytes(), 0, (rc, path, ctx, stat) -> set.complete(rc == 0 ? stat : null),
                null);
        within(set, "a setData");
        CompletableFuture<Integer> deleted = new CompletableFuture<>();
        zk.delete("/t/a0/n000", 0, (rc, path, ctx) -> deleted.complete(rc), null);
        within(deleted, "a delete");
        assertEquals(0, deleted.get());
        CompletableFuture<byte[]> read = new CompletableFuture<>();
        zk.getData("/t/a5/n499", false, (rc, path, ctx, data, stat) -> read.complete(data), null);
        within(read, "a read");
        assertEquals("new", new String(read.get()));

        // The snapshot covers the zxid applied when it started, before those writes.
        Stat during = zk.exists("/during", false);
        assertTrue(heldZxid > 0 && heldZxid < during.getCzxid(), "snapshot zxid " + heldZxid);
        assertFalse(snapshotFiles().contains(snapshotName(heldZxid)), "not complete while held");
        assertEquals(0, snapshots(server).completed());

        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (snapshots(server).completed() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, snapshots(server).completed());
        assertEquals(heldZxid, snapshots(server).lastCompletedZxid());
        assertTrue(snapshotFiles().contains(snapshotName(heldZxid)), snapshotFiles().toString());
    }

    @Test
    void shouldRecoverTheAcknowledgedTreeAfterACrashFollowingAFuzzySnapshot() throws Exception {
        ZkServer server = start(TestPorts.freePort(), 2_500);
        int port = server.port();
        holdFirstSnapshotAfter(server, 1_200);
        ZooKeeper zk = connect(server);
        createTree(zk, 10, 250);
        assertTrue(held.await(WAIT_SECONDS, TimeUnit.SECONDS), "no snapshot started after snapCount transactions");

        // Changes on both sides of the writer's position: nodes it has written and nodes it has still to reach.
        ZooKeeper other = connect(server);
        changeEverywhere(zk, other);
        other.close();

        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (snapshots(server).completed() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(heldZxid, snapshots(server).lastCompletedZxid());
        assertEquals(List.of(snapshotName(heldZxid)), snapshotFiles());
        zk.setData("/t/a0/n001", "after the snapshot".getBytes(), -1);
        zk.create("/t/a9/s-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
        Map<String, String> before = dump(zk);
        long zxidBefore = server.lastProcessedZxid();

        // No shutdown snapshot: the restart reads the fuzzy snapshot and replays the log from its zxid.
        toClose.remove(server); // a second close would find its event loops gone
        server.closeWithoutSnapshot();
        assertEquals(List.of(snapshotName(heldZxid)), snapshotFiles());
        ZkServer restarted = start(port, 2_500);
        assertEquals(zxidBefore, restarted.lastProcessedZxid());
        ZooKeeper after = connect(restarted);
        assertEquals(before, dump(after));
        // Sequential names continue from the parent's cversion, which replay over the snapshot must have kept.
        // The client's cversion counts creations and deletions; the sequence number counts creations.
        Stat a3 = after.exists("/t/a3", false);
        int creations = (a3.getCversion() + a3.getNumChildren()) / 2;
        assertEquals(257, creations, "250 children, then 7 creations in changeEverywhere");
        assertEquals(String.format("/t/a3/s-%010d", creations), after.create("/t/a3/s-", null,
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
    }

    @Test
    void shouldRecoverTheAcknowledgedTreeAfterACrashWhileASnapshotIsBeingWritten() throws Exception {
        ZkServer server = start(TestPorts.freePort(), 2_500);
        int port = server.port();
        holdFirstSnapshotAfter(server, 1_200);
        ZooKeeper zk = connect(server);
        createTree(zk, 10, 250);
        assertTrue(held.await(WAIT_SECONDS, TimeUnit.SECONDS), "no snapshot started after snapCount transactions");
        ZooKeeper other = connect(server);
        changeEverywhere(zk, other);
        other.close();
        Map<String, String> before = dump(zk);

        // Stopped while the writer is held: the snapshot never completes and leaves no file behind.
        toClose.remove(server); // a second close would find its event loops gone
        server.closeWithoutSnapshot();
        assertEquals(List.of(), snapshotFiles());
        ZkServer restarted = start(port, 2_500);
        assertEquals(before, dump(connect(restarted)));
    }

    /**
     * Under every /t/aN: data set twice, a delete, two sequential creates, a delete and re-create of one name, a multi,
     * a setACL, a new subtree with a deleted leaf, and ephemerals of a session that then closes.
     */
    private static void changeEverywhere(ZooKeeper zk, ZooKeeper other) throws Exception {
        for (int p = 0; p < 10; p++) {
            String parent = "/t/a" + p;
            zk.setData(parent + "/n005", "x".getBytes(), 0);
            zk.setData(parent + "/n005", "y".getBytes(), 1);
            zk.delete(parent + "/n007", 0);
            zk.create(parent + "/s-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            zk.create(parent + "/s-", "2".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            zk.delete(parent + "/n009", 0);
            zk.create(parent + "/n009", "again".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.multi(List.of(
                    Op.create(parent + "/m", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.setData(parent + "/m", "m".getBytes(), 0),
                    Op.delete(parent + "/n011", 0)));
            zk.setACL(parent + "/n013", ZooDefs.Ids.READ_ACL_UNSAFE, 0);
            zk.create(parent + "/new", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(parent + "/new/leaf", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(parent + "/new/kept", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.delete(parent + "/new/leaf", 0);
            other.create(parent + "/eph", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            zk.create(parent + "/mine", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            try {
                zk.create(parent + "/n001", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                throw new AssertionError("create of an existing node succeeded");
            } catch (KeeperException.NodeExistsException expected) {
                // an error result is a transaction too
            }
        }
    }
}
