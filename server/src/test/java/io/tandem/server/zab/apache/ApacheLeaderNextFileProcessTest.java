package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ReconfigChecks.assertSameConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import io.tandem.server.zab.apache.FastLeaderElection.Vote;
import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: the last seen configuration of a Tandem member leading Apache ZooKeeper 3.9.5 servers, as Apache's
 * QuorumPeer.setLastSeenQuorumVerifier(qv, true) keeps it on its leader: at the start of a leadership (Leader.lead
 * versions the static configuration with the new epoch's first zxid and writes {@code zoo.cfg.dynamic.next}, which
 * the activation once NEWLEADER is acknowledged deletes), and for a reconfig it proposed and has not committed (its
 * election then needs a quorum of the pending configuration's voters too, as Apache's getVoteTracker).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheLeaderNextFileProcessTest {
    /** The election rounds that pass before the check that nobody was elected without the pending quorum. */
    private static final int ELECTION_ROUNDS = 3;

    @TempDir
    Path temp;

    /** What a leader left beside its zoo.cfg: before NEWLEADER was acknowledged, and after. */
    private record LeftFiles(String next, List<String> pending, List<String> established) {
    }

    /**
     * Member 3 leads a learner scripted here as member 1 (member 2 never runs), first as Apache's QuorumPeerMain,
     * then as Tandem on the same ports: between the epoch and the NEWLEADER acknowledgement both hold the same
     * {@code zoo.cfg.dynamic.next} (the members and the epoch's version) and no dynamic file yet; once acknowledged
     * both hold {@code zoo.cfg.dynamic.<version>}, the rewritten zoo.cfg and its backup, and no next file.
     */
    @Test
    void aTandemLeaderWritesAndDeletesTheNextFileAsApachesLeaderDoes() throws Exception {
        List<String> shared = List.of("reconfigEnabled=true");
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, shared);
        LeftFiles apache;
        try (ApacheQuorumProcess three = ensemble.startApache(3)) {
            apache = leadScriptedLearner(ensemble, temp.resolve("3").resolve("zoo.cfg"), three::logTail);
        }
        Path zooCfg = ApacheConfigFilesProcessTest.writeZooCfg(ensemble, shared);
        Path log = temp.resolve("tandem.log");
        Process tandem = ApacheConfigFilesProcessTest.startTandem(zooCfg, log);
        LeftFiles ours;
        try {
            ours = leadScriptedLearner(ensemble, zooCfg, () -> ApacheQuorumProcess.tail(log, 60));
        } finally {
            tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(apache.next().contains("version=100000000"), apache.next());
        assertEquals(apache, ours);
    }

    /** Elects member 3 with a vote from member 1, syncs as member 1 and acknowledges NEWLEADER late. */
    private static LeftFiles leadScriptedLearner(MixedEnsemble ensemble, Path zooCfg, Supplier<String> leaderLog)
            throws Exception {
        Path next = Path.of(zooCfg + ".dynamic.next");
        try (ApacheElection election = new ApacheElection(1, ensemble.members()).start()) {
            Vote vote = election.lookForLeader(0, 0).get(ZkClients.TIMEOUT_MS, TimeUnit.MILLISECONDS);
            assertEquals(3, vote.leader(), leaderLog);
            Ports leader = ensemble.ports(3);
            Socket socket = null;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ZkClients.TIMEOUT_MS);
            while (socket == null) {
                try {
                    socket = new Socket("127.0.0.1", leader.quorumPort());
                } catch (java.io.IOException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(50);
                }
            }
            try (Socket s = socket) {
                s.setSoTimeout(30_000);
                DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
                DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                send(out, new QuorumPacket(LearnerWire.FOLLOWERINFO, 0, LearnerWire.learnerInfo(1, 0)));
                QuorumPacket info = LearnerWire.read(in, 1 << 20);
                assertEquals(LearnerWire.LEADERINFO, info.type(), info.toString());
                send(out, new QuorumPacket(LearnerWire.ACKEPOCH, 0, LearnerWire.epochBytes(0)));
                QuorumPacket packet;
                do {
                    packet = LearnerWire.read(in, 1 << 20);
                    if (packet.type() == LearnerWire.SNAP) LearnerWire.readSnapshot(in, 1 << 20, 1 << 24);
                } while (packet.type() != LearnerWire.NEWLEADER);
                // The leader waits initLimit (10 s) for this acknowledgement: the next file is on disk meanwhile.
                assertTrue(ApacheQuorumProcess.await(() -> Files.exists(next), 5_000),
                        () -> "no " + next + " before NEWLEADER was acknowledged:\n" + leaderLog.get());
                String nextText = Files.readString(next);
                List<String> pending = beside(zooCfg);
                send(out, new QuorumPacket(LearnerWire.ACK, packet.zxid(), null));
                do {
                    packet = LearnerWire.read(in, 1 << 20);
                } while (packet.type() != LearnerWire.UPTODATE);
                long version = info.zxid();
                Path dynamic = Path.of(zooCfg + ".dynamic." + Long.toHexString(version));
                assertTrue(ApacheQuorumProcess.await(() -> !Files.exists(next) && Files.exists(dynamic), 5_000),
                        () -> "after NEWLEADER: " + beside(zooCfg) + "\n" + leaderLog.get());
                return new LeftFiles(nextText, pending, beside(zooCfg));
            }
        }
    }

    private static void send(DataOutputStream out, QuorumPacket packet) throws java.io.IOException {
        LearnerWire.write(packet, out);
        out.flush();
    }

    /** The names of the files beside zoo.cfg that start with its name, sorted. */
    private static List<String> beside(Path zooCfg) {
        String name = zooCfg.getFileName().toString();
        try (Stream<Path> files = Files.list(zooCfg.getParent())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(name)).sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Tandem (sid 3) leads Apache 1 and 2 and proposes a reconfig adding a member 4 that never runs while member 2 is
     * stopped: the new configuration has no quorum, so the leader steps down. Tandem's election then counts the
     * pending configuration as Apache 1's does: neither is elected with the votes of 1 and 3 alone (two of the four
     * pending voters), where before Tandem decided to lead with the old voters' quorum. With member 2 back, the
     * three elect a leader with a quorum of both, which completes the reconfig.
     */
    @Test
    void aTandemLeadersOwnPendingReconfigCountsInItsNextElection() throws Exception {
        List<String> shared = ReconfigAdmin.settings();
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, shared);
        Path zooCfg = ApacheConfigFilesProcessTest.writeZooCfg(ensemble, shared);
        Path log = temp.resolve("tandem.log");
        Process tandem = ApacheConfigFilesProcessTest.startTandem(zooCfg, log,
                TandemApacheModeProcess.electionDebugLogging(temp));
        ApacheQuorumProcess closeLater = null;
        try (ApacheQuorumProcess one = ensemble.startApache(1);
             ZkClients clients = new ZkClients()) {
            // Tandem (the highest sid) leads Apache 1 first, so that Apache 2 cannot be elected before it started.
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("leader")
                    && one.mode().equals("follower"), ZkClients.TIMEOUT_MS),
                    () -> "Tandem " + ensemble.tandemMode() + "\n" + ApacheQuorumProcess.tail(log, 60));
            ApacheQuorumProcess two = ensemble.startApache(2);
            closeLater = two;
            assertTrue(ApacheQuorumProcess.await(() -> two.mode().equals("follower"), ZkClients.TIMEOUT_MS),
                    two::logTail);
            Ports four = Ports.fresh(4);
            String joining = "server.4=127.0.0.1:" + four.quorumPort() + ":" + four.electionPort()
                    + ":participant;127.0.0.1:" + four.clientPort();
            ZooKeeperAdmin admin = ReconfigAdmin.connect(ensemble.tandem);
            int decidedBefore = count(ApacheQuorumProcess.readLog(log), "decided:"); // the first election's
            try {
                two.stop();
                admin.reconfigure(joining, null, null, -1, (rc, path, ctx, data, stat) -> { }, null);
                Path next = Path.of(zooCfg + ".dynamic.next");
                assertTrue(ApacheQuorumProcess.await(() -> Files.exists(next)
                        && ApacheQuorumProcess.readLog(next).contains(joining), ZkClients.TIMEOUT_MS),
                        () -> "the proposal's next file: " + ApacheQuorumProcess.readLog(next));
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.readLog(log).contains(
                        "leadership ended"), ZkClients.TIMEOUT_MS), () -> ApacheQuorumProcess.tail(log, 60));
            } finally {
                admin.close();
            }
            // Apache 1 cannot be elected without a quorum of the pending voters; neither may Tandem be. Several
            // election rounds pass meanwhile: Tandem receives Apache 1's vote ELECTION_ROUNDS times after its
            // leadership ended (Apache 1 sends it again each time its wait for notifications times out, 200 ms and
            // doubling, and Tandem answers), and either would decide within finalizeWait (200 ms) of an exchange
            // that gave it a quorum. This was a fixed 8 s sleep.
            assertTrue(ApacheQuorumProcess.await(() -> {
                String text = ApacheQuorumProcess.readLog(log);
                return TandemApacheModeProcess.notificationsReceived(text.substring(text.lastIndexOf(
                        "leadership ended")), 3, 1) >= ELECTION_ROUNDS;
            }, ZkClients.TIMEOUT_MS), () -> ApacheQuorumProcess.tail(log, 60));
            String during = ApacheQuorumProcess.readLog(log);
            assertEquals(decidedBefore, count(during, "decided:"),
                    () -> "Tandem was elected without the pending configuration's quorum:\n"
                            + ApacheQuorumProcess.tail(log, 40));
            assertEquals("not serving", one.mode(), one.logTail());

            two.resume();
            assertTrue(ApacheQuorumProcess.await(() -> (ensemble.tandemMode() + one.mode() + two.mode())
                    .matches("(leader|follower){3}"), ZkClients.TIMEOUT_MS), () -> "Tandem "
                    + ensemble.tandemMode() + ", 1 " + one.mode() + ", 2 " + two.mode() + "\n"
                    + ApacheQuorumProcess.tail(log, 60));
            ZooKeeper onTandem = clients.connect(ensemble.tandem);
            ZooKeeper onOne = clients.connect(one.ports);
            ZooKeeper onTwo = clients.connect(two.ports);
            String completed = assertSameConfig(onTandem, onOne, onTwo);
            assertTrue(completed.contains(joining), completed);
            assertFalse(Files.exists(Path.of(zooCfg + ".dynamic.next")), "activated: the next file is gone");
        } finally {
            tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            if (closeLater != null) closeLater.kill();
        }
    }

    private static int count(String text, String what) {
        int count = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) count++;
        return count;
    }
}
