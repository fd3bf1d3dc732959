package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.tandem.server.zab.apache.ZkClients.awaitConnected;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.retryOnConnectionLoss;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
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
    private static final long TIMEOUT_MS = 120_000;
    private static final int TIMEOUT_MS_INT = (int) TIMEOUT_MS;
    /** Sessions outlive a failover on a loaded box: Apache's maxSessionTimeout is raised to match. */
    private static final int SESSION_TIMEOUT_MS = 40_000;

    @TempDir
    Path temp;

    private Process tandemProcess;
    private final List<ZooKeeper> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (ZooKeeper client : clients) {
            client.close(2_000);
        }
        if (tandemProcess != null) {
            tandemProcess.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void clientsOnEveryMemberSeeOneTreeAndTandemCarriesOnAfterTheApacheLeaderIsKilled() throws Exception {
        // Tandem has the lowest sid, so an Apache member leads (ApacheLeaderProcessTest has Tandem leading).
        Ports tandem = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports apache3 = Ports.fresh(3);
        List<String> apacheExtra = List.of("maxSessionTimeout=" + SESSION_TIMEOUT_MS);
        try (ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apacheExtra, apache2, tandem,
                     apache2, apache3);
             ApacheQuorumProcess three = ApacheQuorumProcess.start(temp.resolve("3"), apacheExtra, apache3, tandem,
                     apache2, apache3)) {
            Path tandemLog = startTandem(tandem, tandem, apache2, apache3);
            assertTrue(ApacheQuorumProcess.await(() -> modes(tandem, two, three).matches(
                    "1=follower (2=leader 3=follower|2=follower 3=leader)"), TIMEOUT_MS),
                    () -> "members never settled: " + modes(tandem, two, three) + "\nTandem log:\n"
                            + tail(tandemLog) + "\nApache 2:\n" + two.logTail() + "\nApache 3:\n" + three.logTail());
            boolean twoLeads = two.mode().equals("leader");
            ApacheQuorumProcess leader = twoLeads ? two : three;
            Ports follower = twoLeads ? apache3 : apache2;
            Ports leaderPorts = twoLeads ? apache2 : apache3;

            ZooKeeper onTandem = connect(tandem);
            ZooKeeper onFollower = connect(follower);
            ZooKeeper onLeader = connect(leaderPorts);
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

            int member = 0;
            for (ZooKeeper client : List.of(onTandem, onFollower, onLeader)) {
                String base = "/seam/m" + (++member);
                client.create(base, bytes("v0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEquals(1, client.setData(base, bytes("v1"), 0).getVersion());
                client.create(base + "/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                client.create(base + "/seq-", bytes("s"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
                client.create(base + "/ephemeral", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                client.delete(base + "/child", -1);
                client.multi(List.of(Op.create(base + "/multi", bytes("m"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT), Op.setData(base, bytes("v2"), 1)));
            }
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
            ZooKeeper moving = connect(follower);
            ZooKeeper moved = track(new ZooKeeper("127.0.0.1:" + tandem.clientPort(), SESSION_TIMEOUT_MS,
                    event -> { }, moving.getSessionId(), moving.getSessionPasswd()));
            awaitConnected(moved);
            moved.create("/seam/moved", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            assertEquals(moving.getSessionId(), onLeader.exists("/seam/moved", false).getEphemeralOwner());

            Map<String, String> expected = tree(onLeader);
            assertEquals(expected, tree(onFollower), "Apache follower's tree");
            assertEquals(expected, tree(onTandem), "Tandem's tree");
            assertEquals(tandemSession, onTandem.exists("/seam/m1/ephemeral", false).getEphemeralOwner());

            // Kill the Apache leader: the survivor can only lead with Tandem's vote and Tandem following it.
            leader.kill();
            ApacheQuorumProcess survivor = twoLeads ? three : two;
            assertTrue(ApacheQuorumProcess.await(() -> survivor.mode().equals("leader")
                            && ApacheQuorumProcess.modeAt(tandem.clientPort()).equals("follower"), TIMEOUT_MS),
                    () -> "no new leader: " + modes(tandem, two, three) + "\nTandem log:\n" + tail(tandemLog));
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
            ZooKeeper onSurvivor = connect(follower); // the follower that survived leads now
            onSurvivor.create("/seam/from-survivor", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEvent(afterEvents, Watcher.Event.EventType.NodeCreated, "/seam/from-survivor");
            sync(onTandem, "/");
            assertEquals(tree(onSurvivor), tree(onTandem), "Tandem's tree after the failover");

            // Closing the session through Tandem (a forwarded closeSession) removes its ephemerals everywhere.
            clients.remove(onTandem);
            onTandem.close(TIMEOUT_MS_INT);
            sync(onSurvivor, "/");
            assertEquals(null, onSurvivor.exists("/seam/m1/ephemeral", false), "the closed session's ephemeral");
        }
    }

    @Test
    void tandemJoiningLateInstallsTheLeadersSnapshotAndRestartsFromItsOwnFiles() throws Exception {
        Ports tandem = Ports.fresh(1);
        Ports apache2 = Ports.fresh(2);
        Ports apache3 = Ports.fresh(3);
        List<String> apacheExtra = List.of("maxSessionTimeout=" + SESSION_TIMEOUT_MS);
        try (ApacheQuorumProcess two = ApacheQuorumProcess.start(temp.resolve("2"), apacheExtra, apache2, tandem,
                     apache2, apache3);
             ApacheQuorumProcess three = ApacheQuorumProcess.start(temp.resolve("3"), apacheExtra, apache3, tandem,
                     apache2, apache3)) {
            // The two Apache members form the quorum alone; Tandem is not running yet.
            assertTrue(ApacheQuorumProcess.await(() -> modes(tandem, two, three).matches(
                    "1=down (2=leader 3=follower|2=follower 3=leader)"), TIMEOUT_MS),
                    () -> "Apache members never settled: " + modes(tandem, two, three));
            ZooKeeper onTwo = connect(apache2);
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
            Path tandemLog = startTandem(tandem, tandem, apache2, apache3);
            assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.modeAt(tandem.clientPort())
                    .equals("follower"), TIMEOUT_MS), () -> "Tandem never followed:\n" + tail(tandemLog));
            assertTrue(Files.readString(tandemLog).contains("Installed the leader's snapshot"), () -> tail(tandemLog));
            ZooKeeper onTandem = connect(tandem);
            onTandem.addAuthInfo("digest", bytes("alice:secret"));
            sync(onTandem, "/");
            assertEquals(tree(onTwo), tree(onTandem), "Tandem's tree after SNAP");
            // The session from the snapshot owns its ephemeral; ACLs from the snapshot are enforced by the leader.
            assertEquals(onTwo.getSessionId(), onTandem.exists("/early/ephemeral", false).getEphemeralOwner());
            assertThrows(KeeperException.NoAuthException.class, () -> onTandem.setData("/early/read-only", null, -1));
            onTandem.setData("/early/private", bytes("p2"), -1);

            // Killed, it restarts from its own files (the SNAP and the proposals logged after it) and catches up.
            for (int i = 0; i < 5; i++) {
                onTandem.create("/early/by-tandem-" + i, bytes("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            tandemProcess.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            onTwo.create("/while-tandem-was-down", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            onTwo.delete("/early/by-tandem-0", -1);
            startTandem(tandem, tandem, apache2, apache3);
            assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.modeAt(tandem.clientPort())
                    .equals("follower"), TIMEOUT_MS), () -> "Tandem never followed again:\n" + tail(tandemLog));
            assertTrue(Files.readString(tandemLog).contains("Recovered the Apache-protocol state: snapshot at zxid"),
                    () -> tail(tandemLog));
            ZooKeeper again = connect(tandem);
            again.addAuthInfo("digest", bytes("alice:secret"));
            again.create("/after-restart", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            sync(again, "/");
            sync(onTwo, "/");
            assertEquals(tree(onTwo), tree(again), "Tandem's tree after its restart");
        }
    }

    private Path startTandem(Ports me, Ports... all) throws IOException {
        Path dir = Files.createDirectories(temp.resolve("tandem"));
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main",
                "start", "--roles", "zookeeper", "--data-dir", dir.resolve("data").toString(),
                "--zk-port", Integer.toString(me.clientPort()), "--set", "myid=" + me.sid(),
                "--set", "tandem.quorumProtocol=apache", "--set", "tickTime=" + ApacheQuorumProcess.TICK_TIME_MS,
                "--set", "initLimit=20", "--set", "syncLimit=5",
                "--set", "maxSessionTimeout=" + SESSION_TIMEOUT_MS));
        for (Ports p : all) {
            command.add("--set");
            command.add("server." + p.sid() + "=127.0.0.1:" + p.quorumPort() + ":" + p.electionPort());
        }
        Path log = dir.resolve("tandem.log");
        tandemProcess = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return log;
    }

    private static String modes(Ports tandem, ApacheQuorumProcess two, ApacheQuorumProcess three) {
        return "1=" + ApacheQuorumProcess.modeAt(tandem.clientPort()) + " 2=" + two.mode() + " 3=" + three.mode();
    }

    private ZooKeeper connect(Ports member) throws Exception {
        ZooKeeper client = track(new ZooKeeper("127.0.0.1:" + member.clientPort(), SESSION_TIMEOUT_MS, event -> { }));
        awaitConnected(client);
        return client;
    }

    private ZooKeeper track(ZooKeeper client) {
        clients.add(client);
        return client;
    }

    private static void assertEvent(BlockingQueue<WatchedEvent> events, Watcher.Event.EventType type, String path)
            throws InterruptedException {
        WatchedEvent event = events.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(event, "no " + type + " for " + path);
        assertEquals(type, event.getType(), event::toString);
        assertEquals(path, event.getPath());
    }

    private static String tail(Path log) {
        try {
            String[] lines = Files.readString(log).split("\n");
            return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 60), lines.length));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
