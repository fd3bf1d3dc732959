package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.SetWatches;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watches are bounded in bytes per connection and in total ({@link WatchBytes}): a client setting exists-watches on
 * absent paths can no longer grow the server's watch tables without end. Over real sockets with the Apache 3.9 Java
 * client: a request that would add a watch past a limit is not answered; its connection is closed with a WARNING
 * naming the limit, as Apache closes a connection it has no room for (the client sees CONNECTIONLOSS, reconnects to
 * the same session and sets the watches it held again; the refused one was never set). A fired or closed watch frees
 * its bytes. Without the limits every watch below is accepted (each case fails).
 */
class ZooKeeperWatchLimitTest {
    /** Every path is this long, so every watch costs the same. */
    private static final String PREFIX = "/absent-";
    private static final long COST = WatchBytes.cost(path(0));
    /** Ten watches per connection, fifteen for all of them. */
    private static final long PER_CONNECTION = 10 * COST;
    private static final long TOTAL = 15 * COST;

    @TempDir
    Path dir;
    private ZkServer server;
    private final List<ZooKeeper> clients = new ArrayList<>();
    private final Logger connectionLog = Logger.getLogger(ServerConnection.class.getName());
    /** The server's WARNINGs that it closed a connection for the watch limits. */
    private final List<String> closedForWatches = new CopyOnWriteArrayList<>();
    private final Handler closings = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String message = String.valueOf(record.getMessage());
            if (record.getLevel() == Level.WARNING && message.contains("would pass the watch limits")) {
                closedForWatches.add(message);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws Exception {
        connectionLog.addHandler(closings);
        System.setProperty(WatchBytes.PER_CONNECTION_PROPERTY, Long.toString(PER_CONNECTION));
        System.setProperty(WatchBytes.TOTAL_PROPERTY, Long.toString(TOTAL));
        try {
            server = ZkServer.start(ZkServerConfig.from("127.0.0.1", 0, dir, Map.<String, String>of()::get),
                    ZkStore.inMemory(), null);
        } finally {
            System.clearProperty(WatchBytes.PER_CONNECTION_PROPERTY);
            System.clearProperty(WatchBytes.TOTAL_PROPERTY);
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        connectionLog.removeHandler(closings);
        for (ZooKeeper client : clients) client.close();
        if (server != null) server.close();
    }

    private static String path(int i) {
        return String.format("%s%04d", PREFIX, i);
    }

    /** A session whose connection (re)establishments are counted in {@code connections}. */
    private ZooKeeper connect(BlockingQueue<WatchedEvent> events, Semaphore connections) throws Exception {
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + server.port(), 30_000, event -> {
            if (event.getState() == KeeperState.SyncConnected && event.getPath() == null) {
                connections.release();
            } else if (event.getPath() != null) {
                events.add(event);
            }
        });
        clients.add(zk);
        assertTrue(connections.tryAcquire(30, TimeUnit.SECONDS), "a session");
        return zk;
    }

    /**
     * The request that passes a limit fails with CONNECTIONLOSS (not answered, the connection closed with a WARNING
     * naming the limit), and the client is connected again to the same session.
     */
    private void assertClosedAndReconnected(ZooKeeper zk, Semaphore connections, String path) throws Exception {
        long session = zk.getSessionId();
        int warnings = closedForWatches.size();
        assertThrows(KeeperException.ConnectionLossException.class, () -> zk.exists(path, true),
                "a watch on " + path + " passes a limit: the connection is closed");
        assertTrue(connections.tryAcquire(30, TimeUnit.SECONDS), "the client connects again");
        assertEquals(session, zk.getSessionId(), "to the same session");
        assertTrue(closedForWatches.size() > warnings, "the server said why it closed the connection");
        String warning = closedForWatches.get(closedForWatches.size() - 1);
        assertTrue(warning.contains(path) && warning.contains(WatchBytes.PER_CONNECTION_PROPERTY)
                && warning.contains(WatchBytes.TOTAL_PROPERTY), warning);
    }

    @Test
    void shouldCloseTheConnectionOfAWatchPastEachLimitAndFreeItsBytesWhenItFires() throws Exception {
        BlockingQueue<WatchedEvent> aEvents = new LinkedBlockingQueue<>();
        BlockingQueue<WatchedEvent> bEvents = new LinkedBlockingQueue<>();
        Semaphore aConnections = new Semaphore(0);
        Semaphore bConnections = new Semaphore(0);
        ZooKeeper a = connect(aEvents, aConnections);
        ZooKeeper b = connect(bEvents, bConnections);
        for (int i = 0; i < 10; i++) {
            assertNull(a.exists(path(i), true), "an exists-watch on an absent path, within the limit");
        }
        assertNull(a.exists(path(0), true), "a watch the connection has already costs nothing more");
        assertClosedAndReconnected(a, aConnections, path(99));
        // The reconnected client set its ten watches again (setWatches), so it is still at its limit.
        assertThrows(KeeperException.ConnectionLossException.class, () -> a.getChildren("/", true));
        assertTrue(aConnections.tryAcquire(30, TimeUnit.SECONDS));
        assertThrows(KeeperException.ConnectionLossException.class,
                () -> a.addWatch(path(98), AddWatchMode.PERSISTENT));
        assertTrue(aConnections.tryAcquire(30, TimeUnit.SECONDS));
        assertNotNull(a.exists("/", false), "reads without a watch go on");

        for (int i = 10; i < 15; i++) {
            assertNull(b.exists(path(i), true), "another connection has its own limit");
        }
        assertClosedAndReconnected(b, bConnections, path(15));

        // The refused watch was not set: creating its node tells A nothing, while a watched one fires, in order.
        b.create(path(99), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        b.create(path(1), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        WatchedEvent fired = aEvents.poll(30, TimeUnit.SECONDS);
        assertNotNull(fired, "the watch on " + path(1) + " fires after A's reconnects");
        assertEquals(path(1), fired.getPath(), "no event for the refused watch comes first");

        // The fired one-shot watch gave its bytes back: A (and so the total) has room for exactly one more.
        assertNull(a.exists(path(20), true));
        assertClosedAndReconnected(a, aConnections, path(21));

        // A closed session gives all of its watches' bytes back (once the server has seen it close: until then the
        // refused attempt sets nothing, so it is simply made again once B is connected again).
        a.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                assertNull(b.exists(path(30), true));
                break;
            } catch (KeeperException.ConnectionLossException e) {
                assertTrue(System.nanoTime() < deadline, "the closed session's watches are dropped");
                assertTrue(bConnections.tryAcquire(30, TimeUnit.SECONDS), "B connects again");
            }
        }
        for (int i = 31; i < 35; i++) {
            assertNull(b.exists(path(i), true), "room freed by the closed session");
        }
        assertClosedAndReconnected(b, bConnections, path(35));
    }

    @Test
    void shouldCloseTheConnectionWhoseSetWatchesPassesTheLimit() throws Exception {
        List<String> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) ten.add(path(i));
        try (RawZkClient within = new RawZkClient(server.port())) {
            assertNotNull(within.connect(0, new byte[16], 30_000, 0, false));
            ReplyHeader header = ReplyHeader.read(within.call(Xids.SET_WATCHES, OpCode.SET_WATCHES,
                    new SetWatches(0, List.of(), ten, List.of())));
            assertEquals(0, header.err(), "ten watches are within the connection's limit");
        }
        List<String> eleven = new ArrayList<>(ten);
        eleven.add(path(10));
        try (RawZkClient over = new RawZkClient(server.port())) {
            assertNotNull(over.connect(0, new byte[16], 30_000, 0, false));
            over.sendFrame(new io.tandem.zk.wire.proto.RequestHeader(Xids.SET_WATCHES, OpCode.SET_WATCHES),
                    new SetWatches(0, List.of(), eleven, List.of()));
            assertTrue(over.closedByServer(), "eleven watches pass it: the connection is closed");
        }
    }

