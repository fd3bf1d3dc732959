package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.count;
import static io.tandem.server.zab.apache.ApacheQuorumProcess.modeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryForever;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Curator's recipes through a Tandem member observing two Apache ZooKeeper 3.9.5 voters, the way they run through an
 * Apache observer: a client connected only to the observer holds an {@link InterProcessMutex}, a {@link LeaderLatch}
 * passes between two participants, and a {@link CuratorCache} follows writes made on the Apache side. The observer
 * killed while the voters take more writes than the Apache leader's committed log holds (its commitLogCount, which
 * Apache's ZKDatabase never lets below 500, and snapshotSizeFactor=-1 so that no transaction-log sync stands in:
 * Apache's LearnerHandler then sends SNAP), and
 * restarted on its data, it syncs by SNAP to the voters' tree, and the Curator client reconnects within its session.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TandemObserverCuratorProcessTest {
    private static final long TIMEOUT_MS = 60_000;
    /**
     * More writes than the Apache leader's committed log holds (ZKDatabase's commitLogCount, 500 at least): the
     * restarted observer is too far behind for a DIFF.
     */
    private static final int MISSED_WRITES = 520;

    @TempDir
    Path temp;

    @Test
    void curatorRecipesWorkThroughATandemObserverAndSurviveItsSnapResync() throws Exception {
        Ports[] all = {Ports.fresh(1), Ports.fresh(2), Ports.fresh(3)};
        Ports three = all[2];
        Set<Long> observers = Set.of(3L);
        List<String> settings = List.of("maxSessionTimeout=" + TandemApacheModeProcess.SESSION_TIMEOUT_MS);
        List<String> apacheSettings = new ArrayList<>(settings);
        apacheSettings.add("snapshotSizeFactor=-1");
        ApacheQuorumProcess[] voters = new ApacheQuorumProcess[2];
        try (TandemApacheModeProcess tandem = TandemApacheModeProcess.start(temp.resolve("tandem"), List.of(),
                settings, observers, three, all);
             ZkClients clients = new ZkClients()) {
            try {
                for (int i = 0; i < 2; i++) {
                    voters[i] = ApacheQuorumProcess.start(temp.resolve(Integer.toString(i + 1)), apacheSettings,
                            observers, all[i], all);
                }
                awaitObserving(tandem, three);
                ZooKeeper onOne = clients.connect(all[0]);
                List<ConnectionState> states = new CopyOnWriteArrayList<>();
                try (CuratorFramework curator = CuratorFrameworkFactory.builder()
                        .connectString("127.0.0.1:" + three.clientPort())
                        .sessionTimeoutMs(TandemApacheModeProcess.SESSION_TIMEOUT_MS).connectionTimeoutMs(15_000)
                        .retryPolicy(new RetryForever(200)).build()) {
                    curator.getConnectionStateListenable().addListener((client, state) -> states.add(state));
                    curator.start();
                    assertTrue(curator.blockUntilConnected(60, TimeUnit.SECONDS), "Curator never connected");
                    long session = curator.getZookeeperClient().getZooKeeper().getSessionId();

                    curator.create().creatingParentsIfNeeded().forPath("/cache/seed", ZkClients.bytes("seed"));
                    Map<String, String> cached = new ConcurrentHashMap<>();
                    // The first latch is closed by the test itself (closing it twice throws).
                    LeaderLatch first = new LeaderLatch(curator, "/latch", "first");
                    try (CuratorCache cache = CuratorCache.build(curator, "/cache");
                         LeaderLatch second = new LeaderLatch(curator, "/latch", "second")) {
                        cache.listenable().addListener((type, before, after) -> {
                            if (after != null) {
                                cached.put(after.getPath(), new String(after.getData() == null ? new byte[0]
                                        : after.getData(), java.nio.charset.StandardCharsets.UTF_8));
                            } else if (before != null) {
                                cached.remove(before.getPath());
                            }
                        });
                        cache.start();
                        onOne.create("/cache/from-apache", ZkClients.bytes("apache"), Ids.OPEN_ACL_UNSAFE,
                                CreateMode.PERSISTENT);
                        awaitCached(cached, "/cache/from-apache", "apache");
                        assertEquals("seed", cached.get("/cache/seed"));

                        InterProcessMutex mutex = new InterProcessMutex(curator, "/locks/m");
                        assertTrue(mutex.acquire(30, TimeUnit.SECONDS), "the mutex through the observer");
                        ZkClients.sync(onOne, "/locks/m");
                        assertEquals(1, onOne.getChildren("/locks/m", false).size(), "the lock node on the voters");
                        mutex.release();

                        first.start();
                        assertTrue(first.await(30, TimeUnit.SECONDS), "the first latch leads");
                        second.start();
                        assertFalse(second.await(2, TimeUnit.SECONDS), "one leader at a time");
                        first.close();
                        assertTrue(second.await(30, TimeUnit.SECONDS), "the second latch takes over");

                        // The observer killed: the voters take more writes than a DIFF could carry.
                        int snapsBefore = count(tandem.logText(), "SNAP from the leader");
                        tandem.kill();
                        java.util.concurrent.CountDownLatch written = new java.util.concurrent.CountDownLatch(
                                MISSED_WRITES);
                        List<Integer> failed = new CopyOnWriteArrayList<>();
                        for (int i = 0; i < MISSED_WRITES; i++) {
                            onOne.create("/cache/missed-" + i, ZkClients.bytes("m" + i), Ids.OPEN_ACL_UNSAFE,
                                    CreateMode.PERSISTENT, (rc, path, ctx, name) -> {
                                        if (rc != 0) failed.add(rc);
                                        written.countDown();
                                    }, null);
                        }
                        assertTrue(written.await(60, TimeUnit.SECONDS), "the writes while the observer is down");
                        assertEquals(List.of(), failed, "result codes of the writes while the observer is down");
                        tandem.restart(List.of(), settings);
                        awaitObserving(tandem, three);
                        assertTrue(ApacheQuorumProcess.await(() -> count(tandem.logText(), "SNAP from the leader")
                                > snapsBefore, TIMEOUT_MS), () -> "no SNAP from the Apache leader:\n"
                                + tandem.logTail());
                        assertTrue(curator.blockUntilConnected(60, TimeUnit.SECONDS), "Curator never reconnected");
                        awaitCached(cached, "/cache/missed-" + (MISSED_WRITES - 1), "m" + (MISSED_WRITES - 1));
                        assertEquals(session, curator.getZookeeperClient().getZooKeeper().getSessionId(),
                                "Curator's session survived the observer's restart");
                        assertFalse(states.contains(ConnectionState.LOST), () -> "states " + states);
                        assertTrue(states.contains(ConnectionState.RECONNECTED), () -> "states " + states);
                        assertTrue(second.hasLeadership(), "the latch kept its leadership with its session");

                        ZooKeeper onTandem = clients.connect(three);
                        ZkClients.sync(onTandem, "/");
                        ZkClients.sync(onOne, "/");
                        assertEquals(ZkClients.tree(onOne), ZkClients.tree(onTandem), "the trees after the SNAP");
                        assertTrue(mutex.acquire(30, TimeUnit.SECONDS), "the mutex after the resync");
                        mutex.release();
                        curator.setData().forPath("/cache/seed", ZkClients.bytes("after"));
                        ZkClients.sync(onOne, "/cache/seed");
                        assertArrayEquals(ZkClients.bytes("after"), onOne.getData("/cache/seed", false, null));
                        awaitCached(cached, "/cache/seed", "after");
                    }
                }
            } finally {
                ApacheQuorumProcess.killAll(voters);
            }
        }
    }

    private static void awaitCached(Map<String, String> cached, String path, String data)
            throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> data.equals(cached.get(path)), TIMEOUT_MS),
                () -> "the cache never saw " + path + "=" + data + ": " + cached.get(path));
    }

    private static void awaitObserving(TandemApacheModeProcess tandem, Ports member) throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> modeOf(member).equals("observer"),
                TIMEOUT_MS), () -> "Tandem never observed:\n" + tandem.logTail());
    }
}
