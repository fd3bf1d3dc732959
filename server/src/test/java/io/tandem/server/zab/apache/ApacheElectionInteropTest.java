package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void tandemAndTwoApacheServersStartedTogetherAllChooseTheHighestSid() throws Exception {
        Ports tandem = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports apache3 = Ports.fresh(3);
        Map<Long, ApacheElection.Member> members = ApacheQuorumProcess.members(tandem, apache2, apache3);
        try (ApacheElection election = new ApacheElection(1, members).start();
             ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apache2, tandem, apache2, apache3);
             ApacheQuorumProcess three = ApacheQuorumProcess.start(temp.resolve("3"), apache3, tandem, apache2,
                     apache3)) {
            Vote vote = election.lookForLeader(0, 0).get(DECISION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(3, vote.leader(), "equal zxids and epochs: the highest sid leads");
            assertEquals(ServerState.FOLLOWING, vote.state());
            assertTrue(ApacheQuorumProcess.await(() -> three.mode().equals("leader")
                    && two.mode().equals("follower"), DECISION_TIMEOUT_MS),
                    () -> "Apache 3: " + three.mode() + ", Apache 2: " + two.mode() + "\n" + three.logTail());
        }
    }

    @Test
    void anApacheServerWhoseOtherPeerIsDownIsElectedWithTandemsVote() throws Exception {
        // server.3 is configured but never started: Apache 2 reaches a quorum only by counting Tandem's vote.
        Ports tandem = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports absent = Ports.fresh(3);
        Map<Long, ApacheElection.Member> members = ApacheQuorumProcess.members(tandem, apache2, absent);
        try (ApacheElection election = new ApacheElection(1, members).start();
             ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apache2, tandem, apache2,
                     absent)) {
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
        Ports apache1 = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports tandem = Ports.fresh(3);
        Map<Long, ApacheElection.Member> members = ApacheQuorumProcess.members(apache1, apache2, tandem);
        // Tandem's quorum port, held by the test: each Apache member that elected Tandem dials it as a learner and
        // introduces itself with a FOLLOWERINFO packet carrying its sid.
        try (ServerSocket quorumPort = new ServerSocket(tandem.quorumPort(), 10, InetAddress.getLoopbackAddress());
             ApacheElection election = new ApacheElection(3, members).start();
             ApacheQuorumProcess one = ApacheQuorumProcess.start(temp.resolve("1"), apache1, apache1, apache2, tandem);
             ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apache2, apache1, apache2,
                     tandem)) {
            Vote vote = election.lookForLeader(0, 0).get(DECISION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(3, vote.leader());
            assertEquals(ServerState.LEADING, vote.state());
            quorumPort.setSoTimeout((int) DECISION_TIMEOUT_MS);
            List<Long> learners = new ArrayList<>();
            while (!(learners.contains(1L) && learners.contains(2L))) {
                try (Socket learner = quorumPort.accept()) {
                    learner.setSoTimeout(10_000);
                    learners.add(followerInfoSid(new DataInputStream(learner.getInputStream())));
                }
            }
        }
    }

    @Test
    void aTandemMemberJoiningARunningApacheEnsembleFollowsItsLeaderDespiteItsHigherSid() throws Exception {
        Ports apache1 = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports tandem = Ports.fresh(3);
        Map<Long, ApacheElection.Member> members = ApacheQuorumProcess.members(apache1, apache2, tandem);
        try (ApacheQuorumProcess one = ApacheQuorumProcess.start(temp.resolve("1"), apache1, apache1, apache2, tandem);
             ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apache2, apache1, apache2,
                     tandem)) {
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
        Ports apache1 = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports tandem = Ports.fresh(3);
        Map<Long, ApacheElection.Member> members = ApacheQuorumProcess.members(apache1, apache2, tandem);
        // A first life of the Apache pair gives both an epoch and a zxid above Tandem's empty history.
        try (ApacheQuorumProcess one = ApacheQuorumProcess.start(temp.resolve("1"), apache1, apache1, apache2, tandem);
             ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apache2, apache1, apache2,
                     tandem)) {
            assertTrue(ApacheQuorumProcess.await(() -> one.mode().equals("follower") || one.mode().equals("leader"),
                    DECISION_TIMEOUT_MS), one::logTail);
            try (ZooKeeper client = new ZooKeeper("127.0.0.1:" + apache1.clientPort(), 30_000, event -> { })) {
                assertTrue(ApacheQuorumProcess.await(() -> client.getState().isConnected(), DECISION_TIMEOUT_MS));
                client.create("/history", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        // All three start together: the votes for Apache 2 (epoch 1, higher zxid) beat Tandem's (epoch 0, sid 3).
        try (ApacheElection election = new ApacheElection(3, members).start();
             ApacheQuorumProcess one = ApacheQuorumProcess.start(temp.resolve("1"), apache1, apache1, apache2, tandem);
             ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apache2, apache1, apache2,
                     tandem)) {
            Vote vote = election.lookForLeader(0, 0).get(DECISION_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(2, vote.leader());
            assertEquals(ServerState.FOLLOWING, vote.state());
            assertTrue(vote.peerEpoch() >= 1 && vote.zxid() > 0, vote::toString);
            assertTrue(ApacheQuorumProcess.await(() -> two.mode().equals("leader"), DECISION_TIMEOUT_MS),
                    two::logTail);
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
