package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
import static io.tandem.server.zab.apache.ReconfigAdmin.reconfigure;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TandemRoleChangeProcessTest} with the roles reversed: a Tandem leader of two Apache ZooKeeper 3.9.5 voters
 * changes the role of one of them by reconfig. The Apache learner takes the new role as its QuorumPeer.processReconfig
 * does (updateLearnerType sets the reconfigFlag, the session ends after COMMITANDACTIVATE and it registers again with
 * the same leader: OBSERVERINFO, then FOLLOWERINFO, no election), and the Tandem leader serves it in that role: as an
 * observer it learns commits by INFORM and its vote counts for nothing (the leader's mntr counts it among the synced
 * observers), as a participant again its acknowledgements make the quorum with the other Apache voter stopped. Its
 * client keeps its session and the trees stay equal.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheLearnerRoleChangeProcessTest {
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path temp;

    @Test
    void anApacheFollowerMadeAnObserverAndBackByATandemLeaderKeepsServingWithItsData() throws Exception {
        Ports[] all = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        Ports one = all[0];
        Ports three = all[2];
        List<String> settings = ReconfigAdmin.settings(MixedEnsemble.MNTR_SETTINGS);
        ApacheQuorumProcess[] apache = new ApacheQuorumProcess[2];
        // Tandem has the highest sid and the same empty history: the election makes it the leader.
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, Set.of(), three, all);
             ZkClients clients = new ZkClients()) {
            try {
                // Apache member 1 first, and member 2 once Tandem leads it: started together on a loaded machine the
                // two Apache members could settle on 2 before Tandem's notifications reached them (fast leader
                // election waits only finalizeWait for a better vote).
                apache[0] = ApacheQuorumProcess.start(temp.resolve("1"), settings, Set.of(), all[0], all);
                assertTrue(ApacheQuorumProcess.await(() -> modeOf(three).equals("leader")
                        && apache[0].mode().equals("follower"), TIMEOUT_MS),
                        () -> "Tandem " + modeOf(three) + ", Apache 1 " + apache[0].mode() + "\n" + tandem.logTail());
                apache[1] = ApacheQuorumProcess.start(temp.resolve("2"), settings, Set.of(), all[1], all);
                tandem.awaitMode(three, "leader", TIMEOUT_MS);
                assertTrue(ApacheQuorumProcess.await(() -> apache[0].mode().equals("follower")
                        && apache[1].mode().equals("follower"), TIMEOUT_MS),
                        () -> "Apache members " + apache[0].mode() + ", " + apache[1].mode() + "\n" + tandem.logTail());
                ZooKeeper onOne = clients.connect(one);
                ZooKeeper onTandem = clients.connect(three);
                long session = onOne.getSessionId();
                writeAndSeeEverywhere("/as-follower", onOne, onTandem);

                // Participant to observer, asked of the Tandem leader.
                String observing = reconfigure(three, ReconfigChecks.serverLine(one)
                        .replace(":participant;", ":observer;"));
                assertTrue(observing.contains("server.1=127.0.0.1:" + one.quorumPort() + ":" + one.electionPort()
                        + ":observer"), observing);
                assertTrue(ApacheQuorumProcess.await(() -> apache[0].mode().equals("observer"), TIMEOUT_MS),
                        () -> "Apache member 1 is " + apache[0].mode() + "\n" + tandem.logTail());
                assertTrue(ApacheQuorumProcess.await(() -> {
                    String mntr = mntr(three);
                    return "1".equals(ApacheQuorumProcess.gauge(mntr, "zk_synced_observers"))
                            && "1".equals(ApacheQuorumProcess.gauge(mntr, "zk_synced_followers"));
                }, TIMEOUT_MS), () -> mntr(three));
                assertEquals("leader", modeOf(three), "the Tandem member leads on");
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/as-observer", onOne, onTandem));
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/seen-by-the-observer", onTandem,
                        onOne));
                assertEquals(session, onOne.getSessionId(), "the Apache member's client kept its session");

                // Observer to participant again.
                String participant = reconfigure(three, ReconfigChecks.serverLine(one));
                assertTrue(participant.contains("server.1=127.0.0.1:" + one.quorumPort() + ":" + one.electionPort()
                        + ":participant"), participant);
                assertTrue(ApacheQuorumProcess.await(() -> apache[0].mode().equals("follower"), TIMEOUT_MS),
                        () -> "Apache member 1 is " + apache[0].mode() + "\n" + tandem.logTail());
                assertTrue(ApacheQuorumProcess.await(() -> {
                    String mntr = mntr(three);
                    return "0".equals(ApacheQuorumProcess.gauge(mntr, "zk_synced_observers"))
                            && "2".equals(ApacheQuorumProcess.gauge(mntr, "zk_synced_followers"));
                }, TIMEOUT_MS), () -> mntr(three));
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/as-follower-again", onOne, onTandem));

                // Its vote counts again: with the other Apache voter stopped, the Tandem leader keeps its quorum.
                apache[1].stop();
                try {
                    // Past syncLimit the leader drops it: its synced followers are down to one (a fixed 5 s before).
                    assertTrue(ApacheQuorumProcess.await(() -> "1".equals(ApacheQuorumProcess.gauge(mntr(three),
                            "zk_synced_followers")), TIMEOUT_MS), () -> mntr(three));
                    ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/voter-stopped", onTandem, onOne));
                    ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/voter-stopped-via-one", onOne,
                            onTandem));
                    assertEquals("leader", modeOf(three), "the leader kept its quorum with member 1's vote");
                    assertEquals("follower", apache[0].mode());
                } finally {
                    apache[1].resume();
                }
                assertEquals(session, onOne.getSessionId(), "the Apache member's client kept its session");
                ZkClients.sync(onOne, "/");
                ZkClients.sync(onTandem, "/");
                assertEquals(ZkClients.tree(onTandem), ZkClients.tree(onOne), "the trees");
                assertEquals(ReconfigChecks.assertSameConfig(onTandem, onOne), participant);
            } finally {
                ApacheQuorumProcess.killAll(apache);
            }
        }
    }
}
