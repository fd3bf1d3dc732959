package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.ElectionWire.ServerState;
import io.tandem.server.zab.apache.FastLeaderElection.Vote;
import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stage 1 of Apache quorum interop (issue 14 section 4): a Tandem member runs Apache's fast leader election on its
 * election port with real Apache ZooKeeper 3.9.5 processes, and all agree on one leader. Apache's side of each
 * agreement is read from Apache itself: {@code srvr}'s mode, its log's state changes, or the learner connection it
 * opens to the leader it chose.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ApacheElectionInteropTest {
    private static final long DECISION_TIMEOUT_MS = 60_000;

    @TempDir
    Path temp;

    @Test
    void tandemAndTwoApacheServersStartedTogetherAgreeOnOneApacheLeader() throws Exception {
        // Whoever of 2 and 3 gathers a quorum first (Tandem's vote may be part of it) leads; Tandem (sid 1, equal
        // history) never must. Tandem follows the leader, so a quorum that needed its vote holds.
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 1);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        try (FileZabDisk disk = FileZabDisk.open(ZabConfig.of(1, 1, 2, 3), temp.resolve("tandem"));
             ApacheQuorumPeer peer = new ApacheQuorumPeer(1, members, disk, 0, 0, 0, new Ignore(),
                     ApacheQuorumProcess.TICK_TIME_MS, 10, 5).start();
             ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3)) {
            assertTrue(ApacheQuorumProcess.await(() -> agree(peer, two, three), DECISION_TIMEOUT_MS),
                    () -> "Tandem follows " + peer.leaderId() + " (serving " + peer.isServing() + "), Apache 2: "
                            + two.mode() + ", Apache 3: " + three.mode());
        }
    }

    /** Tandem serves under the one Apache member that says leader, and the other says follower. */
    private static boolean agree(ApacheQuorumPeer peer, ApacheQuorumProcess a, ApacheQuorumProcess b) {
        String modeA = a.mode();
        String modeB = b.mode();
        long leader = modeA.equals("leader") ? a.ports.sid() : modeB.equals("leader") ? b.ports.sid() : -1;
        boolean otherFollows = modeA.equals("follower") || modeB.equals("follower");
        return leader != -1 && otherFollows && peer.isServing() && peer.leaderId() == leader;
    }

    /** Tandem's applied state is not what these tests look at. */
    private static final class Ignore implements LearnerApplication {
        @Override
        public void onSnapshot(long zxid, byte[] apacheSnapshot) {
        }

        @Override
        public void onCommit(long zxid, byte[] txn) {
        }
    }

    @Test
    void anApacheServerWhoseOtherPeerIsDownIsElectedWithTandemsVote() throws Exception {
        // server.3 is configured but never started: Apache 2 reaches a quorum only by counting Tandem's vote.
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 1);
        Ports apache2 = ensemble.ports(2);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        try (ApacheElection election = new ApacheElection(1, members).start();
             ApacheQuorumProcess two = ensemble.startApache(2)) {
            Vote vote = election.lookForLeader(0, 0).get(DECISION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(2, vote.leader());
            assertEquals(ServerState.FOLLOWING, vote.state());
            // Only a leader binds its quorum port (Apache's followers dial out from theirs).
            assertTrue(ApacheQuorumProcess.await(() -> accepts(apache2.quorumPort()), DECISION_TIMEOUT_MS),
                    two::logTail);
        }
    }

    @Test
    void apacheServersFollowATandemMemberWithTheHighestSid() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 3);
        Ports tandem = ensemble.ports(3);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        // Tandem's quorum port, held by the test: each Apache member that elected Tandem dials it as a learner and
        // introduces itself with a FOLLOWERINFO packet carrying its sid.
        try (ServerSocket quorumPort = new ServerSocket(tandem.quorumPort(), 10, InetAddress.getLoopbackAddress());
             ApacheElection election = new ApacheElection(3, members).start();
             ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess two = ensemble.startApache(2)) {
            Vote vote = election.lookForLeader(0, 0).get(DECISION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(3, vote.leader());
            assertEquals(ServerState.LEADING, vote.state());
            quorumPort.setSoTimeout((int) DECISION_TIMEOUT_MS);
            // Accepted learners stay connected (waiting for LEADERINFO within initLimit): one closed at once would
            // look again, and with a member that started late under load elect an Apache leader instead.
            List<Long> learners = new ArrayList<>();
            List<Socket> open = new ArrayList<>();
            try {
                while (!(learners.contains(1L) && learners.contains(2L))) {
                    Socket learner = quorumPort.accept();
                    open.add(learner);
                    learner.setSoTimeout(10_000);
                    learners.add(followerInfoSid(new DataInputStream(learner.getInputStream())));
                }
            } finally {
                for (Socket learner : open) {
                    learner.close();
                }
            }
        }
    }

    @Test
    void aTandemMemberJoiningARunningApacheEnsembleFollowsItsLeaderDespiteItsHigherSid() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 3);
        Ports apache1 = ensemble.ports(1);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        try (ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess two = ensemble.startApache(2)) {
            assertTrue(ApacheQuorumProcess.await(() -> two.mode().equals("leader") && one.mode().equals("follower"),
                    DECISION_TIMEOUT_MS), () -> "Apache 1: " + one.mode() + ", Apache 2: " + two.mode());
            try (ZooKeeper client = new ZooKeeper("127.0.0.1:" + apache1.clientPort(), 30_000, event -> { })) {
                assertTrue(ApacheQuorumProcess.await(() -> client.getState().isConnected(), DECISION_TIMEOUT_MS));
                client.create("/written-before-tandem", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            try (ApacheElection election = new ApacheElection(3, members).start()) {
                Vote vote = election.lookForLeader(0, 0).get(DECISION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                assertEquals(2, vote.leader(), "a running leader's FOLLOWING/LEADING quorum wins over any vote");
                assertEquals(ServerState.FOLLOWING, vote.state());
                assertEquals("leader", two.mode());
            }
        }
    }

    @Test
    void apacheServersWithAHigherEpochAndZxidWinOverATandemMemberWithTheHighestSid() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheDefaults(temp, 3);
        Ports apache1 = ensemble.ports(1);
        Map<Long, ApacheElection.Member> members = ensemble.members();
        // A first life of the Apache pair gives both an epoch and a zxid above Tandem's empty history.
        try (ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess two = ensemble.startApache(2)) {
            assertTrue(ApacheQuorumProcess.await(() -> one.mode().equals("follower") || one.mode().equals("leader"),
                    DECISION_TIMEOUT_MS), one::logTail);
            try (ZooKeeper client = new ZooKeeper("127.0.0.1:" + apache1.clientPort(), 30_000, event -> { })) {
                assertTrue(ApacheQuorumProcess.await(() -> client.getState().isConnected(), DECISION_TIMEOUT_MS));
                client.create("/history", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        // All three start together: a vote for Apache 1 or 2 (epoch 1, a zxid above 0) beats Tandem's (epoch 0, sid
        // 3), so an Apache member leads and Tandem follows it, whichever of the two gathered a quorum first.
        try (FileZabDisk disk = FileZabDisk.open(ZabConfig.of(3, 1, 2, 3), temp.resolve("tandem"));
             ApacheQuorumPeer peer = new ApacheQuorumPeer(3, members, disk, 0, 0, 0, new Ignore(),
                     ApacheQuorumProcess.TICK_TIME_MS, 10, 5).start();
             ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess two = ensemble.startApache(2)) {
            assertTrue(ApacheQuorumProcess.await(() -> agree(peer, one, two), DECISION_TIMEOUT_MS),
                    () -> "Tandem follows " + peer.leaderId() + " (serving " + peer.isServing() + "), Apache 1: "
                            + one.mode() + ", Apache 2: " + two.mode());
            assertTrue(peer.follower().currentEpoch() >= 2, "a new epoch above the first life's");
        }
    }

    /**
     * Reads the first packet an Apache learner sends its leader (a jute QuorumPacket: int type, long zxid, buffer
     * data, vector of ids) and returns the sid from its LearnerInfo; the type must be FOLLOWERINFO (11).
     */
    private static long followerInfoSid(DataInputStream in) throws java.io.IOException {
        int type = in.readInt();
        assertEquals(11, type, "FOLLOWERINFO");
        in.readLong(); // zxid: the learner's accepted epoch, shifted
        int length = in.readInt();
        assertTrue(length >= 8, "LearnerInfo of " + length + " bytes");
        return in.readLong();
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1_000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
