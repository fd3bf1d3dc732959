package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ReconfigChecks.assertSameConfig;
import static io.tandem.server.zab.apache.ReconfigChecks.text;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An Apache ZooKeeper 3.9.5 leader whose own client removes it designates the Tandem member, which then leads at once
 * without an election round. Apache's Leader.getDesignatedLeader picks, among the new configuration's voters that
 * acknowledged the reconfig (with two voters left, both must), the first of a {@code HashSet<Long>}: for sids below 16
 * the lowest. The Tandem member has sid 1, so whichever of the Apache members 2 and 3 leads, Tandem is designated.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ApacheDesignatesTandemProcessTest {
    /** Each wait within the test's own time limit, so that a failure says what it waited for. */
    private static final long TIMEOUT_MS = 60_000;

    @TempDir
    Path temp;

    @Test
    void anApacheLeaderRemovingItselfHandsLeadershipToTheTandemMemberItDesignates() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 1, ReconfigAdmin.settings());
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             TandemApacheModeProcess member = ensemble.startTandem(List.of(), ReconfigAdmin.settings());
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower")
                    && (two.mode() + three.mode()).matches("leaderfollower|followerleader"), TIMEOUT_MS),
                    () -> "members never settled\nTandem log:\n" + member.logTail());
            ApacheQuorumProcess leader = two.mode().equals("leader") ? two : three;
            ApacheQuorumProcess other = leader == two ? three : two;
            ZooKeeper onTandem = clients.connect(ensemble.tandem);
            ZooKeeper onOther = clients.connect(other.ports);
            ZooKeeper onLeader = clients.connect(leader.ports);
            onLeader.create("/before", bytes("b"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            // The reconfig is the Apache leader's own: asked through its client, proposed, committed and activated
            // with COMMITANDACTIVATE naming the designated leader. The admin session stays open until the handover
            // is over (see ApacheLeaderReconfigProcessTest: its closeSession would put the old leader ahead).
            ZooKeeperAdmin viaLeader = ReconfigAdmin.connect(leader.ports);
            int logBefore = member.logText().length();
            String removedLine = "server." + leader.ports.sid() + "=";
            String withoutLeader;
            try {
                withoutLeader = text(viaLeader.reconfigure((String) null, Long.toString(leader.ports.sid()), null,
                        -1, null));
            } catch (KeeperException.ConnectionLossException e) {
                // The leader that removes itself steps down right after the commit; on a busy machine its answer can
                // be lost with the connection, as any client of Apache's could see. The outcome is then read where
                // it is committed: the other Apache member's config.
                assertTrue(ApacheQuorumProcess.await(() -> configOrEmpty(onOther).startsWith("server.")
                        && !configOrEmpty(onOther).contains(removedLine), TIMEOUT_MS),
                        () -> "the reconfig answer was lost and no member applied it\n" + member.logTail());
                withoutLeader = text(onOther.getConfig(false, null));
            }
            assertFalse(withoutLeader.contains(removedLine), withoutLeader);
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("leader")
                    && other.mode().equals("follower"), TIMEOUT_MS),
                    () -> "Tandem " + ensemble.tandemMode() + ", other " + other.mode() + ", removed "
                            + leader.mode() + "\n" + member.logTail());
            String afterReconfig = member.logText().substring(logBefore);
            assertTrue(afterReconfig.contains("leading as the designated leader without an election"),
                    member::logTail);
            assertFalse(afterReconfig.contains("looking for a leader"), member::logTail);
            // The removed Apache leader follows on as a non-voter (Apache's updateLearnerType), under Tandem.
            assertTrue(ApacheQuorumProcess.await(() -> leader.mode().equals("follower"), TIMEOUT_MS),
                    () -> "removed " + leader.mode() + "\n" + ApacheQuorumProcess.tail(leader.log, 40));
            viaLeader.close();

            ZkClients.retryOnConnectionLoss(() -> onTandem.create("/after", bytes("a"), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT));
            ZkClients.retryOnConnectionLoss(() -> onOther.create("/after-other", bytes("o"), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT));
            ZkClients.retryOnConnectionLoss(() -> onLeader.create("/after-removed", bytes("r"),
                    Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertEquals(withoutLeader, assertSameConfig(onTandem, onOther, onLeader));
            for (ZooKeeper client : List.of(onTandem, onOther, onLeader)) sync(client, "/");
            assertEquals(tree(onTandem), tree(onOther), "the trees of Tandem and the other Apache member");
            assertEquals(tree(onTandem), tree(onLeader), "the trees of Tandem and the removed Apache member");
            // Tandem still leads: the handover held, with no election since.
            assertEquals("leader", ensemble.tandemMode());
        }
    }

    /** The member's config as its client reads it, or "" while that read fails (the ensemble is changing). */
    private static String configOrEmpty(ZooKeeper client) {
        try {
            return text(client.getConfig(false, null));
        } catch (KeeperException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
