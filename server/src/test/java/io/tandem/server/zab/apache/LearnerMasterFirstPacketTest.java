package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import io.tandem.server.zab.FileZabDisk;
import io.tandem.server.zab.ZabConfig;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's quorum port in Apache mode (Apache's LearnerHandler side) before a connection has named itself: its
 * first packet must be a FOLLOWERINFO or OBSERVERINFO, a 20-byte LearnerInfo, so nothing larger is buffered for a
 * peer nobody knows yet (issue 12: "nothing larger than a hello frame is buffered before the peer is identified").
 * A real {@link ApacheLeader} waits for its quorum on a real socket; the test is the stranger, and then a learner.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LearnerMasterFirstPacketTest {
    /**
     * initLimit is 20 s: the leader waits that long for a quorum and reads a connection's first packet that long, so
     * a stranger still open after the 5 s a check waits was not closed for its packet's size.
     */
    private static final int TICK_MS = 2_000;
    private static final int INIT_LIMIT = 10;

    @TempDir
    Path temp;
    private FileZabDisk disk;
    private ApacheLeader leader;
    private Thread leading;
    private int quorumPort;

    /** The member's side of the leadership; this test looks only at what reaches the quorum port before a sync. */
    private static final class QuietApplication implements LeaderApplication {
        @Override
        public void onCommit(long zxid, byte[] txn) {
        }

        @Override
        public void onLeading(ApacheLeader leader, boolean established) {
        }

        @Override
        public void onRequest(long learnerSid, long sessionId, int cxid, int type, byte[] body,
                              List<LearnerWire.Id> auth) {
        }

        @Override
        public void onRevalidate(long learnerSid, long sessionId, int timeoutMs) {
        }

        @Override
        public void onTouches(Map<Long, Integer> touches) {
        }

        @Override
        public SyncSnapshot snapshot() {
            throw new IllegalStateException("no sync in this test");
        }
    }

    @BeforeEach
    void lead() throws Exception {
        quorumPort = TestPorts.freePort();
        ApacheConfig config = ApacheConfig.of(Map.of(
                1L, new ApacheElection.Member(1, "127.0.0.1", quorumPort, TestPorts.freePort(), TestPorts.freePort()),
                2L, new ApacheElection.Member(2, "127.0.0.1", TestPorts.freePort(), TestPorts.freePort(),
                        TestPorts.freePort()),
                3L, new ApacheElection.Member(3, "127.0.0.1", TestPorts.freePort(), TestPorts.freePort(),
                        TestPorts.freePort())));
        disk = FileZabDisk.open(ZabConfig.of(1, 1, 2, 3), Files.createDirectories(temp.resolve("leader")));
        leader = new ApacheLeader(1, config, config, disk, new QuietApplication(), TICK_MS, INIT_LIMIT, 5, 0,
                List.of());
        leading = new Thread(() -> {
            try {
                leader.lead("127.0.0.1", quorumPort, 0, 0);
            } catch (Exception e) {
                // the leadership ends with the test
            }
        }, "test-leader");
        leading.setDaemon(true);
        leading.start();
    }

    @AfterEach
    void stop() throws Exception {
        leader.close();
        leading.join(10_000);
        disk.close();
    }

    private Socket connect() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                Socket socket = new Socket("127.0.0.1", quorumPort);
                socket.setSoTimeout(5_000);
                return socket;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(50);
            }
        }
    }

    /** True when the leader closes the connection within the socket's timeout (5 s). */
    private static boolean closedByLeader(Socket socket) throws IOException {
        return PeerClose.within(socket, 5_000);
    }

    @Test
    void shouldCloseAStrangerWhoseFirstPacketIsLargerThanALearnerInfo() throws Exception {
        try (Socket stranger = connect()) {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stranger.getOutputStream()));
            out.writeInt(LearnerWire.FOLLOWERINFO);
            out.writeLong(0);
            out.writeInt(8 << 20); // a data field of 8 MiB announced; the leader must not wait to buffer it
            out.write(new byte[64 << 10]);
            out.flush();
            assertTrue(closedByLeader(stranger), "the leader kept reading a first packet of 8 MiB from a stranger");
        }
    }

    @Test
    void shouldCloseAStrangerWhoseFirstPacketCarriesLargeAuthIds() throws Exception {
        try (Socket stranger = connect()) {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stranger.getOutputStream()));
            out.writeInt(LearnerWire.FOLLOWERINFO);
            out.writeLong(0);
            byte[] info = LearnerWire.learnerInfo(2, 0);
            out.writeInt(info.length);
            out.write(info);
            out.writeInt(1_024);
            out.writeInt(6);
            out.writeBytes("digest");
            out.writeInt(4 << 20);
            out.write(new byte[64 << 10]);
            out.flush();
            assertTrue(closedByLeader(stranger), "the leader kept reading 4 MiB auth ids of a first packet");
        }
    }

    @Test
    void shouldAnswerAWellFormedFollowerInfoWithLeaderInfo() throws Exception {
        try (Socket learner = connect()) {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(learner.getOutputStream()));
            LearnerWire.write(new QuorumPacket(LearnerWire.FOLLOWERINFO, 0, LearnerWire.learnerInfo(2, 0)), out);
            out.flush();
            QuorumPacket answer = LearnerWire.read(new DataInputStream(learner.getInputStream()), 1 << 20);
            assertEquals(LearnerWire.LEADERINFO, answer.type(), answer::toString);
        }
    }
}
