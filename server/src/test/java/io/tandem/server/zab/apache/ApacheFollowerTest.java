package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabDisk;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The follower against a scripted Apache-protocol leader on a real socket: what it makes durable before each answer
 * (the order Zab's safety rests on), and the leader input it refuses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApacheFollowerTest {
    private static final long EPOCH = 2;
    private static final long NEW_LEADER_ZXID = EPOCH << 32;

    @TempDir
    Path temp;

    /** Disk writes and the leader's receipts, in the order they happened. */
    private final List<String> events = new CopyOnWriteArrayList<>();

    /** A real FileZabDisk that records each durable step. */
    private final class RecordingDisk implements ZabDisk {
        private final FileZabDisk disk;

        RecordingDisk(FileZabDisk disk) {
            this.disk = disk;
        }

        @Override
        public SnapshotData writeSnapshot(long zxid, SnapshotData snapshot) throws IOException {
            SnapshotData stored = disk.writeSnapshot(zxid, snapshot);
            events.add("snapshot " + Long.toHexString(zxid));
            return stored;
        }

        @Override
        public void retainNewestSnapshots() throws IOException {
            disk.retainNewestSnapshots();
        }

        @Override
        public void truncateAfter(long zxid) throws IOException {
            disk.truncateAfter(zxid);
            events.add("truncate " + Long.toHexString(zxid));
        }

        @Override
        public void append(long zxid, byte[] txn) throws IOException {
            disk.append(zxid, txn);
            events.add("append " + Long.toHexString(zxid));
        }

        @Override
        public void sync() throws IOException {
            disk.sync();
            events.add("sync");
        }

        @Override
        public void writeAcceptedEpoch(long epoch) throws IOException {
            disk.writeAcceptedEpoch(epoch);
            events.add("acceptedEpoch " + epoch);
        }

        @Override
        public void writeCurrentEpoch(long epoch) throws IOException {
            disk.writeCurrentEpoch(epoch);
            events.add("currentEpoch " + epoch);
        }

        @Override
        public void clearRecovering() throws IOException {
            disk.clearRecovering();
        }

        @Override
        public void purgeBefore(long zxid) throws IOException {
            disk.purgeBefore(zxid);
        }

        @Override
        public boolean isRecovering() {
            return disk.isRecovering();
        }

        @Override
        public long lastZxid() {
            return disk.lastZxid();
        }

        @Override
        public void close() throws IOException {
            disk.close();
        }
    }

    /** A leader's side of one session: reads with {@code expect}, writes with {@code send}. */
    private final class ScriptedLeader {
        final DataInputStream in;
        final DataOutputStream out;

        ScriptedLeader(Socket socket) throws IOException {
            socket.setSoTimeout(10_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
        }

        QuorumPacket expect(int type) throws IOException {
            QuorumPacket packet = LearnerWire.read(in, 1 << 20);
            assertEquals(LearnerWire.typeName(type), LearnerWire.typeName(packet.type()), packet::toString);
            events.add("leader got " + LearnerWire.typeName(type) + " " + Long.toHexString(packet.zxid()));
            return packet;
        }

        void send(int type, long zxid, byte[] data) throws IOException {
            LearnerWire.write(new QuorumPacket(type, zxid, data), out);
            out.flush();
        }

        /** FOLLOWERINFO, LEADERINFO offering {@code epoch}, ACKEPOCH. */
        void discovery(long epoch) throws IOException {
            expect(LearnerWire.FOLLOWERINFO);
            send(LearnerWire.LEADERINFO, epoch << 32, ByteBuffer.allocate(4).putInt(LearnerWire.PROTOCOL_VERSION)
                    .array());
        }
    }

    private static byte[] txn(long zxid) {
        // TxnHeader {clientId, cxid, zxid, time, type = create} and a few body bytes.
        return ByteBuffer.allocate(40).putLong(1).putInt(1).putLong(zxid).putLong(0).putInt(1).putInt(0).array();
    }

    private interface Script {
        void run(ScriptedLeader leader) throws Exception;
    }

    /** Runs the follower against {@code script}; returns what ended the session. */
    private Throwable follow(LearnerApplication application, long acceptedEpoch, Script script)
            throws Exception {
        try (RecordingDisk disk = new RecordingDisk(FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp))) {
            ApacheFollower follower = new ApacheFollower(3, disk, acceptedEpoch, acceptedEpoch, 0, application,
                    10_000, 10_000);
            lastFollower = follower;
            return session(follower, script);
        }
    }

    /** The follower {@link #follow} ran last. */
    private ApacheFollower lastFollower;

    /** mntr's quorum lines of {@code follower} ({@link ApacheQuorumFigures}). */
    private static Map<String, Object> figures(ApacheFollower follower) {
        Map<String, Object> lines = new java.util.TreeMap<>();
        follower.figures().report(lines::put);
        return lines;
    }

    /** One session of {@code follower} with a scripted leader; returns what ended it. */
    private Throwable session(ApacheFollower follower, Script script) throws Exception {
        AtomicReference<Throwable> leaderFailure = new AtomicReference<>();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread leaderThread = new Thread(() -> {
                try (Socket socket = listener.accept()) {
                    script.run(new ScriptedLeader(socket));
                } catch (Throwable e) {
                    leaderFailure.set(e);
                }
            });
            leaderThread.start();
            Throwable ended = null;
            try {
                follower.followLeader("127.0.0.1", listener.getLocalPort());
            } catch (Throwable e) {
                ended = e;
            }
            leaderThread.join(10_000);
            if (leaderFailure.get() != null) {
                throw new AssertionError("the scripted leader failed", leaderFailure.get());
            }
            return ended;
        }
    }

    private int before(String first, String second) {
        int a = events.indexOf(first);
        int b = events.indexOf(second);
        assertTrue(a >= 0 && b >= 0 && a < b, () -> first + " before " + second + " in " + events);
        return b;
    }

    @Test
    void everyAnswerToTheLeaderFollowsWhatItVouchesForOnDisk() throws Exception {
        List<Long> applied = new CopyOnWriteArrayList<>();
        AtomicReference<byte[]> pingReply = new AtomicReference<>();
        LearnerApplication application = new LearnerApplication() {
            @Override
            public void onSnapshot(long zxid, byte[] apacheSnapshot) {
            }

            @Override
            public void onCommit(long zxid, byte[] txn) {
                applied.add(zxid);
            }

            @Override
            public Map<Long, Integer> touches() {
                return Map.of(0x77L, 30_000);
            }
        };
        Throwable ended = follow(application, 0, leader -> {
            leader.discovery(EPOCH);
            QuorumPacket ackEpoch = leader.expect(LearnerWire.ACKEPOCH);
            assertEquals(0, ByteBuffer.wrap(ackEpoch.data()).getInt(), "its currentEpoch");
            leader.send(LearnerWire.DIFF, 0, null);
            leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 1, txn(NEW_LEADER_ZXID + 1));
            leader.send(LearnerWire.COMMIT, NEW_LEADER_ZXID + 1, null);
            leader.send(LearnerWire.NEWLEADER, NEW_LEADER_ZXID, null);
            leader.expect(LearnerWire.ACK);
            leader.send(LearnerWire.UPTODATE, -1, null);
            leader.expect(LearnerWire.ACK);
            leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 2, txn(NEW_LEADER_ZXID + 2));
            assertEquals(NEW_LEADER_ZXID + 2, leader.expect(LearnerWire.ACK).zxid());
            leader.send(LearnerWire.COMMIT, NEW_LEADER_ZXID + 2, null);
            leader.send(LearnerWire.PING, 9, null);
            pingReply.set(leader.expect(LearnerWire.PING).data());
        });
        assertTrue(ended instanceof IOException, "the session ends when the leader goes: " + ended);
        before("acceptedEpoch 2", "leader got ACKEPOCH 0");
        before("append 200000001", "sync");
        int synced = before("sync", "currentEpoch 2");
        assertTrue(synced < events.indexOf("leader got ACK 200000000"), "currentEpoch before the NEWLEADER ack");
        before("currentEpoch 2", "leader got ACK 200000000");
        int proposalSync = events.lastIndexOf("sync");
        before("append 200000002", "leader got ACK 200000002");
        assertTrue(proposalSync < events.indexOf("leader got ACK 200000002"), "fsync before the proposal's ACK");
        assertEquals(List.of(NEW_LEADER_ZXID + 1, NEW_LEADER_ZXID + 2), applied);
        assertEquals(12, pingReply.get().length, "one touched session: id and timeout");
        assertEquals(0x77L, ByteBuffer.wrap(pingReply.get()).getLong());
        // Apache's Follower.processPacket counts the broadcast's PROPOSAL and COMMIT, not the sync's; its
        // followLeader records the sync's time once.
        Map<String, Object> figures = figures(lastFollower);
        assertEquals(1L, figures.get("zk_learner_proposal_received_count"), figures::toString);
        assertEquals(1L, figures.get("zk_learner_commit_received_count"), figures::toString);
        assertEquals(1L, figures.get("zk_cnt_follower_sync_time"), figures::toString);
        assertEquals(0L, figures.get("zk_proposal_count"), figures::toString);
    }

    /**
     * Apache's Observer: OBSERVERINFO, the same epoch handshake, then only NEWLEADER and UPTODATE acknowledged. A
     * commit while syncing (PROPOSAL and COMMIT) and every INFORM are applied; a proposal without a commit is neither
     * logged nor applied; after the sync a PROPOSAL is ignored without an ACK (the PING answer is the next packet),
     * INFORMANDACTIVATE activates its configuration before the commit, and the informed transactions are fsynced.
     */
    @Test
    void anObserverRegistersAsOneAndAppliesWhatItIsInformedOfWithoutAcknowledgingProposals() throws Exception {
        List<String> applied = new CopyOnWriteArrayList<>();
        LearnerApplication application = new NoApplicationBase() {
            @Override
            public void onCommit(long zxid, byte[] txn) {
                applied.add("commit " + Long.toHexString(zxid));
            }

            @Override
            public boolean onActivate(byte[] config, long designatedLeader) {
                applied.add("activate " + new String(config, java.nio.charset.StandardCharsets.UTF_8) + " leader "
                        + designatedLeader);
                return false;
            }
        };
        String config = "server.1=127.0.0.1:2888:3888:participant\nversion=200000006";
        Throwable ended;
        ApacheFollower observerRan = null;
        try (RecordingDisk disk = new RecordingDisk(FileZabDisk.open(ZabConfig.of(4, 1, 2, 3, 4), temp))) {
            ApacheFollower observer = new ApacheFollower(4, true, disk, 0, 0, 0, application, 10_000, 10_000);
            observerRan = observer;
            ended = session(observer, leader -> {
                leader.expect(LearnerWire.OBSERVERINFO);
                leader.send(LearnerWire.LEADERINFO, EPOCH << 32, ByteBuffer.allocate(4)
                        .putInt(LearnerWire.PROTOCOL_VERSION).array());
                leader.expect(LearnerWire.ACKEPOCH);
                leader.send(LearnerWire.DIFF, 0, null);
                leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 1, txn(NEW_LEADER_ZXID + 1));
                leader.send(LearnerWire.COMMIT, NEW_LEADER_ZXID + 1, null);
                leader.send(LearnerWire.INFORM, NEW_LEADER_ZXID + 2, txn(NEW_LEADER_ZXID + 2));
                leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 3, txn(NEW_LEADER_ZXID + 3));
                leader.send(LearnerWire.NEWLEADER, NEW_LEADER_ZXID, null);
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.INFORM, NEW_LEADER_ZXID + 4, txn(NEW_LEADER_ZXID + 4));
                leader.send(LearnerWire.UPTODATE, -1, null);
                assertEquals(NEW_LEADER_ZXID, leader.expect(LearnerWire.ACK).zxid(), "UPTODATE's ACK");
                leader.send(LearnerWire.INFORM, NEW_LEADER_ZXID + 5, txn(NEW_LEADER_ZXID + 5));
                leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 7, txn(NEW_LEADER_ZXID + 7));
                byte[] reconfig = reconfigTxn(NEW_LEADER_ZXID + 6, config);
                leader.send(LearnerWire.INFORMANDACTIVATE, NEW_LEADER_ZXID + 6, ByteBuffer.allocate(8 + reconfig.length)
                        .putLong(1).put(reconfig).array());
                pingPong(leader);
            });
        }
        assertTrue(ended instanceof IOException, "the session ends when the leader goes: " + ended);
        assertEquals(List.of("commit 200000001", "commit 200000002", "commit 200000004", "commit 200000005",
                "activate " + config + " leader 1", "commit 200000006"), applied);
        assertFalse(events.contains("append 200000003"), "an uncommitted proposal is not logged: " + events);
        assertFalse(events.contains("append 200000007"), events::toString);
        before("append 200000002", "currentEpoch 2");
        before("currentEpoch 2", "leader got ACK 200000000");
        int lastSync = events.lastIndexOf("sync");
        assertTrue(lastSync > events.indexOf("append 200000006"), "the informed transactions are fsynced: " + events);
        // Apache's Observer.processPacket counts each INFORM after the sync as a commit received (not the sync's,
        // not INFORMANDACTIVATE) and ignores PROPOSAL; its sync is timed as an observer's.
        Map<String, Object> figures = figures(observerRan);
        assertEquals(1L, figures.get("zk_learner_commit_received_count"), figures::toString);
        assertEquals(0L, figures.get("zk_learner_proposal_received_count"), figures::toString);
        assertEquals(0L, figures.get("zk_cnt_follower_sync_time"), figures::toString);
        assertEquals(1L, figures.get("zk_cnt_observer_sync_time"), figures::toString);
    }

    @Test
    void anEpochBelowTheAcceptedOneIsRefusedWithoutTouchingTheDisk() throws Exception {
        Throwable ended = follow(new NoApplication(), 5, leader -> leader.discovery(EPOCH));
        assertTrue(ended instanceof IOException && ended.getMessage().contains("below the accepted epoch"),
                String.valueOf(ended));
        assertFalse(events.stream().anyMatch(e -> e.startsWith("acceptedEpoch")), events::toString);
    }

    @Test
    void anEpochAcceptedBeforeIsAcknowledgedWithMinusOne() throws Exception {
        AtomicReference<Integer> acked = new AtomicReference<>();
        follow(new NoApplication(), EPOCH, leader -> {
            leader.discovery(EPOCH);
            acked.set(ByteBuffer.wrap(leader.expect(LearnerWire.ACKEPOCH).data()).getInt());
        });
        assertEquals(-1, acked.get(), "it cannot count twice towards the epoch's quorum");
    }

    /** Discovery in {@code epoch}, the given first sync packet, NEWLEADER and UPTODATE with their ACKs. */
    private static void syncedBy(ScriptedLeader leader, long epoch, int syncType, long syncZxid) throws IOException {
        leader.discovery(epoch);
        leader.expect(LearnerWire.ACKEPOCH);
        leader.send(syncType, syncZxid, null);
        leader.send(LearnerWire.NEWLEADER, epoch << 32, null);
        leader.expect(LearnerWire.ACK);
        leader.send(LearnerWire.UPTODATE, -1, null);
        leader.expect(LearnerWire.ACK);
    }

    /** A PING round trip: everything the leader sent before it has been handled. */
    private static void pingPong(ScriptedLeader leader) throws IOException {
        leader.send(LearnerWire.PING, 1, null);
        leader.expect(LearnerWire.PING);
    }

    private static final class Applied extends NoApplicationBase {
        final List<Long> zxids = new CopyOnWriteArrayList<>();

        @Override
        public void onCommit(long zxid, byte[] txn) {
            zxids.add(zxid);
        }
    }

    @Test
    void proposalsLoggedButNeverCommittedAreAppliedWhenTheNextLeaderDiffs() throws Exception {
        Applied applied = new Applied();
        try (RecordingDisk disk = new RecordingDisk(FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp))) {
            ApacheFollower follower = new ApacheFollower(3, disk, 0, 0, 0, applied, 10_000, 10_000);
            session(follower, leader -> {
                syncedBy(leader, EPOCH, LearnerWire.DIFF, 0);
                leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 1, txn(NEW_LEADER_ZXID + 1));
                leader.expect(LearnerWire.ACK); // the leader goes before it commits
            });
            assertEquals(List.of(), applied.zxids, "nothing committed yet");
            assertEquals(NEW_LEADER_ZXID + 1, follower.lastLoggedZxid());
            session(follower, leader -> {
                assertEquals(NEW_LEADER_ZXID + 1, leaderSyncs(leader, EPOCH + 1, LearnerWire.DIFF,
                        NEW_LEADER_ZXID + 1));
                pingPong(leader);
            });
            assertEquals(List.of(NEW_LEADER_ZXID + 1), applied.zxids, "the new leader's history holds it");
        }
    }

    @Test
    void aTruncCutsTheProposalsTheLeaderLacksAndAppliesTheOnesItHolds() throws Exception {
        Applied applied = new Applied();
        long nextEpochZxid = (EPOCH + 1) << 32;
        try (RecordingDisk disk = new RecordingDisk(FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp))) {
            ApacheFollower follower = new ApacheFollower(3, disk, 0, 0, 0, applied, 10_000, 10_000);
            session(follower, leader -> {
                syncedBy(leader, EPOCH, LearnerWire.DIFF, 0);
                for (long i = 1; i <= 3; i++) {
                    leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + i, txn(NEW_LEADER_ZXID + i));
                    leader.expect(LearnerWire.ACK);
                }
                leader.send(LearnerWire.COMMIT, NEW_LEADER_ZXID + 1, null);
                pingPong(leader);
            });
            assertEquals(List.of(NEW_LEADER_ZXID + 1), applied.zxids);
            session(follower, leader -> {
                // The next leader holds the second proposal, not the third.
                assertEquals(NEW_LEADER_ZXID + 3, leaderSyncs(leader, EPOCH + 1, LearnerWire.TRUNC,
                        NEW_LEADER_ZXID + 2));
                leader.send(LearnerWire.PROPOSAL, nextEpochZxid + 1, txn(nextEpochZxid + 1));
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.COMMIT, nextEpochZxid + 1, null);
                pingPong(leader);
            });
            assertEquals(List.of(NEW_LEADER_ZXID + 1, NEW_LEADER_ZXID + 2, nextEpochZxid + 1), applied.zxids);
            assertEquals(nextEpochZxid + 1, follower.lastLoggedZxid());
            before("truncate " + Long.toHexString(NEW_LEADER_ZXID + 2), "leader got ACK " + Long.toHexString(
                    nextEpochZxid));
        }
        try (FileZabDisk reopened = FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp)) {
            assertEquals(List.of(NEW_LEADER_ZXID + 1, NEW_LEADER_ZXID + 2, nextEpochZxid + 1),
                    reopened.loaded().log().stream().map(e -> e.zxid()).toList(), "the cut proposal is gone");
        }
    }

    @Test
    void aTruncBelowAnAppliedTransactionIsRefused() throws Exception {
        Applied applied = new Applied();
        try (RecordingDisk disk = new RecordingDisk(FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp))) {
            ApacheFollower follower = new ApacheFollower(3, disk, 0, 0, 0, applied, 10_000, 10_000);
            session(follower, leader -> {
                syncedBy(leader, EPOCH, LearnerWire.DIFF, 0);
                leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 1, txn(NEW_LEADER_ZXID + 1));
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.COMMIT, NEW_LEADER_ZXID + 1, null);
                pingPong(leader);
            });
            Throwable trunc = session(follower, leader -> {
                leader.discovery(EPOCH + 1);
                leader.expect(LearnerWire.ACKEPOCH);
                leader.send(LearnerWire.TRUNC, NEW_LEADER_ZXID, null);
            });
            assertTrue(trunc instanceof IOException && trunc.getMessage().contains("below the applied zxid"),
                    String.valueOf(trunc));
            assertFalse(events.stream().anyMatch(e -> e.startsWith("truncate")), events::toString);
            assertEquals(NEW_LEADER_ZXID + 1, follower.lastLoggedZxid());
        }
    }

    /** As {@link #syncedBy}, returning the last logged zxid the follower reported in ACKEPOCH. */
    private static long leaderSyncs(ScriptedLeader leader, long epoch, int syncType, long syncZxid)
            throws IOException {
        leader.discovery(epoch);
        long reported = leader.expect(LearnerWire.ACKEPOCH).zxid();
        leader.send(syncType, syncZxid, null);
        leader.send(LearnerWire.NEWLEADER, epoch << 32, null);
        leader.expect(LearnerWire.ACK);
        leader.send(LearnerWire.UPTODATE, -1, null);
        leader.expect(LearnerWire.ACK);
        return reported;
    }

    @Test
    void aCommitOfAnUnknownProposalOrAMismatchedTxnZxidEndsTheSession() throws Exception {
        Throwable commit = follow(new NoApplication(), 0, leader -> {
            leader.discovery(EPOCH);
            leader.expect(LearnerWire.ACKEPOCH);
            leader.send(LearnerWire.DIFF, 0, null);
            leader.send(LearnerWire.COMMIT, NEW_LEADER_ZXID + 7, null);
        });
        assertTrue(commit instanceof IOException && commit.getMessage().contains("COMMIT"), String.valueOf(commit));

        Throwable mismatch = follow(new NoApplication(), 0, leader -> {
            leader.discovery(EPOCH);
            leader.expect(LearnerWire.ACKEPOCH);
            leader.send(LearnerWire.DIFF, 0, null);
            leader.send(LearnerWire.PROPOSAL, NEW_LEADER_ZXID + 1, txn(NEW_LEADER_ZXID + 5));
        });
        assertTrue(mismatch instanceof IOException && mismatch.getMessage().contains("carries txn zxid"),
                String.valueOf(mismatch));
    }

    /** A reconfig transaction as Apache's leader proposes it: TxnHeader (type 16), SetDataTxn of /zookeeper/config. */
    private static byte[] reconfigTxn(long zxid, String config) {
        byte[] path = "/zookeeper/config".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] data = config.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return ByteBuffer.allocate(32 + 4 + path.length + 4 + data.length + 4).putLong(7).putInt(3).putLong(zxid)
                .putLong(0).putInt(16).putInt(path.length).put(path).putInt(data.length).put(data).putInt(-1)
                .array();
    }

    /** Records activations and commits in order; {@link #major} is what each activation answers. */
    private final class Activations extends NoApplicationBase {
        volatile boolean major;

        @Override
        public boolean onActivate(byte[] config, long designatedLeader) {
            events.add("activate " + designatedLeader + " " + new String(config,
                    java.nio.charset.StandardCharsets.UTF_8).replace('\n', ' '));
            return major;
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
            events.add("commit " + Long.toHexString(zxid));
        }
    }

    @Test
    void aCommitAndActivateActivatesTheReconfigBeforeItsCommitAndAMajorChangeEndsTheSession() throws Exception {
        Activations application = new Activations();
        String established = "server.1=127.0.0.1:1:2:participant\nserver.3=127.0.0.1:5:6:participant\n"
                + "version=200000000";
        String removed = "server.1=127.0.0.1:1:2:participant\nversion=200000001";
        long reconfig = NEW_LEADER_ZXID + 1;
        try (RecordingDisk disk = new RecordingDisk(FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp))) {
            ApacheFollower follower = new ApacheFollower(3, disk, 0, 0, 0, application, 10_000, 10_000);
            Throwable ended = session(follower, leader -> {
                leader.discovery(EPOCH);
                leader.expect(LearnerWire.ACKEPOCH);
                leader.send(LearnerWire.DIFF, 0, null);
                leader.send(LearnerWire.NEWLEADER, NEW_LEADER_ZXID, established.getBytes(
                        java.nio.charset.StandardCharsets.UTF_8));
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.UPTODATE, -1, null);
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.PROPOSAL, reconfig, reconfigTxn(reconfig, removed));
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.COMMITANDACTIVATE, reconfig, ByteBuffer.allocate(8).putLong(1).array());
                pingPong(leader); // not a major change: the session goes on
                application.major = true;
                leader.send(LearnerWire.PROPOSAL, reconfig + 1, reconfigTxn(reconfig + 1, removed));
                leader.expect(LearnerWire.ACK);
                leader.send(LearnerWire.COMMITANDACTIVATE, reconfig + 1, ByteBuffer.allocate(8).putLong(2).array());
            });
            assertTrue(ended instanceof IOException && ended.getMessage().contains("changes proposed in reconfig"),
                    String.valueOf(ended));
            int activated = events.indexOf("activate -1 " + established.replace('\n', ' '));
            int upToDateAck = events.lastIndexOf("leader got ACK " + Long.toHexString(NEW_LEADER_ZXID));
            assertTrue(activated >= 0 && activated < upToDateAck,
                    "NEWLEADER's configuration is activated at UPTODATE, before its ACK: " + events);
            assertTrue(before("activate 1 " + removed.replace('\n', ' '), "commit " + Long.toHexString(reconfig)) >= 0,
                    "activated before the commit: " + events);
            assertTrue(events.contains("commit " + Long.toHexString(reconfig + 1)),
                    "a major change's reconfig is committed before the session ends: " + events);
        }
    }

    private static class NoApplicationBase implements LearnerApplication {
        @Override
        public void onSnapshot(long zxid, byte[] apacheSnapshot) {
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
        }
    }

    private static final class NoApplication implements LearnerApplication {
        @Override
        public void onSnapshot(long zxid, byte[] apacheSnapshot) {
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
        }
    }
}
