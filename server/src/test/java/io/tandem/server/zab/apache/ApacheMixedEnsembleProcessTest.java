package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.tandem.server.zab.apache.ZkClients.assertEvent;
import static io.tandem.server.zab.apache.ZkClients.awaitConnected;
import static io.tandem.server.zab.apache.ReconfigChecks.assertSameConfig;
import static io.tandem.server.zab.apache.ReconfigChecks.serverLine;
import static io.tandem.server.zab.apache.ReconfigChecks.text;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.retryOnConnectionLoss;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static io.tandem.server.zab.apache.ZkClients.writeEveryKind;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 section 4, the seam: a Tandem process started with {@code tandem.quorumProtocol=apache} is the third member
 * of an ensemble with two Apache ZooKeeper 3.9.5 processes, and the ZooKeeper Java client works through every member:
 * writes through each, watches firing across members, errors as Apache answers them, a session moved from an Apache
 * member to Tandem, and identical trees (data and every Stat field) everywhere. When the Apache leader is killed the
 * other Apache member leads with Tandem's vote, and the client session on Tandem carries on.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheMixedEnsembleProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;

    @TempDir
    Path temp;

    @Test
    void clientsOnEveryMemberSeeOneTreeAndTandemCarriesOnAfterTheApacheLeaderIsKilled() throws Exception {
        // Tandem has the lowest sid, so an Apache member leads (ApacheLeaderProcessTest has Tandem leading).
        MixedEnsemble ensemble = new MixedEnsemble(temp, 1);
        Ports tandem = ensemble.tandem;
        Ports apache2 = ensemble.ports(2);
        Ports apache3 = ensemble.ports(3);
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             TandemApacheModeProcess member = ensemble.startTandem(List.of(), List.of());
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> modes(tandem, two, three).matches(
                    "1=follower (2=leader 3=follower|2=follower 3=leader)"), TIMEOUT_MS),
                    () -> "members never settled: " + modes(tandem, two, three) + "\nTandem log:\n"
                            + member.logTail() + "\nApache 2:\n" + two.logTail() + "\nApache 3:\n" + three.logTail());
            boolean twoLeads = two.mode().equals("leader");
            ApacheQuorumProcess leader = twoLeads ? two : three;
            Ports follower = twoLeads ? apache3 : apache2;
            Ports leaderPorts = twoLeads ? apache2 : apache3;

            ZooKeeper onTandem = clients.connect(tandem);
            ZooKeeper onFollower = clients.connect(follower);
            ZooKeeper onLeader = clients.connect(leaderPorts);
            long tandemSession = onTandem.getSessionId();

            // Writes through Tandem are forwarded, prepared by the Apache leader and applied everywhere.
            onTandem.create("/seam", "root".getBytes(StandardCharsets.UTF_8), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            BlockingQueue<WatchedEvent> onFollowerEvents = new LinkedBlockingQueue<>();
            assertEquals(null, onFollower.exists("/seam/from-tandem", onFollowerEvents::add));
            onTandem.create("/seam/from-tandem", bytes("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEvent(onFollowerEvents, Watcher.Event.EventType.NodeCreated, "/seam/from-tandem");
            BlockingQueue<WatchedEvent> onTandemEvents = new LinkedBlockingQueue<>();
            onTandem.getChildren("/seam", onTandemEvents::add);
            onLeader.create("/seam/from-leader", bytes("l"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEvent(onTandemEvents, Watcher.Event.EventType.NodeChildrenChanged, "/seam");

            onTandem.getData("/seam/from-leader", onTandemEvents::add, null);
            onFollower.setData("/seam/from-leader", bytes("l2"), 0);
            assertEvent(onTandemEvents, Watcher.Event.EventType.NodeDataChanged, "/seam/from-leader");

            writeEveryKind("/seam/m", onTandem, onFollower, onLeader);
            // Apache's leader decides errors for Tandem's clients, and Tandem answers them as Apache would.
            assertThrows(KeeperException.NodeExistsException.class, () -> onTandem.create("/seam/m2", null,
                    Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertThrows(KeeperException.BadVersionException.class, () -> onTandem.setData("/seam/m1", null, 7));
            assertThrows(KeeperException.NotEmptyException.class, () -> onTandem.delete("/seam/m3", -1));
            // A write through Apache, then sync + read through Tandem: the read sees it.
            onLeader.setData("/seam/m3", bytes("after-sync"), -1);
            sync(onTandem, "/seam/m3");
            assertArrayEquals(bytes("after-sync"), onTandem.getData("/seam/m3", false, null));

            // A session made on an Apache member moves to Tandem (REVALIDATE): its ephemerals are written there.
            ZooKeeper moving = clients.connect(follower);
            ZooKeeper moved = clients.track(new ZooKeeper("127.0.0.1:" + tandem.clientPort(),
                    TandemApacheModeProcess.SESSION_TIMEOUT_MS, event -> { }, moving.getSessionId(),
                    moving.getSessionPasswd()));
            awaitConnected(moved);
            moved.create("/seam/moved", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            // Another session's read on another member needs a sync first: Apache's leader sends COMMIT before its
            // own commit processor applies the write, so Tandem can answer the create before the leader's tree has it.
            sync(onLeader, "/seam/moved");
            assertEquals(moving.getSessionId(), onLeader.exists("/seam/moved", false).getEphemeralOwner());

            Map<String, String> expected = tree(onLeader);
            sync(onFollower, "/"); // each member's reads may trail the leader's commits until a sync
            sync(onTandem, "/");
            assertEquals(expected, tree(onFollower), "Apache follower's tree");
            assertEquals(expected, tree(onTandem), "Tandem's tree");
            assertEquals(tandemSession, onTandem.exists("/seam/m1/ephemeral", false).getEphemeralOwner());

            // Kill the Apache leader: the survivor can only lead with Tandem's vote and Tandem following it.
            leader.kill();
            ApacheQuorumProcess survivor = twoLeads ? three : two;
            assertTrue(ApacheQuorumProcess.await(() -> survivor.mode().equals("leader")
                            && ApacheQuorumProcess.modeAt(tandem.clientPort()).equals("follower"), TIMEOUT_MS),
                    () -> "no new leader: " + modes(tandem, two, three) + "\nTandem log:\n" + member.logTail());
            // The same session on Tandem carries on: it writes, and its ephemeral survived the failover.
            retryOnConnectionLoss(() -> {
                try {
                    onTandem.create("/seam/after-failover", bytes("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                } catch (KeeperException.NodeExistsException e) {
                    // an earlier attempt committed but its answer was lost with the connection
                }
            });
            assertEquals(tandemSession, onTandem.getSessionId());
            retryOnConnectionLoss(() -> onTandem.setData("/seam/m1", bytes("v3"), -1));
            Stat ephemeral = onTandem.exists("/seam/m1/ephemeral", false);
            assertNotNull(ephemeral, "the Tandem session's ephemeral survived the failover");
            assertEquals(tandemSession, ephemeral.getEphemeralOwner());
            BlockingQueue<WatchedEvent> afterEvents = new LinkedBlockingQueue<>();
            onTandem.exists("/seam/from-survivor", afterEvents::add);
            ZooKeeper onSurvivor = clients.connect(follower); // the follower that survived leads now
            onSurvivor.create("/seam/from-survivor", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEvent(afterEvents, Watcher.Event.EventType.NodeCreated, "/seam/from-survivor");
            sync(onTandem, "/");
            assertEquals(tree(onSurvivor), tree(onTandem), "Tandem's tree after the failover");

            // Closing the session through Tandem (a forwarded closeSession) removes its ephemerals everywhere.
            clients.close(onTandem);
            sync(onSurvivor, "/");
            assertEquals(null, onSurvivor.exists("/seam/m1/ephemeral", false), "the closed session's ephemeral");
        }
    }

    @Test
    void tandemJoiningLateInstallsTheLeadersSnapshotAndRestartsFromItsOwnFiles() throws Exception {
        MixedEnsemble ensemble = new MixedEnsemble(temp, 1);
        Ports tandem = ensemble.tandem;
        Ports apache2 = ensemble.ports(2);
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             ZkClients clients = new ZkClients()) {
            // The two Apache members form the quorum alone; Tandem is not running yet.
            assertTrue(ApacheQuorumProcess.await(() -> modes(tandem, two, three).matches(
                    "1=down (2=leader 3=follower|2=follower 3=leader)"), TIMEOUT_MS),
                    () -> "Apache members never settled: " + modes(tandem, two, three));
            ZooKeeper onTwo = clients.connect(apache2);
            onTwo.addAuthInfo("digest", bytes("alice:secret"));
            onTwo.create("/early", bytes("e"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            onTwo.create("/early/private", bytes("p"), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            onTwo.create("/early/read-only", bytes("r"), Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            onTwo.create("/early/ephemeral", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            onTwo.create("/early/container", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
            onTwo.create("/early/container/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int i = 0; i < 20; i++) {
                onTwo.setData("/early", bytes("e" + i), -1);
            }

            // Tandem joins: the leader sends its whole database (SNAP), ACLs and sessions included.
            try (TandemApacheModeProcess member = ensemble.startTandem(List.of(), List.of());
                 ZkClients tandemClients = new ZkClients()) {
                ensemble.awaitTandem(member, "follower");
                assertTrue(member.logText().contains("Installed the leader's snapshot"), member::logTail);
                ZooKeeper onTandem = tandemClients.connect(tandem);
                onTandem.addAuthInfo("digest", bytes("alice:secret"));
                sync(onTandem, "/");
                assertEquals(tree(onTwo), tree(onTandem), "Tandem's tree after SNAP");
                // The session from the snapshot owns its ephemeral; ACLs from the snapshot are enforced by the
                // leader.
                assertEquals(onTwo.getSessionId(), onTandem.exists("/early/ephemeral", false).getEphemeralOwner());
                assertThrows(KeeperException.NoAuthException.class,
                        () -> onTandem.setData("/early/read-only", null, -1));
                onTandem.setData("/early/private", bytes("p2"), -1);

                // Killed, it restarts from its own files (the SNAP and the proposals logged after it) and catches up.
                for (int i = 0; i < 5; i++) {
                    onTandem.create("/early/by-tandem-" + i, bytes("t"), Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT);
                }
                member.kill();
                onTwo.create("/while-tandem-was-down", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                onTwo.delete("/early/by-tandem-0", -1);
                member.restart(List.of(), List.of());
                ensemble.awaitTandem(member, "follower");
                assertTrue(member.logText().contains("Recovered the Apache-protocol state: snapshot at zxid"),
                        member::logTail);
                ZooKeeper again = tandemClients.connect(tandem);
                again.addAuthInfo("digest", bytes("alice:secret"));
                again.create("/after-restart", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                sync(again, "/");
                sync(onTwo, "/");
                assertEquals(tree(onTwo), tree(again), "Tandem's tree after its restart");
            }
        }
    }

    /**
     * Dynamic reconfiguration led by Apache (Tandem has the lowest sid): the Apache leader removes the other Apache
     * member and adds it back, then removes the Tandem member and Tandem's own client adds it back (a reconfig
     * forwarded to the leader). Tandem activates each configuration the leader's COMMITANDACTIVATE names without
     * dropping its clients, follows on without a vote while removed, and votes again once added back: with the other
     * Apache member gone, writes commit only with Tandem's acknowledgement. After every step {@code getConfig}
     * answers the same data and Stat on every member, and writes go on through each.
     */
    @Test
    void tandemFollowsApachesReconfigurationsAndVotesAgainOnceAddedBack() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 1,
                List.of("reconfigEnabled=true", "skipACL=yes"));
        Ports tandem = ensemble.tandem;
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             TandemApacheModeProcess member = ensemble.startTandem(List.of(), List.of("reconfigEnabled=true"));
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> modes(tandem, two, three).matches(
                    "1=follower (2=leader 3=follower|2=follower 3=leader)"), TIMEOUT_MS),
                    () -> "members never settled: " + modes(tandem, two, three) + "\nTandem log:\n"
                            + member.logTail());
            boolean twoLeads = two.mode().equals("leader");
            ApacheQuorumProcess other = twoLeads ? three : two;
            Ports leaderPorts = twoLeads ? ensemble.ports(2) : ensemble.ports(3);
            Ports otherPorts = other.ports;
            BlockingQueue<WatchedEvent> tandemStates = new LinkedBlockingQueue<>();
            ZooKeeper onTandem = clients.track(new ZooKeeper("127.0.0.1:" + tandem.clientPort(),
                    TandemApacheModeProcess.SESSION_TIMEOUT_MS, tandemStates::add));
            ZkClients.awaitConnected(onTandem);
            ZooKeeper onLeader = clients.connect(leaderPorts);
            ZooKeeper onOther = clients.connect(otherPorts);
            onTandem.create("/r", bytes("0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertSameConfig(onLeader, onOther, onTandem);

            org.apache.zookeeper.admin.ZooKeeperAdmin viaLeader = new org.apache.zookeeper.admin.ZooKeeperAdmin(
                    "127.0.0.1:" + leaderPorts.clientPort(), TandemApacheModeProcess.SESSION_TIMEOUT_MS, e -> { });
            org.apache.zookeeper.admin.ZooKeeperAdmin viaTandem = new org.apache.zookeeper.admin.ZooKeeperAdmin(
                    "127.0.0.1:" + tandem.clientPort(), TandemApacheModeProcess.SESSION_TIMEOUT_MS, e -> { });
            try {
                ZkClients.awaitConnected(viaLeader);
                ZkClients.awaitConnected(viaTandem);
                String withoutOther = text(viaLeader.reconfigure((String) null, Long.toString(otherPorts.sid()),
                        null, -1, null));
                assertFalse(withoutOther.contains("server." + otherPorts.sid() + "="), withoutOther);
                assertEquals(withoutOther, assertSameConfig(onLeader, onOther, onTandem));
                writeAndSeeEverywhere("/r/other-removed", onTandem, onLeader, onOther);

                String back = text(viaLeader.reconfigure(serverLine(otherPorts), null, null, -1, null));
                assertTrue(back.contains("server." + otherPorts.sid() + "="), back);
                assertEquals(back, assertSameConfig(onLeader, onOther, onTandem));
                writeAndSeeEverywhere("/r/other-back", onOther, onLeader, onTandem);

                String withoutTandem = text(viaLeader.reconfigure((String) null, "1", null, -1, null));
                assertFalse(withoutTandem.contains("server.1="), withoutTandem);
                assertEquals(withoutTandem, assertSameConfig(onLeader, onOther, onTandem));
                assertEquals("follower", ensemble.tandemMode(), "a removed member follows on, as Apache's");
                writeAndSeeEverywhere("/r/tandem-removed", onTandem, onLeader, onOther);

                // Tandem's own client adds it back: the reconfig is forwarded to the Apache leader and answered here.
                String tandemBack = text(viaTandem.reconfigure(serverLine(tandem), null, null, -1, null));
                assertTrue(tandemBack.contains("server.1="), tandemBack);
                assertEquals(tandemBack, assertSameConfig(onLeader, onOther, onTandem));
                writeAndSeeEverywhere("/r/tandem-back", onLeader, onTandem, onOther);
            } finally {
                viaLeader.close();
                viaTandem.close();
            }
            for (WatchedEvent state : tandemStates) {
                assertEquals(Watcher.Event.KeeperState.SyncConnected, state.getState(),
                        "Tandem kept its clients through every reconfig: " + tandemStates + "\n" + member.logTail());
            }
            assertEquals(tree(onLeader), tree(onTandem), "Tandem's tree");

            // With the other Apache member gone, the leader and Tandem are a quorum only if Tandem votes again.
            other.kill();
            onTandem.create("/r/tandem-votes", bytes("v"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            sync(onLeader, "/r/tandem-votes");
            assertArrayEquals(bytes("v"), onLeader.getData("/r/tandem-votes", false, null));
            assertEquals("follower", ensemble.tandemMode(), member.logTail());
        }
    }

    private static String modes(Ports tandem, ApacheQuorumProcess two, ApacheQuorumProcess three) {
        return "1=" + ApacheQuorumProcess.modeAt(tandem.clientPort()) + " 2=" + two.mode() + " 3=" + three.mode();
    }
}
