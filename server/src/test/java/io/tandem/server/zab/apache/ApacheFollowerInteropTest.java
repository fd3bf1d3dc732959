package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import io.tandem.server.zab.apache.FastLeaderElection.Vote;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stage 2 of Apache quorum interop (issue 14 section 4), its protocol half: a Tandem member elected into an Apache
 * 3.9.5 ensemble follows the Apache leader over Apache's learner protocol, syncs what was written before it joined,
 * and its durable ACKs count: with the other Apache follower killed, a write commits only because Tandem acknowledged
 * it, and Tandem applies it.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ApacheFollowerInteropTest {
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path temp;

    /** What the follower applied, as the test reads it. */
    private static final class Recorder implements LearnerApplication {
        final AtomicReference<byte[]> snapshot = new AtomicReference<>();
        final List<String> createdPaths = new CopyOnWriteArrayList<>();
        volatile boolean serving;

        @Override
        public void onSnapshot(long zxid, byte[] apacheSnapshot) {
            snapshot.set(apacheSnapshot);
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
            ByteBuffer buffer = ByteBuffer.wrap(txn);
            long clientId = buffer.getLong(0);
            buffer.position(28);
            int type = buffer.getInt();
            if (type == -10) {
                createdSessions.add(clientId);
            }
            if (type == 1 || type == 15) { // create, create2: CreateTxn starts with the path
                byte[] path = new byte[buffer.getInt()];
                buffer.get(path);
                createdPaths.add(new String(path, StandardCharsets.UTF_8));
            }
        }

        @Override
        public void onServing(boolean serving) {
            this.serving = serving;
        }

        final Map<Long, Boolean> revalidated = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.concurrent.atomic.AtomicInteger syncs = new java.util.concurrent.atomic.AtomicInteger();
        final List<Long> createdSessions = new CopyOnWriteArrayList<>();

        @Override
        public void onRevalidated(long sessionId, boolean valid) {
            revalidated.put(sessionId, valid);
        }

        @Override
        public void onSync() {
            syncs.incrementAndGet();
        }

        boolean knows(String path) {
            byte[] s = snapshot.get();
            return createdPaths.contains(path)
                    || s != null && new String(s, StandardCharsets.ISO_8859_1).contains(path);
        }
    }

    @Test
    void tandemFollowsAnApacheLeaderAndItsDurableAcksCommitWrites() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 3);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        ApacheQuorumProcess one = ensemble.startApache(1);
        ApacheQuorumProcess two = ensemble.startApache(2);
        try (one; two) {
            assertTrue(ApacheQuorumProcess.await(() -> two.mode().equals("leader") || one.mode().equals("leader"),
                    TIMEOUT_MS), one::logTail);
            ApacheQuorumProcess leader = two.mode().equals("leader") ? two : one;
            ApacheQuorumProcess other = leader == two ? one : two;
            try (ZooKeeper client = connect(leader.ports.clientPort())) {
                client.create("/before-tandem", "b".getBytes(StandardCharsets.UTF_8), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT);
            }

            Recorder applied = new Recorder();
            try (ApacheElection election = new ApacheElection(3, members).start();
                 FileZabDisk disk = FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp.resolve("tandem"))) {
                Vote vote = election.lookForLeader(0, 0).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                assertEquals(ServerState.FOLLOWING, vote.state());
                assertEquals(leader.ports.sid(), vote.leader());
                int tick = ApacheQuorumProcess.TICK_TIME_MS;
                ApacheFollower follower = new ApacheFollower(3, disk, 0, 0, 0, applied, 10 * tick, 5 * tick);
                AtomicReference<Throwable> ended = new AtomicReference<>();
                Thread thread = new Thread(() -> {
                    try {
                        follower.followLeader("127.0.0.1", leader.ports.quorumPort());
                    } catch (Throwable e) {
                        ended.set(e);
                    }
                }, "tandem-follower");
                thread.start();
                try {
                    assertTrue(ApacheQuorumProcess.await(() -> applied.serving, TIMEOUT_MS),
                            () -> "not synced: " + ended.get() + "\n" + leader.logTail());
                    assertTrue(applied.knows("/before-tandem"), "the sync brought the earlier write");
                    assertTrue(follower.currentEpoch() >= 1, "currentEpoch written at NEWLEADER");

                    // Without the other Apache follower, only Tandem's ACK makes a quorum for the leader.
                    other.kill();
                    try (ZooKeeper client = connect(leader.ports.clientPort())) {
                        client.create("/acked-by-tandem", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    }
                    assertTrue(ApacheQuorumProcess.await(() -> applied.createdPaths.contains("/acked-by-tandem"),
                            TIMEOUT_MS), () -> "applied: " + applied.createdPaths);
                    assertTrue(disk.lastZxid() > 0, "the proposals are in Tandem's log");
                    assertTrue(applied.serving, () -> "the session ended: " + ended.get());
                } finally {
                    follower.close();
                    thread.join(10_000);
                }
            }
        }
    }

    @Test
    void requestsForwardedByTheTandemFollowerAreCommittedByTheApacheLeader() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 3);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        ApacheQuorumProcess one = ensemble.startApache(1);
        ApacheQuorumProcess two = ensemble.startApache(2);
        try (one; two) {
            assertTrue(ApacheQuorumProcess.await(() -> two.mode().equals("leader") || one.mode().equals("leader"),
                    TIMEOUT_MS), one::logTail);
            ApacheQuorumProcess leader = two.mode().equals("leader") ? two : one;
            Recorder applied = new Recorder();
            try (ApacheElection election = new ApacheElection(3, members).start();
                 FileZabDisk disk = FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp.resolve("tandem"))) {
                assertEquals(leader.ports.sid(),
                        election.lookForLeader(0, 0).get(TIMEOUT_MS, TimeUnit.MILLISECONDS).leader());
                int tick = ApacheQuorumProcess.TICK_TIME_MS;
                ApacheFollower follower = new ApacheFollower(3, disk, 0, 0, 0, applied, 10 * tick, 5 * tick);
                AtomicReference<Throwable> ended = new AtomicReference<>();
                Thread thread = new Thread(() -> {
                    try {
                        follower.followLeader("127.0.0.1", leader.ports.quorumPort());
                    } catch (Throwable e) {
                        ended.set(e);
                    }
                }, "tandem-follower");
                thread.start();
                try {
                    assertTrue(ApacheQuorumProcess.await(() -> applied.serving, TIMEOUT_MS),
                            () -> "not synced: " + ended.get());
                    // A session id as an Apache member makes it: the member's sid in the top byte.
                    long session = (3L << 56) | (System.currentTimeMillis() & 0xFFFFFFFFFFL);
                    assertTrue(follower.revalidate(session, 30_000));
                    assertTrue(ApacheQuorumProcess.await(() -> applied.revalidated.containsKey(session), TIMEOUT_MS));
                    assertEquals(false, applied.revalidated.remove(session), "not created yet");

                    assertTrue(follower.forward(session, 0, -10, ByteBuffer.allocate(4).putInt(30_000).array(),
                            null));
                    assertTrue(ApacheQuorumProcess.await(() -> applied.createdSessions.contains(session),
                            TIMEOUT_MS), "createSession committed");
                    assertTrue(follower.revalidate(session, 30_000));
                    assertTrue(ApacheQuorumProcess.await(() -> applied.revalidated.containsKey(session), TIMEOUT_MS));
                    assertEquals(true, applied.revalidated.get(session), "the leader knows the session now");

                    // create("/from-tandem", "t", world:anyone ALL, persistent), as a client sent it to Tandem.
                    ByteBuffer create = ByteBuffer.allocate(256);
                    putString(create, "/from-tandem");
                    create.putInt(1).put((byte) 't');
                    create.putInt(1).putInt(31);
                    putString(create, "world");
                    putString(create, "anyone");
                    create.putInt(0);
                    byte[] body = java.util.Arrays.copyOf(create.array(), create.position());
                    assertTrue(follower.forward(session, 1, 1, body,
                            List.of(new LearnerWire.Id("ip", "127.0.0.1"))));
                    assertTrue(ApacheQuorumProcess.await(() -> applied.createdPaths.contains("/from-tandem"),
                            TIMEOUT_MS), () -> "applied: " + applied.createdPaths);
                    try (ZooKeeper client = connect(leader.ports.clientPort())) {
                        assertEquals("t", new String(client.getData("/from-tandem", false, null),
                                StandardCharsets.UTF_8));
                        assertEquals(0, client.exists("/from-tandem", false).getEphemeralOwner(),
                                "a persistent node");
                    }

                    ByteBuffer sync = ByteBuffer.allocate(64);
                    putString(sync, "/from-tandem");
                    assertTrue(follower.forward(session, 2, 9, java.util.Arrays.copyOf(sync.array(),
                            sync.position()), null));
                    assertTrue(ApacheQuorumProcess.await(() -> applied.syncs.get() == 1, TIMEOUT_MS),
                            "the leader answers a forwarded sync with SYNC");
                    assertTrue(applied.serving, () -> "the session ended: " + ended.get());
                } finally {
                    follower.close();
                    thread.join(10_000);
                }
            }
        }
    }

    private static void putString(ByteBuffer buffer, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        buffer.putInt(bytes.length).put(bytes);
    }

    private static ZooKeeper connect(int port) throws Exception {
        ZooKeeper client = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> { });
        assertTrue(ApacheQuorumProcess.await(() -> client.getState().isConnected(), TIMEOUT_MS));
        return client;
    }
}
