package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ZkClients.assertEvent;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static io.tandem.server.zab.apache.ZkClients.writeEveryKind;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 section 4, stage 3: a Tandem member ({@code tandem.quorumProtocol=apache}) with the highest sid wins
 * Apache's fast leader election among two Apache ZooKeeper 3.9.5 processes and leads them with Apache's leader
 * protocol: they sync from it (DIFF at start, SNAP for a member that was down), forward their clients' writes,
 * sessions, reconnects and syncs to it, and every member ends with the same tree (data, every Stat field, ACLs).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheLeaderProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;

    @TempDir
    Path temp;

    @Test
    void apacheFollowersSyncFromATandemLeaderAndServeWritesWatchesAndSessionsThroughIt() throws Exception {
        MixedEnsemble ensemble = new MixedEnsemble(temp, 3);
        // Tandem starts first and leads Apache member 1 before member 2 starts, so the Apache members never form a
        // quorum of their own before it votes: with equal (empty) histories the highest sid wins.
        // A short committed log, so that a member restarted empty is too far behind for a DIFF and gets a SNAP.
        try (TandemApacheModeProcess member = ensemble.startTandem(List.of("-Dzookeeper.commitLogCount=5"),
                     List.of("4lw.commands.whitelist=srvr,mntr"));
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(member);
            try (ApacheQuorumProcess one = ensemble.startApacheUnderTandem(member, 1);
                 ApacheQuorumProcess two = ensemble.startApache(2)) {
                leadAndServe(ensemble, member, clients, one, two);
            }
        }
    }

    /** The mntr four-letter word's answer from the server on {@code clientPort}, or why there is none. */
    private static String mntr(int clientPort) {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", clientPort)) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write("mntr".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private void leadAndServe(MixedEnsemble ensemble, TandemApacheModeProcess member, ZkClients clients,
                              ApacheQuorumProcess one, ApacheQuorumProcess two) throws Exception {
        Ports apache1 = ensemble.ports(1);
        Ports apache2 = ensemble.ports(2);
        Ports tandem = ensemble.tandem;
        {
            assertTrue(ApacheQuorumProcess.await(() -> modes(one, two, tandem).equals(
                    "1=follower 2=follower 3=leader"), TIMEOUT_MS),
                    () -> "Tandem never led: " + modes(one, two, tandem) + "\nTandem log:\n" + member.logTail()
                            + "\nApache 1:\n" + one.logTail() + "\nApache 2:\n" + two.logTail());
            assertTrue(member.logText().contains("syncing learner 1 (last zxid 0x0) by DIFF"), member::logTail);
            // mntr's leader lines, as Apache's leader gauges: two learners, both synced followers, no observers.
            assertTrue(ApacheQuorumProcess.await(() -> mntr(tandem.clientPort()).contains("zk_synced_followers\t2\n"),
                    TIMEOUT_MS), () -> mntr(tandem.clientPort()));
            String mntr = mntr(tandem.clientPort());
            for (String line : List.of("zk_learners\t2\n", "zk_synced_non_voting_followers\t0\n",
                    "zk_synced_observers\t0\n", "zk_pending_syncs\t0\n", "zk_leader_uptime\t")) {
                assertTrue(mntr.contains(line), line + " in\n" + mntr);
            }
            ZooKeeper onTandem = clients.connect(tandem);
            ZooKeeper onOne = clients.connect(apache1);
            ZooKeeper onTwo = clients.connect(apache2);

            // Writes through the Tandem leader and through each Apache follower (forwarded to Tandem).
            onTandem.create("/led", bytes("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            BlockingQueue<WatchedEvent> onOneEvents = new LinkedBlockingQueue<>();
            assertNull(onOne.exists("/led/from-tandem", onOneEvents::add));
            onTandem.create("/led/from-tandem", bytes("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEvent(onOneEvents, Watcher.Event.EventType.NodeCreated, "/led/from-tandem");
            BlockingQueue<WatchedEvent> onTandemEvents = new LinkedBlockingQueue<>();
            onTandem.getChildren("/led", onTandemEvents::add);
            onTwo.create("/led/from-two", bytes("2"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEvent(onTandemEvents, Watcher.Event.EventType.NodeChildrenChanged, "/led");

            writeEveryKind("/led/m", onTandem, onOne, onTwo);
            // Apache's leader gauges of its proposal sizes (each PROPOSAL packet's data), set by the writes.
            String sized = mntr(tandem.clientPort());
            for (String key : List.of("zk_last_proposal_size", "zk_max_proposal_size", "zk_min_proposal_size")) {
                assertTrue(sized.matches("(?s).*\n" + key + "\t[1-9][0-9]*\n.*"), key + " in\n" + sized);
            }
            // The Tandem leader decides errors for the Apache followers' clients.
            assertThrows(KeeperException.NodeExistsException.class, () -> onOne.create("/led/m2", null,
                    Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertThrows(KeeperException.BadVersionException.class, () -> onTwo.setData("/led/m1", null, 7));
            assertThrows(KeeperException.NotEmptyException.class, () -> onOne.delete("/led/m3", -1));
            onTwo.addAuthInfo("digest", bytes("alice:secret"));
            // Alice may do anything, everyone may read (so the trees can be compared without her).
            List<ACL> aliceWritesAllRead = new ArrayList<>(Ids.CREATOR_ALL_ACL);
            aliceWritesAllRead.addAll(Ids.READ_ACL_UNSAFE);
            onTwo.create("/led/private", bytes("p"), aliceWritesAllRead, CreateMode.PERSISTENT);
            assertThrows(KeeperException.NoAuthException.class, () -> onOne.setData("/led/private", null, -1));
            // A write through Tandem, then sync + read through an Apache follower: the read sees it.
            onTandem.setData("/led/m3", bytes("after-sync"), -1);
            sync(onOne, "/led/m3");
            assertArrayEquals(bytes("after-sync"), onOne.getData("/led/m3", false, null));

            // A session made on an Apache follower moves to the other one (REVALIDATE at the Tandem leader).
            ZooKeeper moving = clients.connect(apache1);
            ZooKeeper moved = clients.track(new ZooKeeper("127.0.0.1:" + apache2.clientPort(),
                    TandemApacheModeProcess.SESSION_TIMEOUT_MS, event -> { }, moving.getSessionId(),
                    moving.getSessionPasswd()));
            ZkClients.awaitConnected(moved);
            moved.create("/led/moved", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            assertEquals(moving.getSessionId(), onTandem.exists("/led/moved", false).getEphemeralOwner());

            sync(onTandem, "/");
            sync(onOne, "/");
            sync(onTwo, "/");
            Map<String, String> expected = tree(onTandem);
            assertEquals(expected, tree(onOne), "Apache follower 1's tree");
            // A client without alice's auth, as on the other members: getACL redacts digests for those alone.
            assertEquals(expected, tree(clients.connect(apache2)), "Apache follower 2's tree");

            // An Apache follower killed and restarted empty-handed syncs again (SNAP) and sees the same tree.
            one.kill();
            onTandem.create("/led/while-one-was-down", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            onTwo.delete("/led/from-two", -1);
            try (ApacheQuorumProcess oneAgain = ensemble.startApache(1, "1b")) {
                assertTrue(ApacheQuorumProcess.await(() -> oneAgain.mode().equals("follower"), TIMEOUT_MS),
                        () -> "the restarted Apache member never followed:\n" + oneAgain.logTail()
                                + "\nTandem log:\n" + member.logTail());
                assertTrue(member.logText().matches("(?s).*syncing learner 1 \\(last zxid 0x0\\) by SNAP.*"),
                        member::logTail);
                ZooKeeper onOneAgain = clients.connect(apache1);
                onOneAgain.create("/led/after-restart", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                sync(onOneAgain, "/");
                sync(onTandem, "/");
                assertEquals(tree(onTandem), tree(onOneAgain), "the restarted Apache member's tree");
            }

            // Closing a session through an Apache follower (a forwarded closeSession) removes its ephemerals.
            clients.close(onTwo);
            sync(onTandem, "/");
            assertNull(onTandem.exists("/led/m3/ephemeral", false), "the closed session's ephemeral");
            assertNotNull(onTandem.exists("/led/m1/ephemeral", false));
        }
    }

    private static String modes(ApacheQuorumProcess one, ApacheQuorumProcess two, Ports tandem) {
        return "1=" + one.mode() + " 2=" + two.mode() + " 3=" + ApacheQuorumProcess.modeAt(tandem.clientPort());
    }
}
