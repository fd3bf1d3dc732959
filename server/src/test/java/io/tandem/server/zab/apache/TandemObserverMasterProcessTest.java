package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
import static io.tandem.server.zab.apache.ReconfigChecks.writeAndSeeEverywhere;
import static io.tandem.server.zab.apache.ZkClients.assertEvent;
import static io.tandem.server.zab.apache.ZkClients.assertSameTrees;
import static io.tandem.server.zab.apache.ZkClients.bytes;
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
 * A Tandem observer of Apache ZooKeeper 3.9.5 voters, all with {@code observerMasterPort} (ZOOKEEPER-3140): the
 * observer syncs from the Apache follower's learner master (Apache's ObserverMaster) instead of the leader, as
 * Apache's Observer.findLearnerMaster picks it (each voter's host at that port; the leader does not listen there, and
 * on this one host every voter's host is the follower's). The
 * leader then counts no observer of its own, while the observer serves clients, forwards writes through the follower,
 * and sees every commit. The follower restarted, the observer finds its learner master again, its client's session
 * kept.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TandemObserverMasterProcessTest {
    private static final long TIMEOUT_MS = 60_000;
    private static final Set<Long> OBSERVERS = Set.of(3L);

    @TempDir
    Path temp;

    @Test
    void aTandemObserverSyncsThroughAnApacheFollowersLearnerMaster() throws Exception {
        Ports one = Ports.fresh(1);
        Ports two = Ports.fresh(2);
        Ports three = Ports.fresh(3);
        Ports[] all = {one, two, three};
        // Every member on 127.0.0.1 shares the port: only the follower binds it (Apache's leader runs no learner
        // master), and the observer looks for it on each voter's host.
        List<String> settings = new ArrayList<>(MixedEnsemble.MNTR_SETTINGS);
        settings.add("observerMasterPort=" + ApacheQuorumProcess.freePort());
        ApacheQuorumProcess[] voters = new ApacheQuorumProcess[2];
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, OBSERVERS, three, all);
             ZkClients clients = new ZkClients()) {
            try {
                voters[0] = ApacheQuorumProcess.start(temp.resolve("1"), settings, OBSERVERS, one, all);
                voters[1] = ApacheQuorumProcess.start(temp.resolve("2"), settings, OBSERVERS, two, all);
                assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.leaderIndex(voters) >= 0
                        && voters[1 - ApacheQuorumProcess.leaderIndex(voters)].mode().equals("follower"), TIMEOUT_MS),
                        () -> "Apache members " + voters[0].mode() + ", " + voters[1].mode());
                int leader = ApacheQuorumProcess.leaderIndex(voters);
                int follower = 1 - leader;
                tandem.awaitMode(three, "observer", TIMEOUT_MS);
                // On one host the port a voter's host is asked at is the follower's, whichever voter is named.
                String through = "through the learner master of server ";
                assertTrue(ApacheQuorumProcess.await(() -> tandem.logText().contains(through)
                        && modeOf(three).equals("observer"), TIMEOUT_MS),
                        tandem::logTail);

                ZooKeeper onObserver = clients.connect(three);
                ZooKeeper onOne = clients.connect(one);
                ZooKeeper onTwo = clients.connect(two);
                writeAndSeeEverywhere("/via-observer", onObserver, onOne, onTwo, onObserver);
                writeAndSeeEverywhere("/via-apache", all[leader] == one ? onOne : onTwo, onObserver);
                ZkClients.writeEveryKind("/kind", onObserver, onOne, onTwo);
                BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
                onObserver.exists("/watched", events::add);
                onOne.create("/watched", bytes("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEvent(events, Watcher.Event.EventType.NodeCreated, "/watched");
                assertSameTrees(onObserver, onOne, onTwo);

                // The observer is the follower's learner, not the leader's: Apache's leader counts no observer.
                String leaderMntr = mntr(all[leader]);
                assertEquals("1", ApacheQuorumProcess.gauge(leaderMntr, "zk_synced_followers"), leaderMntr);
                assertEquals("0", ApacheQuorumProcess.gauge(leaderMntr, "zk_synced_observers"), leaderMntr);
                assertEquals("observer", ApacheQuorumProcess.gauge(mntr(three),
                        "zk_server_state"));

                // The learner master restarted: the observer's session through it ends, it finds it again (the
                // leader's host refuses it meanwhile) and syncs what was written while it was away.
                int logBefore = tandem.logText().length();
                voters[follower].kill();
                voters[follower] = ApacheQuorumProcess.start(temp.resolve(Long.toString(all[follower].sid())),
                        settings, OBSERVERS, all[follower], all);
                assertTrue(ApacheQuorumProcess.await(() -> voters[follower].mode().equals("follower")
                        || voters[follower].mode().equals("leader"), TIMEOUT_MS), voters[follower]::toString);
                ZooKeeper onLeader = all[ApacheQuorumProcess.leaderIndex(voters)] == one ? onOne : onTwo;
                ZkClients.retryOnConnectionLoss(() -> onLeader.create("/while-away", bytes("w"),
                        Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
                int newLeader = ApacheQuorumProcess.leaderIndex(voters);
                assertTrue(ApacheQuorumProcess.await(() -> tandem.logText().substring(logBefore).contains(through)
                        && modeOf(three).equals("observer"), TIMEOUT_MS),
                        tandem::logTail);
                ZkClients.retryOnConnectionLoss(() -> sync(onObserver, "/while-away"));
                assertArrayEquals(bytes("w"), onObserver.getData("/while-away", false, null));
                String newLeaderMntr = mntr(all[newLeader]);
                assertEquals("0", ApacheQuorumProcess.gauge(newLeaderMntr, "zk_synced_observers"), newLeaderMntr);
                ZkClients.retryOnConnectionLoss(() -> onObserver.create("/after", bytes("o"), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                ZooKeeper onFollower = clients.connect(all[1 - newLeader]);
                assertSameTrees(onObserver, onLeader, onFollower);
            } finally {
                ApacheQuorumProcess.killAll(voters);
            }
        }
    }
}