    /**
     * kazoo (Debian's python3-kazoo 2.8, by /usr/bin/python3) passing the connection's limit: its exists call fails
     * with ConnectionLoss and it connects again to the same session, whose reads, writes and new watches go on.
     * kazoo 2.8 has no mapping for QUOTA_EXCEEDED (-125): answered with it, its connection thread died on
     * "Invalid error code" and the call below timed out, the client left hanging.
     */
    @Test
    void kazooShouldLoseTheConnectionAndGoOnInTheSameSession() throws Exception {
        String script = """
                import sys, threading
                from kazoo.client import KazooClient, KazooState
                from kazoo.exceptions import ConnectionLoss
                hosts, prefix, within = sys.argv[1], sys.argv[2], int(sys.argv[3])
                zk = KazooClient(hosts=hosts, timeout=20)
                connected = threading.Event()
                def listener(state):
                    if state == KazooState.CONNECTED:
                        connected.set()
                    else:
                        connected.clear()
                zk.add_listener(listener)
                zk.start(timeout=30)
                session = zk.client_id[0]
                for i in range(within):
                    assert zk.exists("%s%04d" % (prefix, i), watch=lambda event: None) is None
                connected.clear()
                try:
                    zk.exists_async(prefix + "over", watch=lambda event: None).get(timeout=30)
                    raise AssertionError("the watch past the limit was set")
                except ConnectionLoss:
                    pass
                assert connected.wait(30), "kazoo did not connect again"
                assert zk.client_id[0] == session, "another session"
                fired = threading.Event()
                path = prefix + "made"
                assert zk.exists(path, watch=lambda event: fired.set()) is None
                zk.create(path, b"")
                assert fired.wait(30), "no watch event after the reconnect"
                zk.stop()
                print("PASS")
                """;
        Process python = new ProcessBuilder("/usr/bin/python3", "-c", script, "127.0.0.1:" + server.port(), PREFIX,
                "10").redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(python.waitFor(90, TimeUnit.SECONDS), "kazoo did not finish");
        assertEquals(0, python.exitValue(), output);
        assertTrue(output.strip().endsWith("PASS"), output);
        assertEquals(1, closedForWatches.size(), "one connection closed, with a WARNING: " + closedForWatches);
        assertTrue(closedForWatches.get(0).contains(PREFIX + "over"), closedForWatches.get(0));
    }
}
