package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
import static io.tandem.server.zab.apache.ReconfigAdmin.reconfigure;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reconfig that changes the Tandem member's role in an ensemble with two Apache ZooKeeper 3.9.5 voters takes effect
 * at once, as Apache's QuorumPeer.processReconfig does it (updateLearnerType sets the reconfigFlag; the learner
 * leaves its session after the reconfig's commit and registers again with the same leader in its new role, no
 * restart): made a participant it votes, so the leader keeps a quorum with the other Apache voter stopped; made an
 * observer again it no longer votes, so the same stop costs the leader its quorum.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TandemRoleChangeProcessTest {
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path temp;

    /**
     * Apache voters 1 and 2, Tandem observer 3, all with reconfigEnabled. {@code reconfig -add} of member 3 as a
     * participant: it follows (FOLLOWERINFO, srvr says follower, the leader's mntr counts two synced followers), its
     * client's session carries on, and with the other Apache voter stopped (SIGSTOP) writes still commit, through
     * either member. That voter resumed, {@code -add} of member 3 as an observer: it observes again, and the same
     * voter stopped, the Apache leader loses its quorum and steps down. {@code -remove} of member 3 then makes it a
     * non-voting participant that follows on (srvr says follower) and serves its client, as Apache's removed member.
     * The Tandem process runs throughout.
     */
    @Test
    void aReconfigMakesTheTandemObserverAVoterAndBackAndRemovesItWithoutARestart() throws Exception {
        Ports[] all = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        Ports three = all[2];
        Set<Long> observers = Set.of(3L);
        List<String> settings = ReconfigAdmin.settings(MixedEnsemble.MNTR_SETTINGS);
        ApacheQuorumProcess[] voters = new ApacheQuorumProcess[2];
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, observers, three, all);
             ZkClients clients = new ZkClients()) {
            try {
                for (int i = 0; i < 2; i++) {
                    voters[i] = ApacheQuorumProcess.start(temp.resolve(Integer.toString(i + 1)), settings, observers,
                            all[i], all);
                }
                tandem.awaitMode(three, "observer", TIMEOUT_MS);
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.leaderIndex(voters) >= 0
                        && voters[1 - ApacheQuorumProcess.leaderIndex(voters)].mode().equals("follower"), TIMEOUT_MS),
                        () -> "Apache members " + voters[0].mode() + ", " + voters[1].mode());
                int leader = ApacheQuorumProcess.leaderIndex(voters);
                ApacheQuorumProcess other = voters[1 - leader];
                ZooKeeper onTandem = clients.connect(three);
                ZooKeeper onLeader = clients.connect(all[leader]);
                long session = onTandem.getSessionId();
                writeAndSeeEverywhere("/as-observer", onTandem, onLeader);

                // Observer to participant.
                String participant = reconfigure(all[leader], ReconfigChecks.serverLine(three));
                assertTrue(participant.contains("server.3=127.0.0.1:" + three.quorumPort() + ":"
                        + three.electionPort() + ":participant"), participant);
                tandem.awaitMode(three, "follower", TIMEOUT_MS);
                assertTrue(tandem.logText().contains("becoming a voting participant"), tandem::logTail);
                assertTrue(ApacheQuorumProcess.await(() -> "2".equals(ApacheQuorumProcess.gauge(mntr(all[leader]),
                        "zk_synced_followers")), TIMEOUT_MS), () -> mntr(all[leader]));
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/as-participant", onTandem, onLeader));
                assertEquals(session, onTandem.getSessionId(), "the Tandem member's client kept its session");

                // The other Apache voter stopped: the leader and the Tandem voter are a quorum of three.
                other.stop();
                try {
                    // Past syncLimit the leader drops it: its synced followers are down to one (a fixed 5 s before).
                    assertTrue(ApacheQuorumProcess.await(() -> "1".equals(ApacheQuorumProcess.gauge(mntr(all[leader]),
                            "zk_synced_followers")), TIMEOUT_MS), () -> mntr(all[leader]));
                    ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/voter-stopped", onLeader,
                            onTandem));
                    ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/voter-stopped-via-tandem",
                            onTandem, onLeader));
                    assertEquals("leader", voters[leader].mode(), "the leader kept its quorum with Tandem's vote");
                    assertEquals("follower", modeOf(three));
                } finally {
                    other.resume();
                }
                assertTrue(ApacheQuorumProcess.await(() -> other.mode().equals("follower"), TIMEOUT_MS),
                        other::mode);
                // Apache's leader refuses a reconfig (NewConfigNoQuorum) until a quorum of the new config is synced
                // with it, and a member says "follower" before its sync is over: wait for the leader's own count.
                assertTrue(ApacheQuorumProcess.await(() -> "2".equals(ApacheQuorumProcess.gauge(mntr(all[leader]),
                        "zk_synced_followers")), TIMEOUT_MS), () -> mntr(all[leader]));

                // Participant to observer.
                String observing = reconfigure(all[leader], ReconfigChecks.serverLine(three)
                        .replace(":participant;", ":observer;"));
                assertTrue(observing.contains(":observer;"), observing);
                tandem.awaitMode(three, "observer", TIMEOUT_MS);
                assertTrue(tandem.logText().contains("becoming an observer"), tandem::logTail);
                assertTrue(ApacheQuorumProcess.await(() -> "1".equals(ApacheQuorumProcess.gauge(mntr(all[leader]),
                        "zk_synced_observers")), TIMEOUT_MS), () -> mntr(all[leader]));
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/as-observer-again", onTandem,
                        onLeader));
                assertEquals(session, onTandem.getSessionId(), "the Tandem member's client kept its session");

                // The same voter stopped: one voter of two left, the observer's help counts for nothing.
                other.stop();
                try {
                    assertTrue(ApacheQuorumProcess.await(() -> !voters[leader].mode().equals("leader"), TIMEOUT_MS),
                            "the Apache leader kept leading without a quorum: the Tandem member still voted");
                } finally {
                    other.resume();
                }
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.leaderIndex(voters) >= 0
                        && modeOf(three).equals("observer"), TIMEOUT_MS), tandem::logTail);
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/after", onTandem, onLeader));

                // Removed: Apache's updateLearnerType makes the observer a non-voting participant that follows on.
                String removed;
                try (ZooKeeperAdmin admin = ReconfigAdmin.connect(all[leader])) {
                    removed = ReconfigChecks.text(admin.reconfigure(null, "3", null, -1, null));
                }
                assertFalse(removed.contains("server.3="), removed);
                tandem.awaitMode(three, "follower", TIMEOUT_MS);
                assertTrue(tandem.logText().contains("becoming a non-voting participant"), tandem::logTail);
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/after-removal", onLeader, onTandem));
                assertEquals(session, onTandem.getSessionId(), "the Tandem member's client kept its session");
            } finally {
                ApacheQuorumProcess.killAll(voters);
            }
        }
    }
}
