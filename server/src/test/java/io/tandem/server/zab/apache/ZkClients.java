package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * ZooKeeper Java clients on the members of a mixed ensemble, closed together, and the checks the mixed-ensemble tests
 * share: every znode with its data, whole Stat and ACL, and a sync that must succeed.
 */
final class ZkClients implements AutoCloseable {
    static final long TIMEOUT_MS = 120_000;

    private final List<ZooKeeper> clients = new ArrayList<>();

    /** A connected client of {@code member}. */
    ZooKeeper connect(Ports member) throws Exception {
        ZooKeeper client = track(new ZooKeeper("127.0.0.1:" + member.clientPort(),
                TandemApacheModeProcess.SESSION_TIMEOUT_MS, event -> { }));
        awaitConnected(client);
        return client;
    }

    ZooKeeper track(ZooKeeper client) {
        clients.add(client);
        return client;
    }

    /** Closes {@code client} now (its session ends) and forgets it. */
    void close(ZooKeeper client) throws InterruptedException {
        clients.remove(client);
        client.close((int) TIMEOUT_MS);
    }

    @Override
    public void close() throws InterruptedException {
        for (ZooKeeper client : clients) {
            client.close(2_000);
        }
        clients.clear();
    }

    static void awaitConnected(ZooKeeper client) throws InterruptedException {
        assertTrue(ApacheQuorumProcess.await(() -> client.getState().isConnected(), TIMEOUT_MS),
                () -> "not connected: " + client.getState());
    }

    static void sync(ZooKeeper client, String path) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        int[] rc = {Integer.MIN_VALUE};
        client.sync(path, (code, p, ctx) -> {
            rc[0] = code;
            done.countDown();
        }, null);
        assertTrue(done.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "sync answered");
        assertEquals(KeeperException.Code.OK.intValue(), rc[0], "sync's result code");
    }

    /** Every znode outside /zookeeper (members' own config nodes differ in mtime), its data and its whole Stat. */
    static Map<String, String> tree(ZooKeeper client) throws Exception {
        Map<String, String> nodes = new TreeMap<>();
        walk(client, "/", nodes);
        return nodes;
    }

    private static void walk(ZooKeeper client, String path, Map<String, String> nodes) throws Exception {
        if (path.equals("/zookeeper")) {
            return;
        }
        Stat stat = new Stat();
        byte[] data = client.getData(path, false, stat);
        nodes.put(path, (data == null ? "null" : HexFormat.of().formatHex(data)) + " " + stat.toString().trim()
                + " " + client.getACL(path, new Stat()));
        List<String> children = client.getChildren(path, false);
        for (String child : children) {
            walk(client, (path.equals("/") ? "" : path) + "/" + child, nodes);
        }
    }

    /** After a sync on each, every voter's client sees the same tree as the observer's ({@link #tree}). */
    static void assertSameTrees(ZooKeeper observer, ZooKeeper... voters) throws Exception {
        sync(observer, "/");
        for (ZooKeeper voter : voters) {
            sync(voter, "/");
            assertEquals(tree(voter), tree(observer), "the observer's tree against a voter's");
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** A failover disconnects the client (ConnectionLoss): it retries, as applications do, until its session is back. */
    static void retryOnConnectionLoss(Call call) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (true) {
            try {
                call.run();
                return;
            } catch (KeeperException.ConnectionLossException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    /** The next watch event on {@code events} must come within the timeout and be {@code type} on {@code path}. */
    static void assertEvent(BlockingQueue<WatchedEvent> events, Watcher.Event.EventType type, String path)
            throws InterruptedException {
        WatchedEvent event = events.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(event, "no " + type + " for " + path);
        assertEquals(type, event.getType(), event::toString);
        assertEquals(path, event.getPath());
    }

    /**
     * Through each client in turn, under {@code prefix} and its number (from 1): a create, a conditional setData, a
     * child created and deleted, a sequential, an ephemeral and a multi, so every kind of write crosses the members.
     */
    static void writeEveryKind(String prefix, ZooKeeper... clients) throws Exception {
        int index = 0;
        for (ZooKeeper client : clients) {
            String base = prefix + (++index);
            client.create(base, bytes("v0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertEquals(1, client.setData(base, bytes("v1"), 0).getVersion());
            client.create(base + "/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create(base + "/seq-", bytes("s"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            client.create(base + "/ephemeral", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            client.delete(base + "/child", -1);
            client.multi(List.of(Op.create(base + "/multi", bytes("m"), Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT), Op.setData(base, bytes("v2"), 1)));
        }
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
