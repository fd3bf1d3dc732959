package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import io.tandem.zk.wire.OpCode;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower's learner master ({@link ObserverMaster}) on real sockets, between a leader scripted in the test and two
 * observers ({@link ApacheFollower}s that observe, as a Tandem observer with observerMasterPort connects): one at the
 * window's start synced by DIFF, one with nothing synced by SNAP of the follower's tree; both informed of each commit
 * the follower learns; their REQUEST, sync and REVALIDATE relayed through the follower's connection and answered back
 * to the one that asked, their session touches on the follower's PING answer, and the om_* figures counted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ObserverMasterTest {
    private static final long EPOCH = 2;
    private static final long Z1 = (EPOCH << 32) | 1;
    private static final long Z2 = (EPOCH << 32) | 2;
    private static final long Z3 = (EPOCH << 32) | 3;

    @TempDir
    Path temp;

    /** What an observer's application saw, in order. */
    private static final class Seen implements LearnerApplication {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        final Map<Long, Integer> touches;

        Seen(Map<Long, Integer> touches) {
            this.touches = touches;
        }

        @Override
        public void onSnapshot(long zxid, byte[] apacheSnapshot) {
            events.add("snap " + Long.toHexString(zxid));
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
            events.add("commit " + Long.toHexString(zxid));
        }

        @Override
        public Map<Long, Integer> touches() {
            return touches;
        }

        @Override
        public void onServing(boolean serving) {
            if (serving) events.add("serving");
        }

        @Override
        public void onRevalidated(long sessionId, boolean valid) {
            events.add("revalidated " + sessionId + " " + valid);
        }

        @Override
        public void onSync() {
            events.add("sync");
        }

        String next() throws InterruptedException {
            String event = events.poll(10, TimeUnit.SECONDS);
            return event == null ? "nothing within 10 s" : event;
        }
    }

    private static byte[] txn(long zxid) {
        // TxnHeader {clientId, cxid, zxid, time, type = create} and a few body bytes.
        return ByteBuffer.allocate(40).putLong(1).putInt(1).putLong(zxid).putLong(1).putInt(1).putInt(0).array();
    }

    /** The smallest SNAP body Apache's learner reads: no sessions, no ACLs, the end marker "/", the signature. */
    private static void emptyTree(DataOutputStream out) throws IOException {
        out.writeInt(0);
        out.writeInt(0);
        out.writeInt(1);
        out.write('/');
        byte[] signature = LearnerWire.SNAPSHOT_SIGNATURE.getBytes(StandardCharsets.UTF_8);
        out.writeInt(signature.length);
        out.write(signature);
    }

    /** The next packet of {@code type}, past PING answers and the ACK of UPTODATE (a zxid of counter 0). */
    /** The test's leader on a follower's connection, past FOLLOWERINFO, LEADERINFO and the follower's ACKEPOCH. */
    private record ScriptedLeader(Socket socket, DataInputStream in, DataOutputStream out) {
        static ScriptedLeader agreeEpoch(ServerSocket leaderSocket) throws IOException {
            Socket socket = leaderSocket.accept();
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
            expect(in, LearnerWire.FOLLOWERINFO);
            send(out, LearnerWire.LEADERINFO, EPOCH << 32, LearnerWire.epochBytes(LearnerWire.PROTOCOL_VERSION));
            expect(in, LearnerWire.ACKEPOCH);
            return new ScriptedLeader(socket, in, out);
        }
    }

    private static QuorumPacket expect(DataInputStream in, int type) throws IOException {
        while (true) {
            QuorumPacket packet = LearnerWire.read(in, 1 << 20);
            boolean uptodateAck = packet.type() == LearnerWire.ACK && (packet.zxid() & 0xffff_ffffL) == 0;
            if (packet.type() == type && !uptodateAck) return packet;
            if (packet.type() != LearnerWire.PING && packet.type() != LearnerWire.ACK) {
                throw new AssertionError("expected " + LearnerWire.typeName(type) + ", got " + packet);
            }
        }
    }

    private static void send(DataOutputStream out, int type, long zxid, byte[] data) throws IOException {
        LearnerWire.write(new QuorumPacket(type, zxid, data), out);
        out.flush();
    }

    private static Thread start(String name, ApacheFollower learner, String host, int port, long retryMs,
                                List<Throwable> ended) {
        Thread thread = new Thread(() -> {
            try {
                learner.followLeader(host, port, retryMs);
            } catch (Throwable e) {
                ended.add(e);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    @Test
    void shouldSyncObserversFromTheFollowersHistoryAndRelayWhatTheySendToTheLeader() throws Exception {
        int masterPort = TestPorts.freePort();
        List<Throwable> ended = new CopyOnWriteArrayList<>();
        ApacheConfig config = ApacheConfig.of(Map.of(
                2L, new ApacheElection.Member(2, "127.0.0.1", 1, 2, 3),
                4L, new ApacheElection.Member(4, "127.0.0.1", 4, 5, 6)), java.util.Set.of(4L));
        Seen followerSeen = new Seen(Map.of(20L, 4_000));
        Seen diffSeen = new Seen(Map.of(77L, 6_000));
        Seen snapSeen = new Seen(Map.of());
        try (FileZabDisk followerDisk = FileZabDisk.open(ZabConfig.of(2, 1, 2), Files.createDirectories(
                temp.resolve("f")));
             FileZabDisk diffDisk = FileZabDisk.open(ZabConfig.of(4, 1, 2, 4), Files.createDirectories(temp.resolve("o")));
             FileZabDisk snapDisk = FileZabDisk.open(ZabConfig.of(5, 1, 2, 5), Files.createDirectories(temp.resolve("s")));
             ServerSocket leaderSocket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ApacheFollower follower = new ApacheFollower(2, followerDisk, 1, 1, 0, followerSeen, 5_000, 5_000);
            follower.serveObservers(new ObserverMaster.Settings("127.0.0.1", masterPort, 100,
                    () -> new LeaderApplication.SyncSnapshot(Z1, ObserverMasterTest::emptyTree), () -> config));
            start("follower", follower, "127.0.0.1", leaderSocket.getLocalPort(), 100, ended);
            ScriptedLeader scripted = ScriptedLeader.agreeEpoch(leaderSocket);
            Socket leader = scripted.socket();
            DataInputStream in = scripted.in();
            DataOutputStream out = scripted.out();
            send(out, LearnerWire.DIFF, Z1, null);
            send(out, LearnerWire.PROPOSAL, Z1, txn(Z1));
            send(out, LearnerWire.COMMIT, Z1, null);
            send(out, LearnerWire.NEWLEADER, EPOCH << 32, null);
            QuorumPacket newLeaderAck = LearnerWire.read(in, 1 << 20);
            assertEquals(LearnerWire.ACK, newLeaderAck.type(), newLeaderAck::toString);
            send(out, LearnerWire.UPTODATE, -1, null);
            assertEquals("commit " + Long.toHexString(Z1), followerSeen.next());
            assertEquals("serving", followerSeen.next());
            send(out, LearnerWire.PROPOSAL, Z2, txn(Z2));
            assertEquals(Z2, expect(in, LearnerWire.ACK).zxid());
            send(out, LearnerWire.COMMIT, Z2, null);
            assertEquals("commit " + Long.toHexString(Z2), followerSeen.next());

            // An observer at the window's start (the follower's commit when it synced) gets a DIFF and the INFORM
            // of what committed since; one with nothing gets a SNAP of the follower's tree and the same INFORM.
            ApacheFollower diffObserver = new ApacheFollower(4, true, diffDisk, 1, 1, Z1, diffSeen, 5_000, 5_000);
            diffObserver.restoreLogged(Z1, List.of());
            start("diff-observer", diffObserver, "127.0.0.1", masterPort, 100, ended);
            assertEquals("commit " + Long.toHexString(Z2), diffSeen.next(), ended::toString);
            assertEquals("serving", diffSeen.next());
            ApacheFollower snapObserver = new ApacheFollower(5, true, snapDisk, 0, 0, 0, snapSeen, 5_000, 5_000);
            start("snap-observer", snapObserver, "127.0.0.1", masterPort, 100, ended);
            assertEquals("snap " + Long.toHexString(Z1), snapSeen.next(), ended::toString);
            assertEquals("commit " + Long.toHexString(Z2), snapSeen.next());
            assertEquals("serving", snapSeen.next());

            // A commit the follower learns reaches both as INFORM.
            send(out, LearnerWire.PROPOSAL, Z3, txn(Z3));
            assertEquals(Z3, expect(in, LearnerWire.ACK).zxid());
            send(out, LearnerWire.COMMIT, Z3, null);
            assertEquals("commit " + Long.toHexString(Z3), followerSeen.next());
            assertEquals("commit " + Long.toHexString(Z3), diffSeen.next());
            assertEquals("commit " + Long.toHexString(Z3), snapSeen.next());

            // The observer's write goes up as it came; syncs are answered to whoever asked, in order.
            byte[] body = {1, 2, 3};
            assertTrue(diffObserver.forward(0x55, 7, OpCode.CREATE, body, List.of()));
            ByteBuffer request = ByteBuffer.wrap(expect(in, LearnerWire.REQUEST).data());
            assertEquals(0x55, request.getLong());
            assertEquals(7, request.getInt());
            assertEquals(OpCode.CREATE, request.getInt());
            assertTrue(follower.forward(0x20, 1, OpCode.SYNC, new byte[0], List.of()));
            assertEquals(0x20, ByteBuffer.wrap(expect(in, LearnerWire.REQUEST).data()).getLong());
            assertTrue(snapObserver.forward(0x66, 2, OpCode.SYNC, new byte[0], List.of()));
            assertEquals(0x66, ByteBuffer.wrap(expect(in, LearnerWire.REQUEST).data()).getLong());
            send(out, LearnerWire.SYNC, 0, null);
            assertEquals("sync", followerSeen.next());
            send(out, LearnerWire.SYNC, 0, null);
            assertEquals("sync", snapSeen.next());

            // A revalidation goes up and its answer back to the observer that asked.
            assertTrue(diffObserver.revalidate(0x77, 6_000));
            assertEquals(0x77, ByteBuffer.wrap(expect(in, LearnerWire.REVALIDATE).data()).getLong());
            send(out, LearnerWire.REVALIDATE, -1, ByteBuffer.allocate(9).putLong(0x77).put((byte) 1).array());
            assertEquals("revalidated 119 true", diffSeen.next());

            // The observers' sessions, touched on the master's PINGs, ride on the follower's PING answer.
            boolean touched = false;
            for (int attempt = 0; attempt < 50 && !touched; attempt++) {
                send(out, LearnerWire.PING, Z3, null);
                QuorumPacket answer = expect(in, LearnerWire.PING);
                ByteBuffer touches = ByteBuffer.wrap(answer.data());
                while (touches.remaining() >= 12) {
                    long session = touches.getLong();
                    int timeout = touches.getInt();
                    if (session == 77 && timeout == 6_000) touched = true;
                }
                Thread.sleep(50);
            }
            assertTrue(touched, "the observer's session 77 on the follower's PING answer");

            Map<String, Object> figures = new java.util.TreeMap<>();
            follower.figures().report(figures::put);
            assertEquals(2L, figures.get("zk_cnt_om_proposal_process_time_ms"), figures::toString);
            assertEquals(2L, figures.get("zk_cnt_om_commit_process_time_ms"), figures::toString);
            assertEquals(1L, figures.get("zk_diff_count"), figures::toString);
            assertEquals(1L, figures.get("zk_snap_count"), figures::toString);
            assertEquals(2, follower.observersInfo().size());
            assertEquals(List.of(), ended);
            leader.close();
            follower.close();
        }
    }

    /**
     * Apache 3.9's Follower.followLeader starts its ObserverMaster right after the sync, inside the try that ends the
     * following: a taken observerMasterPort throws out of ObserverMaster.start, the follower closes its connection to
     * the leader and its peer goes back to the election. A Tandem follower does the same rather than following on
     * without the learner master its configuration names.
     */
    @Test
    void shouldEndTheSessionWhenTheObserverMasterPortCannotBeBound() throws Exception {
        List<Throwable> ended = new CopyOnWriteArrayList<>();
        Seen followerSeen = new Seen(Map.of());
        try (FileZabDisk followerDisk = FileZabDisk.open(ZabConfig.of(2, 1, 2), Files.createDirectories(
                temp.resolve("f")));
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
             ServerSocket leaderSocket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // syncLimit far beyond the wait below: the session must end by the bind, not by the leader's silence.
            ApacheFollower follower = new ApacheFollower(2, followerDisk, 1, 1, 0, followerSeen, 5_000, 60_000);
            follower.serveObservers(new ObserverMaster.Settings("127.0.0.1", taken.getLocalPort(), 100,
                    () -> new LeaderApplication.SyncSnapshot(0, ObserverMasterTest::emptyTree),
                    () -> ApacheConfig.of(Map.of(2L, new ApacheElection.Member(2, "127.0.0.1", 1, 2, 3)),
                            java.util.Set.of())));
            Thread following = start("follower", follower, "127.0.0.1", leaderSocket.getLocalPort(), 100, ended);
            ScriptedLeader scripted = ScriptedLeader.agreeEpoch(leaderSocket);
            Socket leader = scripted.socket();
            DataInputStream in = scripted.in();
            DataOutputStream out = scripted.out();
            send(out, LearnerWire.DIFF, 0, null);
            send(out, LearnerWire.NEWLEADER, EPOCH << 32, null);
            assertEquals(LearnerWire.ACK, LearnerWire.read(in, 1 << 20).type());
            send(out, LearnerWire.UPTODATE, -1, null);
            assertEquals("serving", followerSeen.next());

            // The session ends by itself: the leader's connection closes after the UPTODATE's ACK.
            following.join(10_000);
            assertEquals(1, ended.size(), () -> "the session still runs: " + ended);
            assertTrue(ended.get(0) instanceof IOException, ended::toString);
            assertTrue(ended.get(0).getMessage().contains("observerMasterPort"), ended::toString);
            boolean closed = false;
            try {
                while (true) LearnerWire.read(in, 1 << 20); // the ACK of UPTODATE, maybe a PING answer, then EOF
            } catch (java.io.EOFException e) {
                closed = true;
            }
            assertTrue(closed, "the follower closed its connection to the leader");
            assertEquals(null, follower.observersInfo(), "no learner master runs");
            leader.close();
        }
    }
}
