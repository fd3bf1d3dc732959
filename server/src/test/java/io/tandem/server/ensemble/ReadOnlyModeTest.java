package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-only mode ({@code readonlymode.enabled}) with the official 3.9 client: a member cut off from its quorum serves
 * reads to clients that asked for read-only sessions, answers writes NOTREADONLY, refuses other clients, says
 * {@code ro} to isro, and its clients move to a read-write session when the quorum returns. Without the flag a cut-off
 * member refuses everyone, as before.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReadOnlyModeTest {
    @TempDir
    Path dir;
    private TestEnsemble ensemble;
    private final List<ZooKeeper> clients = new ArrayList<>();

    @AfterEach
    void stopEnsemble() throws InterruptedException {
        for (ZooKeeper zk : clients) {
            zk.close();
        }
        ensemble.close();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String fourLetterWord(int clientPort, String word) throws IOException {
        return TestEnsemble.fourLetterWord(clientPort, word, 5_000);
    }

    /** Starts the ensemble, writes /data, and stops every member but one; returns the one left. */
    private int isolateOneMember(boolean readOnlyMode) throws Exception {
        ensemble = new TestEnsemble(dir);
        if (readOnlyMode) {
            ensemble.extraSettings.put("readonlymode.enabled", "true");
            ensemble.extraSettings.put("4lw.commands.whitelist", "srvr,mntr"); // isro is added by the flag alone
        } else {
            ensemble.extraSettings.put("4lw.commands.whitelist", "srvr,isro");
        }
        ensemble.startAll();
        int leader = ensemble.awaitServing(30_000);
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 10_000, null)) {
            zk.create("/data", bytes("before"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        int left = leader == 1 ? 2 : 1;
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            if (id != left) {
                ensemble.stop(id);
            }
        }
        return left;
    }

    private void awaitMode(int id, String mode, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!ensemble.mode(id).equals(mode)) {
            assertTrue(System.nanoTime() - deadline < 0, "member " + id + " is " + ensemble.mode(id) + ", not " + mode);
            Thread.sleep(50);
        }
    }

    private ZooKeeper readOnlyClient(String connect, BlockingQueue<WatchedEvent> events) throws Exception {
        ZooKeeper zk = new ZooKeeper(connect, 10_000, events::add, true);
        clients.add(zk);
        return zk;
    }

    private static void awaitState(BlockingQueue<WatchedEvent> events, Watcher.Event.KeeperState state)
            throws InterruptedException {
        while (true) {
            WatchedEvent event = events.poll(30, TimeUnit.SECONDS);
            assertNotNull(event, "no " + state + " event");
            if (event.getType() == Watcher.Event.EventType.None && event.getState() == state) {
                return;
            }
        }
    }

    @Test
    void aCutOffMemberServesReadsToReadOnlyClientsAndRefusesWrites() throws Exception {
        int left = isolateOneMember(true);
        awaitMode(left, "read-only", 20_000);
        // isro is whitelisted by readonlymode.enabled alone, as in Apache (clients use it to look for r/w servers).
        assertEquals("ro", fourLetterWord(ensemble.clientPort(left), "isro"));
        assertTrue(fourLetterWord(ensemble.clientPort(left), "srvr").contains("\nMode: read-only\n"));
        assertTrue(fourLetterWord(ensemble.clientPort(left), "mntr").contains("zk_server_state\tread-only\n"));

        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        ZooKeeper zk = readOnlyClient(ensemble.connect(left), events);
        awaitState(events, Watcher.Event.KeeperState.ConnectedReadOnly);
        assertArrayEquals(bytes("before"), zk.getData("/data", false, null));
        assertEquals(List.of("data", "zookeeper"), zk.getChildren("/", false).stream().sorted().toList());
        assertNotNull(zk.exists("/data", true), "a watch can be set");
        assertThrows(KeeperException.NotReadOnlyException.class,
                () -> zk.create("/new", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertThrows(KeeperException.NotReadOnlyException.class, () -> zk.setData("/data", bytes("x"), -1));
        assertThrows(KeeperException.NotReadOnlyException.class, () -> zk.delete("/data", -1));
        assertArrayEquals(bytes("before"), zk.getData("/data", false, null), "the session survives its refusals");

        // A client that did not ask for a read-only session is refused, as Apache refuses it.
        BlockingQueue<WatchedEvent> plainEvents = new LinkedBlockingQueue<>();
        ZooKeeper plain = new ZooKeeper(ensemble.connect(left), 10_000, plainEvents::add);
        clients.add(plain);
        WatchedEvent first = plainEvents.poll(3, TimeUnit.SECONDS);
        assertTrue(first == null || first.getState() != Watcher.Event.KeeperState.SyncConnected, String.valueOf(first));
        assertFalse(plain.getState().isConnected(), "a read-write client must not get a session from a read-only member");
    }

    @Test
    void readOnlyClientsMoveToAReadWriteSessionWhenTheQuorumReturns() throws Exception {
        int left = isolateOneMember(true);
        awaitMode(left, "read-only", 20_000);
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        ZooKeeper zk = readOnlyClient(ensemble.connect(left), events);
        awaitState(events, Watcher.Event.KeeperState.ConnectedReadOnly);
        long readOnlySession = zk.getSessionId();
        assertNotEquals(0, readOnlySession);

        int back = left == 1 ? 2 : 1;
        ensemble.start(back);
        ensemble.awaitServing(30_000);
        assertEquals("rw", fourLetterWord(ensemble.clientPort(left), "isro"));
        awaitState(events, Watcher.Event.KeeperState.SyncConnected);
        // The read-only session was a fake one: the client holds a new, real session and can write.
        assertNotEquals(readOnlySession, zk.getSessionId());
        zk.create("/after", bytes("rw"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        assertArrayEquals(bytes("rw"), zk.getData("/after", false, null));
        try (ZooKeeper other = TestEnsemble.client(ensemble.connect(back), 10_000, null)) {
            other.sync("/", (rc, path, ctx) -> { }, null);
            assertEquals(zk.getSessionId(), other.exists("/after", false).getEphemeralOwner());
        }
    }

    @Test
    void withoutTheFlagACutOffMemberRefusesEvenReadOnlyClients() throws Exception {
        int left = isolateOneMember(false);
        Thread.sleep(3_000); // past the read-only delay, max(2 s, tickTime)
        assertEquals("looking", ensemble.mode(left));
        assertEquals("null", fourLetterWord(ensemble.clientPort(left), "isro"), "Apache's answer with no server running");
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        ZooKeeper zk = readOnlyClient(ensemble.connect(left), events);
        WatchedEvent first = events.poll(3, TimeUnit.SECONDS);
        assertNull(first, "no session of any kind: " + first);
        assertFalse(zk.getState().isConnected());
    }

    @Test
    void aRealSessionIsNotRenewedInReadOnlyModeAndComesBackWithTheQuorum() throws Exception {
        ensemble = new TestEnsemble(dir);
        ensemble.extraSettings.put("readonlymode.enabled", "true");
        ensemble.startAll();
        int leader = ensemble.awaitServing(30_000);
        int left = leader == 1 ? 2 : 1;
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        ZooKeeper zk = readOnlyClient(ensemble.connect(left), events);
        awaitState(events, Watcher.Event.KeeperState.SyncConnected);
        long sessionId = zk.getSessionId();
        zk.create("/mine", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        int back = leader;
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            if (id != left) {
                ensemble.stop(id);
            }
        }
        awaitMode(left, "read-only", 20_000);
        // Apache's validateSession: the client, having seen a read-write server, brings its real session, which a
        // read-only member does not renew; the client stays disconnected rather than losing its session.
        Thread.sleep(1_500);
        assertFalse(zk.getState().isConnected(), String.valueOf(zk.getState()));
        assertTrue(events.stream().noneMatch(e -> e.getState() == Watcher.Event.KeeperState.ConnectedReadOnly),
                events.toString());

        ensemble.start(back);
        ensemble.awaitServing(30_000);
        awaitState(events, Watcher.Event.KeeperState.SyncConnected);
        assertEquals(sessionId, zk.getSessionId(), "the real session survived the read-only spell");
        assertEquals(sessionId, zk.exists("/mine", false).getEphemeralOwner());
    }
}
