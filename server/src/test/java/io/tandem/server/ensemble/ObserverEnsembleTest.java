package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three voters and one observer ({@code server.4=...:observer}, {@code peerType=observer}) in-process, driven by the
 * official ZooKeeper 3.9 client: the observer serves reads, writes and watches, reports itself as Apache's observers
 * do, and counts in no quorum.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ObserverEnsembleTest {
    private static final int OBSERVER = TestEnsemble.SIZE + 1;

    @TempDir
    Path dir;
    private TestEnsemble ensemble;
    private final List<ZooKeeper> clients = new ArrayList<>();

    @BeforeEach
    void startEnsemble() throws Exception {
        ensemble = new TestEnsemble(dir, 1);
        ensemble.extraSettings.put("4lw.commands.whitelist", "*");
        ensemble.startAll();
        ensemble.awaitServing(30_000);
    }

    @AfterEach
    void stopEnsemble() throws InterruptedException {
        for (ZooKeeper zk : clients) {
            zk.close();
        }
        ensemble.close();
    }

    private ZooKeeper client(String connect, Watcher extra) throws Exception {
        ZooKeeper zk = TestEnsemble.client(connect, 10_000, extra);
        clients.add(zk);
        return zk;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String fourLetterWord(int clientPort, String word) throws IOException {
        return TestEnsemble.fourLetterWord(clientPort, word, 5_000);
    }

    @Test
    void anObserverReportsItsModeAsApacheDoes() throws Exception {
        int port = ensemble.clientPort(OBSERVER);
        assertEquals("observer", ensemble.mode(OBSERVER));
        assertTrue(fourLetterWord(port, "stat").contains("\nMode: observer\n"), fourLetterWord(port, "stat"));
        assertTrue(fourLetterWord(port, "mntr").contains("zk_server_state\tobserver\n"), fourLetterWord(port, "mntr"));
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            assertNotEquals("observer", ensemble.mode(id), "voter " + id);
        }
    }

    @Test
    void aClientOfTheObserverWritesReadsAndGetsWatches() throws Exception {
        BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        ZooKeeper viaObserver = client(ensemble.connect(OBSERVER), null);
        int leader = ensemble.awaitServing(10_000);
        ZooKeeper viaLeader = client(ensemble.connect(leader), null);

        // A write through the observer is forwarded to the leader; its own client reads it back at once.
        viaObserver.create("/app", bytes("root"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertArrayEquals(bytes("root"), viaObserver.getData("/app", events::add, null));
        assertEquals(List.of(), viaObserver.getChildren("/app", events::add));
        String sequential = viaObserver.create("/app/seq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.EPHEMERAL_SEQUENTIAL);
        WatchedEvent childEvent = events.poll(10, TimeUnit.SECONDS);
        assertNotNull(childEvent, "the observer fired its own client's child watch");
        assertEquals(Watcher.Event.EventType.NodeChildrenChanged, childEvent.getType());

        // A write through the leader reaches the observer's tree and fires its client's data watch.
        viaLeader.sync("/app", (rc, path, ctx) -> { }, null);
        assertEquals(List.of(sequential.substring("/app/".length())), viaLeader.getChildren("/app", false));
        viaLeader.setData("/app", bytes("changed"), 0);
        WatchedEvent dataEvent = events.poll(10, TimeUnit.SECONDS);
        assertNotNull(dataEvent, "the leader's commit fired the observer client's watch");
        assertEquals(Watcher.Event.EventType.NodeDataChanged, dataEvent.getType());
        assertEquals("/app", dataEvent.getPath());
        assertArrayEquals(bytes("changed"), viaObserver.getData("/app", false, null));

        // Versions are checked by the leader against its newest state for the observer's clients too.
        assertThrows(KeeperException.BadVersionException.class, () -> viaObserver.setData("/app", bytes("x"), 0));
        assertEquals(ensemble.dump(leader), ensemble.dump(OBSERVER));
    }

    @Test
    void theObserverDoesNotCountInTheQuorum() throws Exception {
        int leader = ensemble.awaitServing(10_000);
        int follower = leader == 1 ? 2 : 1;
        ensemble.stop(OBSERVER);
        ZooKeeper zk = client(ensemble.connect(leader), null);
        zk.create("/without-observer", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

        // Two voters of three are a quorum: were the observer a voter, two of four would not be.
        ensemble.stop(follower);
        zk.create("/two-of-three", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertEquals("leader", ensemble.mode(leader));

        // The observer comes back and catches up from the two voters.
        ensemble.start(OBSERVER);
        ensemble.awaitServing(30_000);
        ZooKeeper viaObserver = client(ensemble.connect(OBSERVER), null);
        viaObserver.sync("/", (rc, path, ctx) -> { }, null);
        assertNotNull(viaObserver.exists("/two-of-three", false));
    }

    @Test
    void aVoterAndTheObserverCannotCommitWithoutAQuorumAndTheObserverNeverLeads() throws Exception {
        ZooKeeper viaObserver = client(ensemble.connect(OBSERVER), null);
        viaObserver.create("/before", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        int leader = ensemble.awaitServing(10_000);
        int survivor = leader == 1 ? 2 : 1;
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            if (id != survivor) {
                ensemble.stop(id);
            }
        }
        // Two members are up, but only one voter: nobody may lead, so the observer serves no client and commits
        // nothing. Waiting past initLimit (10 ticks) gives any election time to (wrongly) decide.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        while (System.nanoTime() - deadline < 0) {
            String observerMode = ensemble.mode(OBSERVER);
            assertTrue(observerMode.equals("looking") || observerMode.equals("observer"), observerMode);
            assertNotEquals("leader", ensemble.mode(survivor));
            Thread.sleep(100);
        }
        assertEquals("looking", ensemble.mode(OBSERVER));
        assertEquals("looking", ensemble.mode(survivor));
        assertThrows(KeeperException.ConnectionLossException.class, () -> viaObserver.create("/lost", null,
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));

        // A second voter restores the quorum: the observer serves again and the session carries on.
        ensemble.start(leader);
        ensemble.awaitServing(30_000);
        assertEquals("observer", ensemble.mode(OBSERVER));
        ZooKeeper again = client(ensemble.connect(OBSERVER), null);
        again.create("/after", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        again.sync("/", (rc, path, ctx) -> { }, null);
        assertNotNull(again.exists("/before", false));
        assertEquals(null, again.exists("/lost", false), "nothing was committed without a quorum");
    }
}
