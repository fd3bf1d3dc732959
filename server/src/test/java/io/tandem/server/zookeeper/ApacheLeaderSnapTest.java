package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheLeader;
import io.tandem.server.zab.apache.LeaderApplication;
import io.tandem.server.zab.apache.LearnerWire;
import io.tandem.storage.zk.apache.ApacheSnapshotWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Tandem leader's SNAP to Apache learners (issue 14): written from the live tree on the learner's thread, fuzzy as
 * Apache's LearnerHandler writes it, so the commit thread never waits for a long serialization (server/README.md,
 * DESIGN). Before, the commit thread serialized it while every write waited.
 */
class ApacheLeaderSnapTest {
    @TempDir
    Path dir;
    private ZkServer server;
    private ZooKeeper client;
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() throws InterruptedException {
        release.countDown();
        ApacheTreeFormat.fuzzyNodeWritten = () -> { };
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private ApacheLeaderCommit startWithTree() throws Exception {
        server = ZkServer.start(ZkServerConfig.from("127.0.0.1", 0, dir, Map.<String, String>of()::get),
                ZkStore.inMemory(), null);
        CountDownLatch connected = new CountDownLatch(1);
        client = new ZooKeeper("127.0.0.1:" + server.port(), 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(20, TimeUnit.SECONDS));
        client.addAuthInfo("digest", "user:secret".getBytes(StandardCharsets.UTF_8));
        client.create("/a", bytes("x"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        client.create("/a/b", bytes("y"), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        client.create("/a/c", null, ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.EPHEMERAL);
        client.setData("/a", bytes("x2"), -1);
        return new ApacheLeaderCommit(server, new PendingAnswers(server, Long.MAX_VALUE, entry -> { }));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private void holdCommitThread() throws InterruptedException {
        CountDownLatch parked = new CountDownLatch(1);
        server.call(() -> {
            parked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        assertTrue(parked.await(10, TimeUnit.SECONDS));
    }

    /** The SNAP taken and its body written, on another thread (a learner's, in the leader). */
    private static CompletableFuture<Written> snapshotAsync(ApacheLeaderCommit commit) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                LeaderApplication.SyncSnapshot snapshot = commit.snapshot();
                return new Written(snapshot.zxid(), joined(snapshot));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private record Written(long zxid, byte[] body) {}

    private static byte[] joined(LeaderApplication.SyncSnapshot snapshot) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(all);
        snapshot.body().writeTo(out);
        out.flush();
        return all.toByteArray();
    }

    @Test
    void theSnapIsWrittenWhileTheCommitThreadIsBusyAndIsTheTreeInApachesLayout() throws Exception {
        ApacheLeaderCommit commit = startWithTree();
        long applied = server.lastProcessedZxid();
        holdCommitThread();
        Written snapshot = snapshotAsync(commit).get(20, TimeUnit.SECONDS); // waited forever before
        release.countDown();
        assertEquals(applied, snapshot.zxid(), "it covers what the tree had applied");

        // Nothing changed since: the fuzzy walk wrote exactly what the exact serialization writes.
        byte[] exact = server.call(() -> {
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                DataOutputStream out = new DataOutputStream(bytes);
                ApacheTreeFormat.write(out, server.tree, server.sessions.byId());
                ApacheSnapshotWriter.writeString(out, LearnerWire.SNAPSHOT_SIGNATURE);
                out.flush();
                return bytes.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(20, TimeUnit.SECONDS);
        assertArrayEquals(exact, snapshot.body());
    }

    @Test
    void writesCommitWhileTheSnapWalkIsHeldHalfWayAndTheBodyStillReadsBack() throws Exception {
        ApacheLeaderCommit commit = startWithTree();
        CountDownLatch walking = new CountDownLatch(1);
        ApacheTreeFormat.fuzzyNodeWritten = () -> {
            walking.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        CompletableFuture<Written> pending = snapshotAsync(commit);
        assertTrue(walking.await(20, TimeUnit.SECONDS), "the walk began");
        client.create("/during", bytes("d"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        client.delete("/a/b", -1);
        assertNotNull(client.exists("/during", false), "writes commit while the SNAP is being written");
        release.countDown();
        Written snapshot = pending.get(20, TimeUnit.SECONDS);

        DataTree copy = new DataTree();
        Map<Long, Session> sessions = new HashMap<>();
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot.body()));
        ApacheTreeFormat.read(in, copy, sessions, 1 << 20);
        int length = in.readInt();
        assertEquals(LearnerWire.SNAPSHOT_SIGNATURE, new String(in.readNBytes(length), StandardCharsets.UTF_8));
        assertEquals(0, in.available(), "nothing after the signature");
        assertNotNull(copy.getNode("/a"), "what the tree held before the walk is there");
        assertEquals(1, sessions.size());
    }

    /**
     * Issue 14: a large tree's SNAP is streamed, never built in memory whole. The body goes to the stream as the walk
     * copies each node: no write to it is larger than one node's data (the leader's sender writes it through the
     * socket's buffer), though the body is many times that; and Apache's own deserializer (what an Apache follower
     * runs on a SNAP) reads it back whole, signature included. Before, the body was two byte arrays, the nodes' one
     * as large as the tree.
     */
    @Test
    void aLargeTreesSnapIsStreamedInNodeSizedWritesAndApacheReadsItBack() throws Exception {
        ApacheLeaderCommit commit = startWithTree();
        int nodeBytes = 256 << 10;
        int nodes = 64;
        byte[] data = new byte[nodeBytes];
        for (int i = 0; i < nodes; i++) {
            java.util.Arrays.fill(data, (byte) i);
            client.create("/big" + i, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        LeaderApplication.SyncSnapshot snapshot = commit.snapshot();
        long[] largestWrite = new long[1];
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        java.io.OutputStream socket = new java.io.OutputStream() {
            @Override
            public void write(int b) {
                largestWrite[0] = Math.max(largestWrite[0], 1);
                received.write(b);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                largestWrite[0] = Math.max(largestWrite[0], length);
                received.write(bytes, offset, length);
            }
        };
        DataOutputStream out = new DataOutputStream(socket);
        snapshot.body().writeTo(out);
        out.flush();
        long total = received.size();
        assertTrue(total > (long) nodes * nodeBytes, "the body holds every node: " + total + " bytes");
        assertTrue(largestWrite[0] <= nodeBytes, "the largest write was " + largestWrite[0] + " bytes of "
                + total + ": the body must be streamed in writes no larger than one node, never built whole");

        // Apache's Learner on SNAP: ZKDatabase.deserializeSnapshot, then the signature.
        org.apache.jute.BinaryInputArchive archive = org.apache.jute.BinaryInputArchive.getArchive(
                new ByteArrayInputStream(received.toByteArray()));
        org.apache.zookeeper.server.DataTree apacheTree = new org.apache.zookeeper.server.DataTree();
        Map<Long, Integer> apacheSessions = new HashMap<>();
        org.apache.zookeeper.server.util.SerializeUtils.deserializeSnapshot(apacheTree, archive, apacheSessions);
        assertEquals(LearnerWire.SNAPSHOT_SIGNATURE, archive.readString("signature"));
        for (int i = 0; i < nodes; i++) {
            java.util.Arrays.fill(data, (byte) i);
            assertArrayEquals(data, apacheTree.getData("/big" + i, new org.apache.zookeeper.data.Stat(), null));
        }
        assertEquals(1, apacheSessions.size(), "the client's session");
        assertNotNull(apacheTree.getNode("/a/b"));
    }

    /**
     * The ACL cache precedes the nodes, and the streamed body learns the ACL lists in a first walk: a node created
     * with a new ACL list while the nodes are written is left out with its subtree (the learner replays its create
     * after the SNAP's zxid), and one whose ACL is set meanwhile refers to a key of the cache (the replayed setACL
     * fixes it), so Apache's deserializer, which fails on a key missing from the cache, reads the body.
     */
    @Test
    void aNodeGivenANewAclWhileTheSnapIsWrittenNeverRefersToAKeyMissingFromTheCache() throws Exception {
        ApacheLeaderCommit commit = startWithTree();
        int parents = 10;
        for (int i = 0; i < parents; i++) {
            client.create("/q" + i, bytes("q"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        CountDownLatch walking = new CountDownLatch(1);
        ApacheTreeFormat.fuzzyNodeWritten = () -> {
            walking.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        CompletableFuture<Written> pending = snapshotAsync(commit);
        assertTrue(walking.await(20, TimeUnit.SECONDS), "the nodes are being written");
        // The walk copies a node's children as it copies the node: children created under the parents it has not
        // reached yet are walked. At most one parent was written already.
        List<ACL> fresh = Arrays.asList(new ACL(ZooDefs.Perms.ALL, new Id("world", "anyone")),
                new ACL(ZooDefs.Perms.READ, new Id("ip", "10.1.2.3")));
        List<ACL> other = Arrays.asList(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.WRITE, new Id("ip", "10.9.9.9")));
        for (int i = 0; i < parents; i++) {
            client.create("/q" + i + "/new", bytes("n"), fresh, CreateMode.PERSISTENT);
            client.create("/q" + i + "/new/kid", bytes("k"), fresh, CreateMode.PERSISTENT);
            client.setACL("/q" + i, other, -1);
        }
        release.countDown();
        Written snapshot = pending.get(20, TimeUnit.SECONDS);

        org.apache.jute.BinaryInputArchive archive = org.apache.jute.BinaryInputArchive.getArchive(
                new ByteArrayInputStream(snapshot.body()));
        org.apache.zookeeper.server.DataTree apacheTree = new org.apache.zookeeper.server.DataTree();
        // Apache's deserializer fails on a node whose ACL key the cache lacks ("Failed to fetch acls").
        org.apache.zookeeper.server.util.SerializeUtils.deserializeSnapshot(apacheTree, archive, new HashMap<>());
        assertEquals(LearnerWire.SNAPSHOT_SIGNATURE, archive.readString("signature"));
        for (int i = 0; i < parents; i++) {
            assertNotNull(apacheTree.getNode("/q" + i), "a node given a new ACL is kept");
            assertEquals(null, apacheTree.getNode("/q" + i + "/new"), "created after the SNAP's zxid with an ACL"
                    + " list the cache lacks: left out with its subtree, its creates are replayed");
        }
        assertNotNull(apacheTree.getNode("/a/b"));
    }
}
