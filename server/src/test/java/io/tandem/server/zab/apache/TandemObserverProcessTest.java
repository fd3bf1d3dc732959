package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.count;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static io.tandem.server.zab.apache.ZkClients.assertEvent;
import static io.tandem.server.zab.apache.ZkClients.assertSameTrees;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Tandem member observing an ensemble of Apache ZooKeeper 3.9.5 voters (its own {@code server.3=...:observer} line,
 * as Apache's Observer): it finds the leader by election without being a candidate, registers with OBSERVERINFO,
 * learns commits by INFORM, serves reads and watches, forwards writes, says {@code observer} in srvr and mntr, and
 * never counts in a quorum.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TandemObserverProcessTest {
    /** Each wait within the test's own time limit, so that a failure says what it waited for. */
    private static final long TIMEOUT_MS = 60_000;
    private static final Set<Long> OBSERVERS = Set.of(3L);
    private static final List<String> SETTINGS = MixedEnsemble.MNTR_SETTINGS;

    @TempDir
    Path temp;

    /**
     * Apache voters 1 and 2, Tandem observer 3. Clients of every member (the Java client, and kazoo through the
     * observer) write through each and read and watch through the observer; the Apache leader's mntr counts one
     * follower and one observer. With the Apache leader killed the other voter, with Tandem's vote-less help, has no
     * quorum and leads nothing; the leader restarted, the ensemble elects again and the observer syncs with it, its
     * client's session carrying on. Tandem killed, writes go on without it; restarted on its data, it syncs the
     * writes it missed.
     */
    @Test
    void aTandemObserverServesAnApacheEnsembleAndNeverCountsInItsQuorum() throws Exception {
        Ports one = Ports.fresh(1);
        Ports two = Ports.fresh(2);
        Ports three = Ports.fresh(3);
        Ports[] all = {one, two, three};
        ApacheQuorumProcess[] voters = new ApacheQuorumProcess[2];
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"),
                TandemApacheModeProcess.electionDebugLogging(temp), SETTINGS, OBSERVERS, three, all);
             ZkClients clients = new ZkClients()) {
            try {
                voters[0] = startApache(one, all);
                voters[1] = startApache(two, all);
                tandem.awaitMode(three, "observer", TIMEOUT_MS);
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.leaderIndex(voters) >= 0
                        && voters[1 - ApacheQuorumProcess.leaderIndex(voters)].mode().equals("follower"), TIMEOUT_MS),
                        () -> "Apache members " + voters[0].mode() + ", " + voters[1].mode());
                assertTrue(tandem.logText().contains("observing leader"), tandem::logTail);

                ZooKeeper onObserver = clients.connect(three);
                ZooKeeper onOne = clients.connect(one);
                ZooKeeper onTwo = clients.connect(two);
                writeAndSeeEverywhere("/via-observer", onObserver, onOne, onTwo, onObserver);
                writeAndSeeEverywhere("/via-apache", onTwo, onObserver);
                ZkClients.writeEveryKind("/kind", onObserver, onOne, onTwo);

                // Watches set through the observer fire for writes made on the Apache members.
                BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
                Watcher watcher = events::add;
                onObserver.exists("/watched", watcher);
                onOne.create("/watched", bytes("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEvent(events, Watcher.Event.EventType.NodeCreated, "/watched");
                sync(onObserver, "/watched");
                assertArrayEquals(bytes("a"), onObserver.getData("/watched", watcher, null));
                onTwo.setData("/watched", bytes("b"), -1);
                assertEvent(events, Watcher.Event.EventType.NodeDataChanged, "/watched");
                onObserver.getChildren("/watched", watcher);
                onOne.create("/watched/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEvent(events, Watcher.Event.EventType.NodeChildrenChanged, "/watched");

                kazoo(three, "/kazoo");
                sync(onOne, "/kazoo");
                assertArrayEquals(bytes("from kazoo 2"), onOne.getData("/kazoo", false, null), "kazoo's write");

                assertSameTrees(onObserver, onOne, onTwo);
                assertEquals("observer", ApacheQuorumProcess.gauge(mntr(three), "zk_server_state"));
                // Its quorum figures as Apache's Observer counts them: each INFORM a commit received, no proposal
                // received, its sync timed as an observer's, no election time (ApacheQuorumFigures).
                String observerMntr = mntr(three);
                assertTrue(Long.parseLong(ApacheQuorumProcess.gauge(observerMntr,
                        "zk_learner_commit_received_count")) >= 5, observerMntr);
                assertEquals("0", ApacheQuorumProcess.gauge(observerMntr, "zk_learner_proposal_received_count"));
                assertEquals("0", ApacheQuorumProcess.gauge(observerMntr, "zk_cnt_election_time"), observerMntr);
                assertEquals("0", ApacheQuorumProcess.gauge(observerMntr, "zk_cnt_follower_sync_time"));
                assertTrue(Long.parseLong(ApacheQuorumProcess.gauge(observerMntr, "zk_cnt_observer_sync_time")) >= 1,
                        observerMntr);
                String leaderMntr = mntr(all[ApacheQuorumProcess.leaderIndex(voters)]);
                assertEquals("1", ApacheQuorumProcess.gauge(leaderMntr, "zk_synced_followers"), leaderMntr);
                assertEquals("1", ApacheQuorumProcess.gauge(leaderMntr, "zk_synced_observers"),
                        "Apache's leader sees an observer");

                // The Apache leader killed: the other voter and the observer are two of three members but one voter.
                int leader = ApacheQuorumProcess.leaderIndex(voters);
                int syncsBefore = count(tandem.logText(), "synced with the leader");
                ApacheQuorumProcess survivor = voters[1 - leader];
                int votesBefore = TandemApacheModeProcess.notificationsReceived(tandem.logText(), three.sid(),
                        survivor.ports.sid());
                voters[leader].kill();
                assertTrue(ApacheQuorumProcess.await(() -> !survivor.mode().matches("leader|follower")
                        && !modeOf(three).equals("observer"), TIMEOUT_MS),
                        () -> "survivor " + survivor.mode() + ", Tandem " + modeOf(three));
                // Several election rounds: the observer (looking, its notifications every 200 ms and doubling) has
                // had the survivor's vote three times since. This was a fixed 4 s sleep.
                assertTrue(ApacheQuorumProcess.await(() -> TandemApacheModeProcess.notificationsReceived(
                        tandem.logText(), three.sid(), survivor.ports.sid()) >= votesBefore + 3, TIMEOUT_MS),
                        tandem::logTail);
                assertFalse(survivor.mode().matches("leader|follower"), "one voter and an observer lead nothing");
                assertFalse(modeOf(three).equals("observer"), "the observer has no leader to observe");

                voters[leader] = startApache(all[leader], all);
                tandem.awaitMode(three, "observer", TIMEOUT_MS);
                assertTrue(ApacheQuorumProcess.await(() -> count(tandem.logText(), "synced with the leader")
                        > syncsBefore, TIMEOUT_MS), tandem::logTail);
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/after-failover", onObserver,
                        onOne, onTwo));
                assertSameTrees(onObserver, onOne, onTwo);

                // The observer killed: the voters go on; restarted on its data, it syncs what it missed.
                tandem.kill();
                onOne.create("/while-tandem-down", bytes("x"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                ZkClients.writeEveryKind("/missed", onTwo);
                tandem.restart(List.of(), SETTINGS);
                tandem.awaitMode(three, "observer", TIMEOUT_MS);
                ZooKeeper again = clients.connect(three);
                sync(again, "/");
                assertArrayEquals(bytes("x"), again.getData("/while-tandem-down", false, null));
                assertSameTrees(again, onOne, onTwo);
                assertEquals("observer", modeOf(three));
            } finally {
                ApacheQuorumProcess.killAll(voters);
            }
        }
    }

    /**
     * Apache voters 1, 2 and 3 and Tandem observer 4. The Apache leader killed, the other two voters elect a new one
     * and the observer finds it by election and syncs with it in the new epoch: its client's session and watch carry
     * on, and writes through it commit with the two voters. A reconfig (reconfigEnabled, asked through the observer)
     * reaches it by INFORMANDACTIVATE: getConfig and /zookeeper/config on the observer as on the voters.
     */
    @Test
    void aTandemObserverFollowsTheNextApacheLeaderAndActivatesItsReconfig() throws Exception {
        Ports[] all = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3), Ports.fresh(4)};
        Ports observer = all[3];
        Set<Long> observers = Set.of(4L);
        List<String> settings = ReconfigAdmin.settings(SETTINGS);
        ApacheQuorumProcess[] voters = new ApacheQuorumProcess[3];
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, observers, observer, all);
             ZkClients clients = new ZkClients()) {
            try {
                for (int i = 0; i < 3; i++) {
                    voters[i] = ApacheQuorumProcess.start(temp.resolve(Integer.toString(i + 1)), settings, observers,
                            all[i], all);
                }
                tandem.awaitMode(observer, "observer", TIMEOUT_MS);
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.leaderIndex(voters) >= 0, TIMEOUT_MS),
                        "an Apache leader");
                ZooKeeper onObserver = clients.connect(observer);
                int leader = ApacheQuorumProcess.leaderIndex(voters);
                ZooKeeper onOther = clients.connect(all[(leader + 1) % 3]);
                writeAndSeeEverywhere("/before", onObserver, onOther);
                BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
                // The client hands its watchers connection events too (Disconnected in a failover): only znode events.
                onObserver.getData("/before", event -> {
                    if (event.getType() != Watcher.Event.EventType.None) events.add(event);
                }, null);
                long session = onObserver.getSessionId();

                int syncsBefore = count(tandem.logText(), "synced with the leader");
                voters[leader].kill();
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.leaderIndex(voters) >= 0
                        && ApacheQuorumProcess.leaderIndex(voters) != leader
                        && count(tandem.logText(), "synced with the leader") > syncsBefore
                        && modeOf(observer).equals("observer"), TIMEOUT_MS),
                        () -> "no new leader observed:\n" + tandem.logTail());
                ZkClients.retryOnConnectionLoss(() -> onOther.setData("/before", bytes("changed"), -1));
                assertEvent(events, Watcher.Event.EventType.NodeDataChanged, "/before");
                assertEquals(session, onObserver.getSessionId(), "the observer's client kept its session");
                ZkClients.retryOnConnectionLoss(() -> writeAndSeeEverywhere("/after", onObserver, onOther));
                assertSameTrees(onObserver, onOther);

                String added;
                try (org.apache.zookeeper.admin.ZooKeeperAdmin admin = ReconfigAdmin.connect(observer)) {
                    Ports five = Ports.fresh(5);
                    added = ReconfigChecks.text(admin.reconfigure("server.5=127.0.0.1:" + five.quorumPort() + ":"
                            + five.electionPort() + ":observer;127.0.0.1:" + five.clientPort(), null, null, -1, null));
                }
                assertTrue(added.contains("server.5="), added);
                assertEquals(added, ReconfigChecks.assertSameConfig(onOther, onObserver));
                String version = added.substring(added.lastIndexOf("version=") + "version=".length()).trim();
                assertTrue(tandem.logText().contains("activated configuration version 0x" + version),
                        () -> "INFORMANDACTIVATE of " + version + " not activated:\n" + tandem.logTail());
                assertEquals("observer", modeOf(observer), tandem::logTail);
                writeAndSeeEverywhere("/after-reconfig", onObserver, onOther);
            } finally {
                ApacheQuorumProcess.killAll(voters);
            }
        }
    }

    private ApacheQuorumProcess startApache(Ports member, Ports[] all) throws IOException {
        return ApacheQuorumProcess.start(temp.resolve(Long.toString(member.sid())), SETTINGS, OBSERVERS, member, all);
    }

    /**
     * kazoo (Debian's python3-kazoo) through {@code member}: create, read, a data watch fired by its own set, and the
     * children listed; the script checks itself and prints PASS.
     */
    private static void kazoo(Ports member, String path) throws Exception {
        String script = """
                import sys, threading
                from kazoo.client import KazooClient
                zk = KazooClient(hosts=sys.argv[1], timeout=20)
                zk.start(timeout=30)
                path = sys.argv[2]
                zk.create(path, b"from kazoo 1")
                data, stat = zk.get(path)
                assert data == b"from kazoo 1", data
                fired = threading.Event()
                zk.get(path, watch=lambda event: fired.set())
                zk.set(path, b"from kazoo 2", version=stat.version)
                assert fired.wait(30), "no data watch event"
                zk.create(path + "/child", b"")
                assert zk.get_children(path) == ["child"], zk.get_children(path)
                zk.stop()
                print("PASS")
                """;
        Process python = new ProcessBuilder("/usr/bin/python3", "-c", script, "127.0.0.1:" + member.clientPort(),
                path).redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(60, TimeUnit.SECONDS), "kazoo did not finish");
        assertEquals(0, python.exitValue(), output);
        assertTrue(output.strip().endsWith("PASS"), output);
    }
}
