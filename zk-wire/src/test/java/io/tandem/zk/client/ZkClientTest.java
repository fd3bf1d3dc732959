package io.tandem.zk.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.KeeperState;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.MultiRequest;
import io.tandem.zk.wire.proto.MultiResponse.OpResult;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our client against a real Apache ZooKeeper 3.9.5 server in this JVM. */
class ZkClientTest {

    private static final Duration SESSION_TIMEOUT = Duration.ofMillis(4000);
    private static final long WAIT_SECONDS = 15;

    @TempDir
    static Path dataDir;

    private static ApacheZooKeeperServer zookeeper;

    private final BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
    private ZkClient client;

    @BeforeAll
    static void startServer() throws Exception {
        zookeeper = ApacheZooKeeperServer.start(dataDir);
    }

    @AfterAll
    static void stopServer() {
        zookeeper.close();
    }

    @AfterEach
    void closeClient() {
        if (client != null) {
            client.close();
        }
    }

    private ZkClient connect(String connectString) throws Exception {
        client = ZkClient.connect(connectString, SESSION_TIMEOUT, events::add);
        client.connected().get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(new WatchedEvent(EventType.NONE, KeeperState.SYNC_CONNECTED, null), nextEvent());
        return client;
    }

    @Test
    void shouldNegotiateTheSessionAndDoBasicOperations() throws Exception {
        connect(zookeeper.connectString());
        assertNotEquals(0, client.sessionId());
        assertEquals(SESSION_TIMEOUT.toMillis(), client.negotiatedSessionTimeoutMs());

        assertEquals("/basic", get(client.create("/basic", bytes("one"), Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
        ZkClient.NodeData data = get(client.getData("/basic", false));
        assertArrayEquals(bytes("one"), data.data());
        assertEquals(0, data.stat().version());

        Stat updated = get(client.setData("/basic", bytes("two"), 0));
        assertEquals(1, updated.version());
        assertEquals(KeeperCode.BAD_VERSION, failure(client.setData("/basic", bytes("x"), 0)).code());
        assertEquals(KeeperCode.NODE_EXISTS,
                failure(client.create("/basic", null, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)).code());
        assertEquals(KeeperCode.NO_NODE, failure(client.getData("/missing", false)).code());
        assertNull(get(client.exists("/missing", false)));
        assertEquals(updated, get(client.exists("/basic", false)));

        ZkClient.Created child = get(client.create2("/basic/seq-", bytes("c"), Acls.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL));
        assertEquals("/basic/seq-0000000000", child.path());
        assertEquals(1, child.stat().dataLength());
        ZkClient.Children children = get(client.getChildren2("/basic", false));
        assertEquals(List.of("seq-0000000000"), children.children());
        assertEquals(1, children.stat().numChildren());
        assertEquals(KeeperCode.NOT_EMPTY, failure(client.delete("/basic", -1)).code());
        get(client.delete(child.path(), 0));
        assertEquals(List.of(), get(client.getChildren("/basic", false)));
        assertEquals(Acls.OPEN_ACL_UNSAFE, get(client.getAcl("/basic")).acl());
        get(client.sync("/basic"));
        get(client.delete("/basic", -1));
        assertThrows(IllegalArgumentException.class, () -> client.getData("/bad/", false));
    }

    @Test
    void shouldCreateEveryNodeKindAndBeReadBackByTheApacheClient() throws Exception {
        connect(zookeeper.connectString());
        get(client.create("/kinds", null, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        get(client.create("/kinds/ephemeral", bytes("e"), Acls.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL));
        String sequentialEphemeral = get(client.create("/kinds/es-", null, Acls.OPEN_ACL_UNSAFE,
                CreateMode.EPHEMERAL_SEQUENTIAL));
        get(client.create("/kinds/container", null, Acls.OPEN_ACL_UNSAFE, CreateMode.CONTAINER));
        ZkClient.Created ttl = get(client.create2("/kinds/ttl", bytes("t"), Acls.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_WITH_TTL, 60_000));
        ZkClient.Created ttlSequential = get(client.create2("/kinds/ttl-", null, Acls.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 60_000));

        try (ZooKeeper apache = apacheClient()) {
            org.apache.zookeeper.data.Stat ephemeral = apache.exists("/kinds/ephemeral", false);
            assertEquals(client.sessionId(), ephemeral.getEphemeralOwner());
            assertEquals(client.sessionId(), apache.exists(sequentialEphemeral, false).getEphemeralOwner());
            // The server keeps container and TTL markers in ephemeralOwner internally but shows clients 0.
            assertEquals(0, apache.exists("/kinds/container", false).getEphemeralOwner());
            assertEquals(0, ttl.stat().ephemeralOwner());
            assertEquals(ttl.stat().czxid(), apache.exists("/kinds/ttl", false).getCzxid());
            assertTrue(ttlSequential.path().matches("/kinds/ttl-\\d{10}"), ttlSequential.path());
            assertEquals(5, apache.getChildren("/kinds", false).size());
        }
    }

    @Test
    void shouldRunMultiAtomicallyAndReportTheFailingOperation() throws Exception {
        connect(zookeeper.connectString());
        List<OpResult> results = get(client.multi(List.of(
                MultiRequest.Op.create(new CreateRequest("/multi", bytes("m"), Acls.OPEN_ACL_UNSAFE, 0)),
                MultiRequest.Op.create(new CreateRequest("/multi/a", null, Acls.OPEN_ACL_UNSAFE, 0)),
                MultiRequest.Op.setData("/multi", bytes("n"), 0),
                MultiRequest.Op.check("/multi", 1))));
        assertEquals(List.of(OpResult.create("/multi"), OpResult.create("/multi/a")), results.subList(0, 2));
        assertTrue(results.get(3).type() == io.tandem.zk.wire.OpCode.CHECK);

        ZkException failed = failure(client.multi(List.of(
                MultiRequest.Op.delete("/multi/a", -1),
                MultiRequest.Op.check("/multi", 0))));
        assertEquals(KeeperCode.BAD_VERSION, failed.code());
        assertEquals(List.of(OpResult.error(0), OpResult.error(KeeperCode.BAD_VERSION.code())),
                failed.multiResults());
        assertNotNull(get(client.exists("/multi/a", false)), "a failed multi changes nothing");

        List<OpResult> reads = get(client.multi(List.of(MultiRequest.Op.getData("/multi"),
                MultiRequest.Op.getChildren("/multi"), MultiRequest.Op.getData("/nothing"))));
        assertArrayEquals(bytes("n"), ((io.tandem.zk.wire.proto.GetDataResponse) reads.get(0).response()).data());
        assertEquals(List.of("a"),
                ((io.tandem.zk.wire.proto.GetChildrenResponse) reads.get(1).response()).children());
        assertEquals(OpResult.error(KeeperCode.NO_NODE.code()), reads.get(2));
    }

    @Test
    void watchesShouldFireOnceAndBeforeLaterReplies() throws Exception {
        connect(zookeeper.connectString());
        assertNull(get(client.exists("/watched", true)));
        get(client.create("/watched", bytes("1"), Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertEquals(new WatchedEvent(EventType.NODE_CREATED, KeeperState.SYNC_CONNECTED, "/watched"), nextEvent());

        get(client.getData("/watched", true));
        get(client.getChildren("/watched", true));
        get(client.setData("/watched", bytes("2"), -1));
        assertEquals(new WatchedEvent(EventType.NODE_DATA_CHANGED, KeeperState.SYNC_CONNECTED, "/watched"),
                nextEvent());
        get(client.setData("/watched", bytes("3"), -1));
        get(client.create("/watched/child", null, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertEquals(new WatchedEvent(EventType.NODE_CHILDREN_CHANGED, KeeperState.SYNC_CONNECTED, "/watched"),
                nextEvent());
        get(client.sync("/"));
        get(client.getData("/watched", false));
        assertNull(events.poll(), "the data watch fired once only; events come before later replies");
    }

    @Test
    void chrootShouldPrefixRequestsAndStripResultsAndEvents() throws Exception {
        connect(zookeeper.connectString());
        get(client.create("/chroot", null, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        client.close();
        events.clear();

        connect(zookeeper.connectString() + "/chroot");
        assertNull(get(client.exists("/node", true)));
        assertEquals("/node", get(client.create("/node", null, Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
        assertEquals(new WatchedEvent(EventType.NODE_CREATED, KeeperState.SYNC_CONNECTED, "/node"), nextEvent());
        assertEquals("/s-0000000001", get(client.multi(List.of(MultiRequest.Op.create(
                new CreateRequest("/s-", null, Acls.OPEN_ACL_UNSAFE, 2))))).get(0).response() instanceof
                io.tandem.zk.wire.proto.CreateResponse created ? created.path() : null);
        assertEquals(List.of("node", "s-0000000001"),
                get(client.getChildren("/", false)).stream().sorted().toList());
    }

    @Test
    void shouldFailOverToTheNextHostWhenTheFirstRefuses() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        String hosts = "127.0.0.1:" + deadPort + ",127.0.0.1:" + zookeeper.port();
        for (int attempt = 0; attempt < 3; attempt++) {
            connect(hosts);
            assertEquals(zookeeper.port(), client.connectedServer().getPort());
            client.close();
            client = null;
            events.clear();
        }
    }

    @Test
    void sessionShouldSurviveAServerRestartAndWatchesBeReRegistered() throws Exception {
        connect(zookeeper.connectString());
        long sessionId = client.sessionId();
        get(client.create("/restart", bytes("before"), Acls.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        get(client.create("/restart-ephemeral", null, Acls.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL));
        get(client.getData("/restart", true));
        assertNull(get(client.exists("/restart-later", true)));

        zookeeper.restart();

        assertEquals(new WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, null), nextEvent());
        assertEquals(new WatchedEvent(EventType.NONE, KeeperState.SYNC_CONNECTED, null), nextEvent());
        assertEquals(sessionId, client.sessionId());
        assertEquals(sessionId, get(client.exists("/restart-ephemeral", false)).ephemeralOwner());

        try (ZooKeeper apache = apacheClient()) {
            apache.setData("/restart", bytes("after"), -1);
            apache.create("/restart-later", null, org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    org.apache.zookeeper.CreateMode.PERSISTENT);
        }
        List<WatchedEvent> fired = List.of(nextEvent(), nextEvent());
        assertTrue(fired.contains(new WatchedEvent(EventType.NODE_DATA_CHANGED, KeeperState.SYNC_CONNECTED,
                "/restart")), fired.toString());
        assertTrue(fired.contains(new WatchedEvent(EventType.NODE_CREATED, KeeperState.SYNC_CONNECTED,
                "/restart-later")), fired.toString());
    }

    @Test
    void requestsMadeWhileDisconnectedShouldBeSentAfterReconnecting() throws Exception {
        connect(zookeeper.connectString());
        long sessionId = client.sessionId();
        zookeeper.stop();
        try {
            assertEquals(new WatchedEvent(EventType.NONE, KeeperState.DISCONNECTED, null), nextEvent());
            CompletableFuture<String> created = client.create("/queued", null, Acls.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            Thread.sleep(200);
            assertTrue(!created.isDone(), "nothing can answer while the server is down");
        } finally {
            zookeeper.restart();
        }
        assertEquals(new WatchedEvent(EventType.NONE, KeeperState.SYNC_CONNECTED, null), nextEvent());
        assertEquals(sessionId, client.sessionId());
        assertNotNull(get(client.exists("/queued", false)));
    }

    @Test
    void pingsShouldKeepAnIdleSessionAliveAndTheTimeoutBeClampedByTheServer() throws Exception {
        client = ZkClient.connect(zookeeper.connectString(), Duration.ofMillis(1000), events::add);
        client.connected().get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(KeeperState.SYNC_CONNECTED, nextEvent().state());
        long sessionId = client.sessionId();
        get(client.create("/idle", null, Acls.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL));

        Thread.sleep(2500);

        assertNull(events.poll(), "no disconnect and no expiry while idle");
        assertEquals(sessionId, get(client.exists("/idle", false)).ephemeralOwner());
        client.close();
        events.clear();

        client = ZkClient.connect(zookeeper.connectString(), Duration.ofSeconds(100), events::add);
        client.connected().get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(20 * ApacheZooKeeperServer.TICK_TIME_MS, client.negotiatedSessionTimeoutMs());
    }

    @Test
    void expiredSessionShouldBeReportedAndFailEveryLaterRequest() throws Exception {
        CountDownLatch expired = new CountDownLatch(1);
        client = ZkClient.builder(zookeeper.connectString()).sessionTimeout(SESSION_TIMEOUT).watcher(events::add)
                .onSessionExpired(expired::countDown).build();
        client.connected().get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(KeeperState.SYNC_CONNECTED, nextEvent().state());
        long sessionId = client.sessionId();
        get(client.create("/expiring", null, Acls.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL));

        zookeeper.server().expire(sessionId);

        assertTrue(expired.await(WAIT_SECONDS, TimeUnit.SECONDS), "session expiry reported");
        WatchedEvent event = nextEvent();
        if (event.state() == KeeperState.DISCONNECTED) {
            event = nextEvent();
        }
        assertEquals(new WatchedEvent(EventType.NONE, KeeperState.EXPIRED, null), event);
        assertEquals(KeeperCode.SESSION_EXPIRED, failure(client.exists("/expiring", false)).code());
        try (ZooKeeper apache = apacheClient()) {
            assertNull(apache.exists("/expiring", false), "the expired session's ephemeral node is gone");
        }
    }

    @Test
    void reAttachingWithAWrongPasswordShouldExpire() throws Exception {
        connect(zookeeper.connectString());
        CountDownLatch expired = new CountDownLatch(1);
        ZkClient impostor = ZkClient.builder(zookeeper.connectString()).sessionTimeout(SESSION_TIMEOUT)
                .session(client.sessionId(), new byte[16]).onSessionExpired(expired::countDown).build();
        try {
            assertTrue(expired.await(WAIT_SECONDS, TimeUnit.SECONDS));
            CompletionException error = assertThrows(CompletionException.class, () -> impostor.connected().join());
            assertEquals(KeeperCode.SESSION_EXPIRED, ((ZkException) error.getCause()).code());
        } finally {
            impostor.close();
        }
        assertNotNull(get(client.exists("/", false)), "the real session is untouched");
    }

    @Test
    void closeShouldEndTheSessionAndFailLaterRequests() throws Exception {
        connect(zookeeper.connectString());
        get(client.create("/closing", null, Acls.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL));
        client.close();
        assertEquals(new WatchedEvent(EventType.NONE, KeeperState.CLOSED, null), nextEvent());
        assertEquals(KeeperCode.SESSION_EXPIRED, failure(client.exists("/", false)).code());
        try (ZooKeeper apache = apacheClient()) {
            assertNull(apache.exists("/closing", false), "closing the session removed its ephemeral node");
        }
        client = null;
    }

    private WatchedEvent nextEvent() throws InterruptedException {
        WatchedEvent event = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(event, "expected a watch or state event");
        return event;
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private static ZkException failure(CompletableFuture<?> future) {
        CompletionException error = assertThrows(CompletionException.class,
                () -> future.orTimeout(WAIT_SECONDS, TimeUnit.SECONDS).join());
        return assertInstanceOf(ZkException.class, error.getCause());
    }

    private static ZooKeeper apacheClient() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper apache = new ZooKeeper(zookeeper.connectString(), (int) SESSION_TIMEOUT.toMillis(), event -> {
            if (event.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(WAIT_SECONDS, TimeUnit.SECONDS));
        return apache;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
