package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sessions: timeout negotiation, re-attaching with id and password, expiry (by another client closing the session and
 * by timeout), and watches re-registered on reconnect firing for the changes missed while disconnected.
 * Disconnects are real: the client talks through a {@link TcpProxy} that the test cuts.
 */
@ExtendWith(ZkTargetExtension.class)
class ZkSessionCompatTest {
    private static ZkTarget target;
    private static ZooKeeper observer;
    private String root;

    @BeforeAll
    static void connect(ZkTarget started) throws Exception {
        target = started;
        observer = Zk.connect(target.connectString());
    }

    @AfterAll
    static void close() throws Exception {
        observer.close();
    }

    @BeforeEach
    void createRoot(TestInfo info) throws Exception {
        root = "/session-" + info.getTestMethod().orElseThrow().getName();
        observer.create(root, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    @Test
    void theNegotiatedTimeoutShouldBeClampedToTwoAndTwentyTicks() throws Exception {
        try (ZooKeeper tooShort = Zk.connect(target.connectString(), 100, new Zk.EventRecorder());
             ZooKeeper tooLong = Zk.connect(target.connectString(), 3_600_000, new Zk.EventRecorder());
             ZooKeeper inRange = Zk.connect(target.connectString(), 9_000, new Zk.EventRecorder())) {
            assertEquals(2 * ZkTarget.TICK_TIME_MS, tooShort.getSessionTimeout());
            assertEquals(20 * ZkTarget.TICK_TIME_MS, tooLong.getSessionTimeout());
            assertEquals(9_000, inRange.getSessionTimeout());
        }
    }

    @Test
    void aSecondClientWithTheSameIdAndPasswordShouldAttachToTheSameSessionAndItsCloseShouldExpireTheFirst() throws Exception {
        Zk.EventRecorder firstEvents = new Zk.EventRecorder();
        ZooKeeper first = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, firstEvents);
        try {
            Stat owned = new Stat();
            first.create(root + "/eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, owned);
            ZooKeeper second = Zk.attach(target.connectString(), first, new Zk.EventRecorder());
            assertEquals(first.getSessionId(), second.getSessionId());
            assertEquals(first.getSessionId(), second.exists(root + "/eph", false).getEphemeralOwner());
            assertEquals(first.getSessionId(), owned.getEphemeralOwner());
            observer.exists(root + "/eph", true);

            second.close();
            // Closing the session deletes its ephemerals; the first handle learns the session is gone.
            firstEvents.awaitState(KeeperState.Expired);
            assertNull(observer.exists(root + "/eph", false));
            assertThrows(KeeperException.SessionExpiredException.class, () -> first.exists("/", false));
        } finally {
            first.close();
        }
    }

    @Test
    void attachingWithAWrongPasswordShouldExpireAtOnceAndOnlyBounceTheOwnersConnection() throws Exception {
        Zk.EventRecorder ownerEvents = new Zk.EventRecorder();
        try (ZooKeeper owner = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, ownerEvents)) {
            long session = owner.getSessionId();
            byte[] wrong = owner.getSessionPasswd().clone();
            wrong[0] ^= 0x55;
            Zk.EventRecorder events = new Zk.EventRecorder();
            ZooKeeper impostor = new ZooKeeper(target.connectString(), Zk.SESSION_TIMEOUT_MS, events, owner.getSessionId(), wrong);
            try {
                events.awaitState(KeeperState.Expired);
            } finally {
                impostor.close();
            }
            // Apache closes the session's current connection before checking the password: the owner is
            // disconnected, reconnects, and keeps its session.
            ownerEvents.awaitState(KeeperState.Disconnected);
            ownerEvents.awaitState(KeeperState.SyncConnected);
            assertNotNull(owner.exists("/", false));
            assertEquals(session, owner.getSessionId());
        }
    }

    @Test
    void aSessionShouldExpireAfterItsTimeoutWithoutAConnectionAndLoseItsEphemerals() throws Exception {
        try (TcpProxy proxy = new TcpProxy(target.host(), target.port())) {
            Zk.EventRecorder events = new Zk.EventRecorder();
            ZooKeeper client = Zk.connect(proxy.connectString(), 2 * ZkTarget.TICK_TIME_MS, events);
            try {
                assertEquals(2 * ZkTarget.TICK_TIME_MS, client.getSessionTimeout());
                client.create(root + "/eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                Zk.EventRecorder observerEvents = new Zk.EventRecorder();
                observer.exists(root + "/eph", observerEvents);

                proxy.cut();
                events.awaitState(KeeperState.Disconnected);
                observerEvents.expect(EventType.NodeDeleted, root + "/eph");

                proxy.resume();
                events.awaitState(KeeperState.Expired);
            } finally {
                client.close();
            }
        }
    }

    @Test
    void aClientReconnectingWithinItsTimeoutShouldKeepItsSessionAndEphemerals() throws Exception {
        try (TcpProxy proxy = new TcpProxy(target.host(), target.port())) {
            Zk.EventRecorder events = new Zk.EventRecorder();
            ZooKeeper client = Zk.connect(proxy.connectString(), Zk.SESSION_TIMEOUT_MS, events);
            try {
                long session = client.getSessionId();
                client.create(root + "/eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                proxy.cut();
                events.awaitState(KeeperState.Disconnected);
                proxy.resume();
                events.awaitState(KeeperState.SyncConnected);
                assertEquals(session, client.getSessionId());
                assertEquals(session, observer.exists(root + "/eph", false).getEphemeralOwner());
            } finally {
                client.close();
            }
        }
    }

    @Test
    void watchesShouldBeReRegisteredOnReconnectAndFireForChangesMissedWhileDisconnected() throws Exception {
        observer.create(root + "/data", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.create(root + "/gone", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.create(root + "/parent", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        observer.create(root + "/quiet", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        try (TcpProxy proxy = new TcpProxy(target.host(), target.port())) {
            Zk.EventRecorder events = new Zk.EventRecorder();
            ZooKeeper client = Zk.connect(proxy.connectString(), Zk.SESSION_TIMEOUT_MS, events);
            try {
                Zk.EventRecorder data = new Zk.EventRecorder();
                Zk.EventRecorder created = new Zk.EventRecorder();
                Zk.EventRecorder deleted = new Zk.EventRecorder();
                Zk.EventRecorder children = new Zk.EventRecorder();
                Zk.EventRecorder quiet = new Zk.EventRecorder();
                client.getData(root + "/data", data, null);
                client.exists(root + "/born", created);
                client.exists(root + "/gone", deleted);
                client.getChildren(root + "/parent", children);
                client.getData(root + "/quiet", quiet, null);

                proxy.cut();
                events.awaitState(KeeperState.Disconnected);
                observer.setData(root + "/data", new byte[] {1}, -1);
                observer.create(root + "/born", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                observer.delete(root + "/gone", -1);
                observer.create(root + "/parent/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                proxy.resume();
                events.awaitState(KeeperState.SyncConnected);

                data.expect(EventType.NodeDataChanged, root + "/data");
                created.expect(EventType.NodeCreated, root + "/born");
                deleted.expect(EventType.NodeDeleted, root + "/gone");
                children.expect(EventType.NodeChildrenChanged, root + "/parent");
                quiet.expectNoMore(client);

                // The unchanged node's watch was re-registered too and still fires later. (expectNoMore's round trip
                // on this session also guarantees the server has processed the re-registration before the change.)
                observer.setData(root + "/quiet", new byte[] {1}, -1);
                quiet.expect(EventType.NodeDataChanged, root + "/quiet");
            } finally {
                client.close();
            }
        }
    }

    @Test
    void aReRegistrationLargerThanOneSetWatchesPacketShouldRestoreEveryWatch() throws Exception {
        // The client splits re-registration into setWatches packets of at most 128 KiB; 1,500 watches on ~100-char
        // paths need two of them.
        int nodes = 1_500;
        String prefix = root + "/" + "x".repeat(80) + "-";
        java.util.concurrent.CountDownLatch created = new java.util.concurrent.CountDownLatch(nodes);
        for (int i = 0; i < nodes; i++) {
            observer.create(prefix + i, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, path, ctx, name) -> created.countDown(), null);
        }
        Zk.await(created, "nodes to be created");
        try (TcpProxy proxy = new TcpProxy(target.host(), target.port())) {
            Zk.EventRecorder events = new Zk.EventRecorder();
            ZooKeeper client = Zk.connect(proxy.connectString(), Zk.SESSION_TIMEOUT_MS, events);
            try {
                Zk.EventRecorder watches = new Zk.EventRecorder();
                java.util.concurrent.CountDownLatch watched = new java.util.concurrent.CountDownLatch(nodes);
                for (int i = 0; i < nodes; i++) {
                    client.getData(prefix + i, watches, (rc, path, ctx, data, stat) -> watched.countDown(), null);
                }
                Zk.await(watched, "watches to be set");

                proxy.cut();
                events.awaitState(KeeperState.Disconnected);
                observer.setData(prefix + 0, new byte[] {1}, -1);
                observer.setData(prefix + (nodes - 1), new byte[] {1}, -1);
                proxy.resume();
                events.awaitState(KeeperState.SyncConnected);

                java.util.Set<String> fired = new java.util.HashSet<>();
                fired.add(watches.next().getPath());
                fired.add(watches.next().getPath());
                assertEquals(java.util.Set.of(prefix + 0, prefix + (nodes - 1)), fired);
                watches.expectNoMore(client);
                observer.setData(prefix + 700, new byte[] {1}, -1);
                watches.expect(EventType.NodeDataChanged, prefix + 700);
            } finally {
                client.close();
            }
        }
    }

    @Test
    void persistentWatchesShouldSurviveAReconnectAndKeepFiring() throws Exception {
        try (TcpProxy proxy = new TcpProxy(target.host(), target.port())) {
            Zk.EventRecorder events = new Zk.EventRecorder();
            ZooKeeper client = Zk.connect(proxy.connectString(), Zk.SESSION_TIMEOUT_MS, events);
            try {
                Zk.EventRecorder recursive = new Zk.EventRecorder();
                client.addWatch(root, recursive, AddWatchMode.PERSISTENT_RECURSIVE);
                observer.create(root + "/before", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                recursive.expect(EventType.NodeCreated, root + "/before");

                proxy.cut();
                events.awaitState(KeeperState.Disconnected);
                proxy.resume();
                events.awaitState(KeeperState.SyncConnected);
                // The client sent setWatches2 before any other request; one round trip on its session ensures the
                // server has processed it before another session makes changes.
                Zk.barrier(client);
                // Re-registered with setWatches2: later changes arrive again.
                observer.create(root + "/after", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                observer.setData(root + "/after", new byte[] {1}, -1);
                recursive.expect(EventType.NodeCreated, root + "/after");
                recursive.expect(EventType.NodeDataChanged, root + "/after");
                recursive.expectNoMore(client);
            } finally {
                client.close();
            }
        }
    }

    @Test
    void closingASessionShouldDeleteItsEphemeralsAtOnce() throws Exception {
        ZooKeeper client = Zk.connect(target.connectString());
        client.create(root + "/e1", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        client.create(root + "/e2-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        Stat before = observer.exists(root, false);
        client.close();
        Stat after = observer.exists(root, false);
        assertEquals(0, after.getNumChildren());
        assertEquals(before.getCversion() + 2, after.getCversion());
    }
}
