package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.HoldingProxy;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's watches are Kafka's controller's eyes: a watch that is lost means a broker that rejoins is never seen.
 * ZooKeeper registers a watch only when the read that sets it succeeds, so the store must keep trying when that read
 * fails (a connection lost while a member stops) and must watch a path that does not exist yet.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZkZnodeStoreWatchTest {
    private static final long WAIT_MS = 20_000;
    /** Listeners run on the ZooKeeper client's thread, which a blocking read there would deadlock: they hand off. */
    private static final java.util.concurrent.Executor READER = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "watch-reader");
        thread.setDaemon(true);
        return thread;
    });

    @Test
    void aChildWatchOnAPathNotYetCreatedSeesItsCreationAndItsChildren(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = connect(zookeeper.zookeeperConnect());
             ZkZnodeStore writer = connect(zookeeper.zookeeperConnect())) {
            List<List<String>> seen = new CopyOnWriteArrayList<>();
            store.watchChildren("/later", () -> READER.execute(() -> seen.add(readQuietly(store, "/later"))));

            writer.create("/later", new byte[0], false);
            writer.create("/later/a", new byte[0], false);

            await(() -> seen.stream().anyMatch(children -> children.contains("a")), "the child of the new path seen");
        }
    }

    /**
     * The quotas and the config change listener both follow {@code /config/changes} on a broker's one store: both are
     * told of each change (the second listener replaced the first, and the quotas went deaf to other brokers). A
     * listener set again from the same code replaces its earlier self, so one set per load is not told twice.
     */
    @Test
    void everyListenerOfAPathIsToldAndOneSetAgainFromTheSameCodeOnlyOnce(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = connect(zookeeper.zookeeperConnect());
             ZkZnodeStore writer = connect(zookeeper.zookeeperConnect())) {
            writer.create("/changes", new byte[0], false);
            java.util.concurrent.atomic.AtomicInteger first = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger second = new java.util.concurrent.atomic.AtomicInteger();
            store.watchChildren("/changes", first::incrementAndGet);
            for (int load = 0; load < 2; load++) store.watchChildren("/changes", () -> second.incrementAndGet());
            store.getChildren("/changes"); // answered after the reads that set the watch
            writer.create("/changes/one", new byte[0], false);
            await(() -> first.get() == 1 && second.get() == 1, "both listeners told once: " + first + ", " + second);
            Thread.sleep(200);
            assertTrue(first.get() == 1 && second.get() == 1, "told once each: " + first + ", " + second);
        }
    }

    /**
     * Two instances of one class following one path (two config change listeners on one broker's store) set their
     * listeners from the same code; each passes itself as owner, so neither replaces the other.
     */
    @Test
    void listenersFromTheSameCodeWithTheirOwnOwnersAreAllTold(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = connect(zookeeper.zookeeperConnect());
             ZkZnodeStore writer = connect(zookeeper.zookeeperConnect())) {
            writer.create("/changes", new byte[0], false);
            java.util.concurrent.atomic.AtomicInteger[] told = {
                    new java.util.concurrent.atomic.AtomicInteger(), new java.util.concurrent.atomic.AtomicInteger()};
            for (java.util.concurrent.atomic.AtomicInteger counter : told) {
                store.watchChildren("/changes", counter, counter::incrementAndGet);
            }
            store.getChildren("/changes"); // answered after the reads that set the watch
            writer.create("/changes/one", new byte[0], false);
            await(() -> told[0].get() == 1 && told[1].get() == 1,
                    "both owners told: " + told[0] + ", " + told[1]);
        }
    }

    @Test
    void aChildWatchWhoseReArmingReadIsLostToAConnectionDropStillSeesTheNextChange(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             HoldingProxy proxy = new HoldingProxy(zookeeper.zookeeperPort());
             ZkZnodeStore store = connect("127.0.0.1:" + proxy.port());
             ZkZnodeStore writer = connect(zookeeper.zookeeperConnect())) {
            writer.create("/ids", new byte[0], false);
            List<List<String>> seen = new CopyOnWriteArrayList<>();
            store.watchChildren("/ids", () -> READER.execute(() -> seen.add(readQuietly(store, "/ids"))));
            // The watch is set once the store's first read is answered: a read on the same session after it (a
            // session's requests are answered in order) makes sure of it, and a child then is seen.
            store.getChildren("/ids");
            writer.create("/ids/first", new byte[0], false);
            await(() -> seen.stream().anyMatch(children -> children.contains("first")), "the first child seen");

            // From now on nothing the store sends reaches ZooKeeper, so the read that re-arms the watch after the
            // next event is lost with the connection, as when the member it talks to stops.
            proxy.hold();
            writer.create("/ids/second", new byte[0], false);
            await(() -> proxy.heldBytes() > 0, "the store's re-arming read held by the proxy");
            proxy.dropConnectionsAndRelease();

            writer.create("/ids/third", new byte[0], false);
            await(() -> seen.stream().anyMatch(children -> children.contains("third")),
                    "the child created after the lost re-arming read seen");
        }
    }

    private static ZkZnodeStore connect(String connectString) throws Exception {
        return ZkZnodeStore.connect(connectString, Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    private static List<String> readQuietly(ZkZnodeStore store, String path) {
        try {
            return store.getChildren(path);
        } catch (Exception e) {
            return List.of();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }
}
