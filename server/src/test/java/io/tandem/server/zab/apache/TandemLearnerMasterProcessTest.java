package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.gauge;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static io.tandem.server.zab.apache.ZkClients.assertEvent;
import static io.tandem.server.zab.apache.ZkClients.assertSameTrees;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.retryOnConnectionLoss;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * A voting Tandem member with {@code observerMasterPort} serves Apache 3.9.5 observers as Apache's follower does
 * (ZOOKEEPER-3140, ObserverMaster): Apache voter 3 leads, Tandem 1 follows, Apache observer 4 looks for a learner
 * master at each voter's host on that port (Observer.findLearnerMaster; the leader runs none and Apache voter 2 is not
 * up yet), so it syncs through the Tandem follower, which relays its clients' writes and syncs to the leader and
 * informs it of every commit. Each member has its own loopback host so that two followers can each bind the port.
 * Once Apache voter 2 runs with the port too, the Tandem follower killed sends the observer on to voter 2's learner
 * master, its client's session kept; Tandem restarted follows again and sees everything.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TandemLearnerMasterProcessTest {
    private static final long TIMEOUT_MS = 60_000;
    private static final Set<Long> OBSERVERS = Set.of(4L);

    @TempDir
    Path temp;

    @Test
    void anApacheObserverSyncsThroughATandemFollowersLearnerMasterAndMovesOnWhenItGoes() throws Exception {
        Ports tandemPorts = Ports.freshAt(1, "127.0.0.1");
        Ports two = Ports.freshAt(2, "127.0.0.2");
        Ports three = Ports.freshAt(3, "127.0.0.3");
        Ports four = Ports.freshAt(4, "127.0.0.4");
        Ports[] all = {tandemPorts, two, three, four};
        List<String> settings = new ArrayList<>(MixedEnsemble.MNTR_SETTINGS);
        settings.add("observerMasterPort=" + ApacheQuorumProcess.freePort());
        ApacheQuorumProcess[] apache = new ApacheQuorumProcess[3]; // voters 2 and 3, observer 4
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, OBSERVERS, tandemPorts, all);
             ZkClients clients = new ZkClients()) {
            try {
                apache[1] = ApacheQuorumProcess.start(temp.resolve("3"), settings, OBSERVERS, three, all);
                tandem.awaitMode(tandemPorts, "follower", TIMEOUT_MS);
                assertEquals("leader", modeOf(three));
                apache[2] = ApacheQuorumProcess.start(temp.resolve("4"), settings, OBSERVERS, four, all);
                assertTrue(ApacheQuorumProcess.await(() -> modeOf(four).equals("observer"), TIMEOUT_MS),
                        () -> apache[2].logTail() + "\n" + tandem.logTail());

                // The observer is the Tandem follower's learner: Apache's leader counts none, Tandem synced one.
                String leaderMntr = mntr(three);
                assertEquals("0", gauge(leaderMntr, "zk_synced_observers"), leaderMntr);
                String tandemMntr = mntr(tandemPorts);
                assertEquals(1, Long.parseLong(gauge(tandemMntr, "zk_snap_count"))
                        + Long.parseLong(gauge(tandemMntr, "zk_diff_count")), tandemMntr);
                assertEquals("1", gauge(tandemMntr, "zk_synced_observers"), tandemMntr);

                ZooKeeper onObserver = clients.connect(four);
                ZooKeeper onTandem = clients.connect(tandemPorts);
                ZooKeeper onLeader = clients.connect(three);
                writeAndSeeEverywhere("/via-observer", onObserver, onObserver, onTandem, onLeader);
                writeAndSeeEverywhere("/via-leader", onLeader, onObserver);
                writeAndSeeEverywhere("/via-tandem", onTandem, onObserver);
                ZkClients.writeEveryKind("/kind", onObserver, onTandem, onLeader);
                BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
                onObserver.exists("/watched", events::add);
                onLeader.create("/watched", bytes("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEvent(events, Watcher.Event.EventType.NodeCreated, "/watched");
                assertSameTrees(onObserver, onTandem, onLeader);

                // The learner master's figures are measured (Apache's Follower.processPacket around om's calls).
                tandemMntr = mntr(tandemPorts);
                assertTrue(Long.parseLong(gauge(tandemMntr, "zk_cnt_om_proposal_process_time_ms")) >= 5, tandemMntr);
                assertTrue(Long.parseLong(gauge(tandemMntr, "zk_cnt_om_commit_process_time_ms")) >= 5, tandemMntr);
                assertEquals("0", gauge(mntr(three), "zk_synced_observers"));

                // A second learner master (Apache voter 2, its own host); then the Tandem one goes: the observer
                // moves on to voter 2's, its client's session kept, and writes through it go on.
                apache[0] = ApacheQuorumProcess.start(temp.resolve("2"), settings, OBSERVERS, two, all);
                assertTrue(ApacheQuorumProcess.await(() -> modeOf(two).equals("follower"), TIMEOUT_MS),
                        apache[0]::logTail);
                long session = onObserver.getSessionId();
                tandem.kill();
                assertTrue(ApacheQuorumProcess.await(() -> "1".equals(gauge(mntr(two), "zk_synced_observers")),
                        TIMEOUT_MS), () -> apache[2].logTail());
                retryOnConnectionLoss(() -> onObserver.create("/while-tandem-away", bytes("w"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                assertEquals(session, onObserver.getSessionId());
                ZooKeeper onTwo = clients.connect(two);
                sync(onTwo, "/while-tandem-away");
                assertArrayEquals(bytes("w"), onTwo.getData("/while-tandem-away", false, null));

                // Tandem back: it follows, syncs what it missed, and serves observers again.
                tandem.restart(List.of(), settings);
                tandem.awaitMode(tandemPorts, "follower", TIMEOUT_MS);
                retryOnConnectionLoss(() -> onObserver.create("/after", bytes("o"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                ZooKeeper onTandemAgain = clients.connect(tandemPorts);
                sync(onTandemAgain, "/after");
                assertArrayEquals(bytes("o"), onTandemAgain.getData("/after", false, null));
                assertSameTrees(onObserver, onTandemAgain, onLeader, onTwo);
            } finally {
                ApacheQuorumProcess.killAll(apache);
            }
        }
    }
}
