package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ReconfigChecks.assertSameConfig;
import static io.tandem.server.zab.apache.ReconfigChecks.serverLine;
import static io.tandem.server.zab.apache.ReconfigChecks.text;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic reconfiguration with Apache ZooKeeper 3.9.5 processes in the ensemble, as an all-Apache ensemble does it:
 * a Tandem leader of Apache followers carries reconfigs out (a quorum of the old and of the new voters,
 * COMMITANDACTIVATE, NEWLEADER with the configuration), and a reconfig that removes the Apache leader leaves the rest
 * to elect a new one while clients carry on. After every step {@code getConfig} answers the same data and Stat (but
 * mtime) on every member.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheLeaderReconfigProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;

    @TempDir
    Path temp;

    /**
     * Tandem (sid 3, started first) leads Apache members 1 and 2: NEWLEADER gives the static configuration the new
     * epoch's version everywhere; an incremental removal of member 2 through Tandem's client, a stale {@code -from}
     * refused with BadVersion, member 2 added back through member 1's client (forwarded to Tandem) from the current
     * version, and a bulk re-statement, each activated alike on every member. With member 1 killed, writes commit
     * only if member 2 votes again. Tandem writes Apache's dynamic file, and restarted it comes back with it.
     */
    @Test
    void apacheFollowersActivateWhatATandemLeaderReconfigures() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, ReconfigAdmin.settings());
        Ports one = ensemble.ports(1);
        Ports two = ensemble.ports(2);
        Ports tandem = ensemble.tandem;
        List<String> tandemSettings = ReconfigAdmin.settings();
        try (TandemApacheModeProcess member = ensemble.startTandem(List.of(), tandemSettings);
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(member);
            // Member 2 starts once Tandem leads member 1 (see MixedEnsemble.startApacheUnderTandem).
            try (ApacheQuorumProcess apache1 = ensemble.startApacheUnderTandem(member, 1);
                 ApacheQuorumProcess apache2 = ensemble.startApache(2)) {
                ensemble.awaitTandem(member, "leader");
                assertTrue(ApacheQuorumProcess.await(() -> apache1.mode().equals("follower")
                        && apache2.mode().equals("follower"), TIMEOUT_MS), member::logTail);
                ZooKeeper onTandem = clients.connect(tandem);
                ZooKeeper onOne = clients.connect(one);
                ZooKeeper onTwo = clients.connect(two);
                String established = assertSameConfig(onTandem, onOne, onTwo);
                assertFalse(established.endsWith("version=0"), "NEWLEADER versions the static configuration: "
                        + established);

                ZooKeeperAdmin viaTandem = ReconfigAdmin.connect(tandem);
                ZooKeeperAdmin viaOne = ReconfigAdmin.connect(one);
                try {
                    String withoutTwo = text(viaTandem.reconfigure((String) null, "2", null, -1, null));
                    assertFalse(withoutTwo.contains("server.2="), withoutTwo);
                    assertTrue(withoutTwo.contains("server.1=") && withoutTwo.contains("server.3="), withoutTwo);
                    assertEquals(withoutTwo, assertSameConfig(onTandem, onOne, onTwo));
                    writeAndSeeEverywhere("/removed", onOne, onTandem, onTwo);

                    long stale = version(established);
                    assertThrows(KeeperException.BadVersionException.class,
                            () -> viaOne.reconfigure(serverLine(two), null, null, stale, null));
                    Stat before = new Stat();
                    onOne.getConfig(false, before);
                    String back = text(viaOne.reconfigure(serverLine(two), null, null, version(withoutTwo), null));
                    assertTrue(back.contains("server.2="), back);
                    assertEquals(back, assertSameConfig(onTandem, onOne, onTwo));
                    writeAndSeeEverywhere("/back", onTwo, onTandem, onOne);

                    String members = String.join(",", serverLine(one), serverLine(two), serverLine(tandem));
                    String bulk = text(viaTandem.reconfigure(null, null, members, -1, null));
                    assertTrue(version(bulk) > version(back), bulk);
                    assertEquals(bulk, assertSameConfig(onTandem, onOne, onTwo));
                } finally {
                    viaTandem.close();
                    viaOne.close();
                }
                String config = text(onTandem.getConfig(false, null));
                Path dynamic = member.quorumDir().getParent()
                        .resolve("zoo.cfg.dynamic." + Long.toHexString(version(config)));
                assertEquals(config.substring(0, config.lastIndexOf("version=")), Files.readString(dynamic),
                        "Tandem's dynamic configuration file, as Apache's writeDynamicConfig writes it");

                // Tandem restarted: it reads its dynamic file and leads (or follows) the same ensemble again.
                member.kill();
                member.restart(List.of(), tandemSettings);
                ensemble.awaitTandemListening(member);
                assertTrue(ApacheQuorumProcess.await(() -> !ensemble.tandemMode().equals("not serving")
                        && !ensemble.tandemMode().equals("down"), TIMEOUT_MS), member::logTail);
                assertTrue(member.logText().contains("Members from zoo.cfg.dynamic."), member::logTail);
                ZooKeeper again = clients.connect(tandem);
                assertEquals(config, assertSameConfig(again, onOne, onTwo));

                // With member 1 gone, Tandem and member 2 are a quorum only if member 2 votes again.
                apache1.kill();
                ZkClients.retryOnConnectionLoss(() -> again.create("/votes", bytes("v"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                ZooKeeper onTwoAgain = clients.connect(two);
                sync(onTwoAgain, "/votes");
                assertArrayEquals(bytes("v"), onTwoAgain.getData("/votes", false, null));
                assertEquals(tree(onTwoAgain), tree(again), "the trees");
            }
        }
    }

    /**
     * The Tandem leader removes itself: the reconfig commits with COMMITANDACTIVATE naming an Apache member as the
     * designated leader, Tandem commits nothing more and steps down, the Apache members go on under the designated
     * leader, and Tandem follows it without a vote (as a removed Apache server does), its clients carrying on.
     */
    @Test
    void aTandemLeaderThatRemovesItselfHandsTheEnsembleToTheLeaderItDesignates() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, ReconfigAdmin.settings());
        try (TandemApacheModeProcess member = ensemble.startTandem(List.of(), ReconfigAdmin.settings());
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(member);
            // Member 2 starts once Tandem leads member 1 (see MixedEnsemble.startApacheUnderTandem).
            try (ApacheQuorumProcess apache1 = ensemble.startApacheUnderTandem(member, 1);
                 ApacheQuorumProcess apache2 = ensemble.startApache(2)) {
                ensemble.awaitTandem(member, "leader");
                assertTrue(ApacheQuorumProcess.await(() -> apache1.mode().equals("follower")
                        && apache2.mode().equals("follower"), TIMEOUT_MS), member::logTail);
                ZooKeeper onTandem = clients.connect(ensemble.tandem);
                ZooKeeper onOne = clients.connect(ensemble.ports(1));
                ZooKeeper onTwo = clients.connect(ensemble.ports(2));
                onOne.create("/before", bytes("b"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                // The admin session stays open until the handover is over: its closeSession, proposed and logged
                // by the old leader after the reconfig committed, would leave that leader ahead of the designated
                // one, which refuses such a learner ("Follower is ahead of the leader", Apache's waitForEpochAck)
                // and so forces an election, on an Apache old leader as on Tandem.
                ZooKeeperAdmin viaTandem = ReconfigAdmin.connect(ensemble.tandem);
                int logBefore = member.logText().length();
                String withoutTandem = text(viaTandem.reconfigure((String) null, "3", null, -1, null));
                assertFalse(withoutTandem.contains("server.3="), withoutTandem);
                assertTrue(member.logText().contains("designates server"), member::logTail);
                assertTrue(ApacheQuorumProcess.await(() -> (apache1.mode() + " " + apache2.mode())
                        .matches("leader follower|follower leader")
                        && ensemble.tandemMode().equals("follower"), TIMEOUT_MS),
                        () -> "1 " + apache1.mode() + ", 2 " + apache2.mode() + ", Tandem " + ensemble.tandemMode()
                                + "\n" + member.logTail());
                // Apache's processReconfig on its leader (updateVote) and updateServerState: once the leadership
                // ends it follows the designated leader at once, without an election round.
                String afterReconfig = member.logText().substring(logBefore);
                assertTrue(afterReconfig.contains("following the designated leader"), member::logTail);
                assertFalse(afterReconfig.contains("looking for a leader"), member::logTail);
                viaTandem.close();
                ZkClients.retryOnConnectionLoss(() -> onTandem.create("/after", bytes("a"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                ZkClients.retryOnConnectionLoss(() -> onTwo.create("/after-two", bytes("t"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                assertEquals(withoutTandem, assertSameConfig(onOne, onTwo, onTandem));
                sync(onOne, "/");
                sync(onTandem, "/");
                assertEquals(tree(onOne), tree(onTandem), "the trees");
            }
        }
    }

    /**
     * Apache leads (Tandem has the lowest sid and starts last); a reconfig through Tandem's client removes the Apache
     * leader. The leader it designates takes over without an election (Tandem leads or follows it at once), and
     * clients of Tandem and of the other Apache member carry on with the new configuration.
     */
    @Test
    void removingTheApacheLeaderHandsOverToTheLeaderItDesignatesAndClientsCarryOn() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 1, ReconfigAdmin.settings());
        Ports tandem = ensemble.tandem;
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             TandemApacheModeProcess member = ensemble.startTandem(List.of(), ReconfigAdmin.settings());
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower")
                    && (two.mode() + three.mode()).matches("leaderfollower|followerleader"), TIMEOUT_MS),
                    () -> "members never settled\nTandem log:\n" + member.logTail());
            ApacheQuorumProcess leader = two.mode().equals("leader") ? two : three;
            ApacheQuorumProcess other = leader == two ? three : two;
            ZooKeeper onTandem = clients.connect(tandem);
            ZooKeeper onOther = clients.connect(other.ports);
            onTandem.create("/before", bytes("b"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            ZooKeeperAdmin viaTandem = ReconfigAdmin.connect(tandem);
            int logBefore = member.logText().length();
            // Closed only after the handover, for the reason given in the test above.
            String withoutLeader = text(viaTandem.reconfigure((String) null, Long.toString(leader.ports.sid()), null,
                    -1, null));
            assertFalse(withoutLeader.contains("server." + leader.ports.sid() + "="), withoutLeader);
            assertTrue(ApacheQuorumProcess.await(() -> (ensemble.tandemMode() + " " + other.mode())
                    .matches("leader follower|follower leader"), TIMEOUT_MS),
                    () -> "no new leader: Tandem " + ensemble.tandemMode() + ", other " + other.mode() + "\n"
                            + member.logTail());
            // The COMMITANDACTIVATE names the leader the Apache leader designated: Tandem leads or follows it at
            // once, as Apache's updateVote and updateServerState, with no election round.
            String afterReconfig = member.logText().substring(logBefore);
            assertTrue(afterReconfig.contains("the designated leader")
                    && afterReconfig.contains("without an election"), member::logTail);
            assertFalse(afterReconfig.contains("looking for a leader"), member::logTail);
            viaTandem.close();
            ZkClients.retryOnConnectionLoss(() -> onTandem.create("/after", bytes("a"), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT));
            ZkClients.retryOnConnectionLoss(() -> onOther.create("/after-other", bytes("o"), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT));
            assertEquals(withoutLeader, assertSameConfig(onTandem, onOther));
            sync(onTandem, "/");
            sync(onOther, "/");
            assertEquals(tree(onOther), tree(onTandem), "the trees");
        }
    }

    /** The version line of a configuration text. */
    private static long version(String config) {
        return Long.parseUnsignedLong(config.substring(config.lastIndexOf("version=") + "version=".length()).trim(),
                16);
    }
}
