package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Curator 5.9 recipes, each with more than one client so the coordination really goes through the server. */
@ExtendWith(ZkTargetExtension.class)
class CuratorRecipesCompatTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ZkTarget target;

    @BeforeEach
    void remember(ZkTarget started) {
        target = started;
    }

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    private CuratorFramework client() throws InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(target.connectString())
                .sessionTimeoutMs(Zk.SESSION_TIMEOUT_MS)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3))
                .build();
        client.start();
        assertTrue(client.blockUntilConnected((int) Zk.WAIT_SECONDS, TimeUnit.SECONDS), "Curator connected");
        toClose.add(client);
        return client;
    }

    @Test
    void interProcessMutexShouldLetOnlyOneHolderInAtATime() throws Exception {
        int clients = 3;
        int rounds = 5;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        AtomicInteger entries = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                InterProcessMutex mutex = new InterProcessMutex(client(), "/curator/mutex");
                futures.add(pool.submit(() -> {
                    for (int round = 0; round < rounds; round++) {
                        if (!mutex.acquire(Zk.WAIT_SECONDS, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("lock not acquired in time");
                        }
                        try {
                            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            entries.incrementAndGet();
                            Thread.sleep(5);
                            inside.decrementAndGet();
                        } finally {
                            mutex.release();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, maxInside.get());
        assertEquals(clients * rounds, entries.get());
        // The lock nodes are ephemeral-sequential and all gone once released. Their parent is a container, so the
        // server's container sweep (every 250 ms here, on Apache as on Tandem) may already have removed it too.
        List<String> left;
        try {
            left = client().getChildren().forPath("/curator/mutex");
        } catch (org.apache.zookeeper.KeeperException.NoNodeException sweptContainer) {
            left = List.of();
        }
        assertEquals(List.of(), left);
    }

    @Test
    void interProcessMutexShouldBeReentrantForItsHolder() throws Exception {
        InterProcessMutex mutex = new InterProcessMutex(client(), "/curator/reentrant");
        assertTrue(mutex.acquire(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        assertTrue(mutex.acquire(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        InterProcessMutex other = new InterProcessMutex(client(), "/curator/reentrant");
        assertFalse(other.acquire(200, TimeUnit.MILLISECONDS));
        mutex.release();
        assertFalse(other.acquire(200, TimeUnit.MILLISECONDS));
        mutex.release();
        assertTrue(other.acquire(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        other.release();
    }

    @Test
    void leaderLatchShouldElectExactlyOneLeaderAndHandOverWhenItCloses() throws Exception {
        LeaderLatch first = new LeaderLatch(client(), "/curator/latch", "first");
        LeaderLatch second = new LeaderLatch(client(), "/curator/latch", "second");
        first.start();
        assertTrue(first.await(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        second.start();
        Zk.awaitTrue("second latch to join", () -> participants(second) == 2);
        assertFalse(second.hasLeadership());
        assertEquals("first", second.getLeader().getId());

        first.close();
        assertTrue(second.await(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals("second", second.getLeader().getId());
        second.close();
    }

    private static int participants(LeaderLatch latch) {
        try {
            return latch.getParticipants().size();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void leaderSelectorShouldGiveLeadershipToEachParticipantInTurn() throws Exception {
        BlockingQueue<String> leaders = new LinkedBlockingQueue<>();
        List<LeaderSelector> selectors = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            LeaderSelector selector = new LeaderSelector(client(), "/curator/selector", new LeaderSelectorListenerAdapter() {
                @Override
                public void takeLeadership(CuratorFramework client) {
                    leaders.add(name);
                }
            });
            selectors.add(selector);
        }
        selectors.forEach(LeaderSelector::start);
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String leader = leaders.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(leader, "a leader was elected");
            seen.add(leader);
        }
        selectors.forEach(LeaderSelector::close);
        assertEquals(List.of("a", "b", "c"), seen.stream().sorted().toList());
    }

    @Test
    void curatorCacheShouldMirrorTheTreeAndReportCreateChangeDelete() throws Exception {
        CuratorFramework writer = client();
        writer.create().creatingParentsIfNeeded().forPath("/curator/cache/a", new byte[] {1});
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CountDownLatch initialized = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(client(), "/curator/cache");
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(node -> events.add("created " + node.getPath()))
                .forChanges((before, after) -> events.add("changed " + after.getPath() + " " + after.getData()[0]))
                .forDeletes(node -> events.add("deleted " + node.getPath()))
                .forInitialized(initialized::countDown)
                .build());
        toClose.add(cache);
        cache.start();
        Zk.await(initialized, "cache initialization");
        assertEquals("created /curator/cache", events.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals("created /curator/cache/a", events.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS));

        writer.create().forPath("/curator/cache/a/deep", new byte[] {2});
        assertEquals("created /curator/cache/a/deep", events.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        writer.setData().forPath("/curator/cache/a", new byte[] {9});
        assertEquals("changed /curator/cache/a 9", events.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        writer.delete().forPath("/curator/cache/a/deep");
        assertEquals("deleted /curator/cache/a/deep", events.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        assertArrayEquals(new byte[] {9}, cache.get("/curator/cache/a").orElseThrow().getData());
        assertEquals(2, cache.size());
    }

    @Test
    void distributedBarrierShouldHoldWaitersUntilRemoved() throws Exception {
        DistributedBarrier controller = new DistributedBarrier(client(), "/curator/barrier");
        controller.setBarrier();
        DistributedBarrier waiter = new DistributedBarrier(client(), "/curator/barrier");
        assertFalse(waiter.waitOnBarrier(200, TimeUnit.MILLISECONDS));
        CountDownLatch passed = new CountDownLatch(1);
        Thread thread = new Thread(() -> {
            try {
                if (waiter.waitOnBarrier(Zk.WAIT_SECONDS, TimeUnit.SECONDS)) {
                    passed.countDown();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        thread.start();
        controller.removeBarrier();
        Zk.await(passed, "the waiter to pass the barrier");
        thread.join();
    }

    @Test
    void sharedCountShouldAgreeAcrossClientsAndRejectStaleVersions() throws Exception {
        SharedCount first = new SharedCount(client(), "/curator/count", 0);
        SharedCount second = new SharedCount(client(), "/curator/count", 0);
        first.start();
        second.start();
        toClose.add(first);
        toClose.add(second);
        var stale = second.getVersionedValue();
        assertTrue(first.trySetCount(first.getVersionedValue(), 10));
        assertFalse(second.trySetCount(stale, 20), "a set from a stale version must fail");
        Zk.awaitTrue("second client to see 10", () -> second.getCount() == 10);
        assertTrue(second.trySetCount(second.getVersionedValue(), 11));
        Zk.awaitTrue("first client to see 11", () -> first.getCount() == 11);
    }

    @Test
    void persistentEphemeralNodeShouldBeRecreatedAfterItIsDeleted() throws Exception {
        CuratorFramework owner = client();
        CuratorFramework other = client();
        PersistentNode node = new PersistentNode(owner, CreateMode.EPHEMERAL, false, "/curator/persistent/me", new byte[] {7});
        toClose.add(node);
        node.start();
        assertTrue(node.waitForInitialCreate(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        Stat stat = other.checkExists().forPath("/curator/persistent/me");
        assertEquals(owner.getZookeeperClient().getZooKeeper().getSessionId(), stat.getEphemeralOwner());

        other.delete().forPath("/curator/persistent/me");
        Zk.awaitTrue("node to be recreated", () -> exists(other, "/curator/persistent/me"));
        assertArrayEquals(new byte[] {7}, other.getData().forPath("/curator/persistent/me"));
        node.close();
        Zk.awaitTrue("node to go with close", () -> !exists(other, "/curator/persistent/me"));
    }

    private static boolean exists(CuratorFramework client, String path) {
        try {
            return client.checkExists().forPath(path) != null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void containerParentsAndTtlNodesShouldBeCleanedUpByTheServer() throws Exception {
        CuratorFramework client = client();
        client.create().creatingParentContainersIfNeeded().forPath("/curator/containers/parent/leaf");
        client.create().withTtl(500).creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT_WITH_TTL)
                .forPath("/curator/ttl/node");
        assertNotNull(client.checkExists().forPath("/curator/containers/parent"));

        client.delete().forPath("/curator/containers/parent/leaf");
        // Emptied containers go, bottom-up, on the server's container sweep.
        Zk.awaitTrue("empty container parents to be deleted", () -> !exists(client, "/curator/containers"));
        Zk.awaitTrue("TTL node to expire", () -> !exists(client, "/curator/ttl/node"));
        assertNull(client.checkExists().forPath("/curator/ttl/node"));
    }
}
