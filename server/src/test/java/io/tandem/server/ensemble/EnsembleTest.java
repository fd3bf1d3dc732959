package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Three Tandem members in-process, driven by the official ZooKeeper 3.9 client. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class EnsembleTest {
    @TempDir
    Path dir;
    private TestEnsemble ensemble;
    private final List<ZooKeeper> clients = new ArrayList<>();

    @BeforeEach
    void startEnsemble() throws Exception {
        ensemble = new TestEnsemble(dir);
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

    private ZooKeeper client(String connect, int sessionTimeoutMs, Watcher extra) throws Exception {
        ZooKeeper zk = TestEnsemble.client(connect, sessionTimeoutMs, extra);
        clients.add(zk);
        return zk;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writesThroughAnyMemberAreSeenOnEveryMember() throws Exception {
        ZooKeeper[] zk = new ZooKeeper[TestEnsemble.SIZE + 1];
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            zk[id] = client(ensemble.connect(id), 10_000, null);
        }
        zk[1].create("/app", bytes("root"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Set<String> sequentials = new HashSet<>();
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            // A member's own client reads its write at once, without a sync: replies follow the session's writes.
            zk[id].create("/app/from-" + id, bytes("v" + id), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertArrayEquals(bytes("v" + id), zk[id].getData("/app/from-" + id, false, null));
            sequentials.add(zk[id].create("/app/seq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_SEQUENTIAL));
        }
        assertEquals(3, sequentials.size(), "sequential names are unique across members");

        // Versions are checked by the leader against its newest state, whichever member the client uses.
        Stat stat = zk[2].setData("/app/from-1", bytes("changed"), 0);
        assertEquals(1, stat.getVersion());
        assertThrows(KeeperException.BadVersionException.class, () -> zk[3].setData("/app/from-1", bytes("x"), 0));
        assertThrows(KeeperException.NodeExistsException.class,
                () -> zk[3].create("/app/from-2", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));

        // A multi and an ACL-protected create through followers: the leader prepares them with the client's auth.
        List<OpResult> results = zk[2].multi(List.of(
                Op.create("/app/multi", bytes("m"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.setData("/app/multi", bytes("m2"), 0),
                Op.check("/app/from-2", 0)));
        assertEquals(3, results.size());
        assertThrows(KeeperException.BadVersionException.class, () -> zk[3].multi(List.of(
                Op.create("/app/never", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.check("/app/from-2", 7))));
        zk[3].addAuthInfo("digest", bytes(TestEnsemble.DUMP_AUTH));
        zk[3].create("/app/private", bytes("p"), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        assertArrayEquals(bytes("p"), zk[3].getData("/app/private", false, null));
        zk[1].sync("/app", (rc, path, ctx) -> { }, null);
        assertThrows(KeeperException.NoAuthException.class, () -> zk[1].getData("/app/private", false, null));
        assertThrows(KeeperException.NoAuthException.class, () -> zk[1].setData("/app/private", bytes("x"), -1));

        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            zk[id].sync("/app", (rc, path, ctx) -> { }, null);
            assertArrayEquals(bytes("changed"), zk[id].getData("/app/from-1", false, null));
            assertEquals(8, zk[id].getChildren("/app", false).size());
            assertArrayEquals(bytes("m2"), zk[id].getData("/app/multi", false, null));
            assertNull(zk[id].exists("/app/never", false));
        }
        Map<String, String> first = ensemble.dump(1);
        assertEquals(first, ensemble.dump(2));
        assertEquals(first, ensemble.dump(3));
    }

    @Test
    void sessionAndEphemeralsSurviveTheirServerDying() throws Exception {
        BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
        ZooKeeper zk = client(ensemble.connectAll(), 3_000, event -> states.add(event.getState()));
        long sessionId = zk.getSessionId();
        zk.create("/lock", bytes("held"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        int victim = ensemble.idOfPort(TestEnsemble.connectedPort(zk));
        states.clear();

        ensemble.stop(victim);
        Watcher.Event.KeeperState state;
        do {
            state = states.poll(20, TimeUnit.SECONDS);
            assertNotNull(state, "the client did not reconnect to another member");
            assertNotEquals(Watcher.Event.KeeperState.Expired, state);
        } while (state != Watcher.Event.KeeperState.SyncConnected);
        assertEquals(sessionId, zk.getSessionId());
        assertNotEquals(victim, ensemble.idOfPort(TestEnsemble.connectedPort(zk)));
        ensemble.awaitServing(30_000);

        // Longer than the session timeout: the session lives on because its new member reports it alive.
        Thread.sleep(4_500);
        zk.setData("/lock", bytes("still held"), -1);
        int other = victim == 1 ? 2 : 1;
        ZooKeeper observer = client(ensemble.connect(other), 10_000, null);
        observer.sync("/", (rc, path, ctx) -> { }, null);
        Stat stat = observer.exists("/lock", false);
        assertNotNull(stat, "the ephemeral survived its server's death");
        assertEquals(sessionId, stat.getEphemeralOwner());

        // The stopped member comes back, catches up and agrees; closing the session removes the ephemeral everywhere.
        ensemble.start(victim);
        ensemble.awaitServing(30_000);
        zk.close();
        clients.remove(zk);
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            assertNull(ensemble.dump(id).get("/lock"), "member " + id + " still has the closed session's ephemeral");
        }
    }

    /**
     * A create beyond jute.maxbuffer sent to a follower: as on Apache 3.9 the member closes that connection at the
     * frame's length prefix (the client sees ConnectionLoss), nothing is written, and the client reconnects with its
     * session. A request issued at the very moment the create fails may fail too: the official client's
     * ClientCnxn.cleanup fails everything in its outgoing queue while the caller is already queueing the next request
     * (about half the runs, against Apache 3.9.5's NIO and Netty servers as against Tandem), so the next request here
     * waits for the reconnect.
     */
    @Test
    void anOversizedRequestToAFollowerClosesOnlyItsConnectionAndTheSessionCarriesOn() throws Exception {
        int leader = ensemble.awaitServing(10_000);
        int follower = leader == 1 ? 2 : 1;
        BlockingQueue<Watcher.Event.KeeperState> states = new LinkedBlockingQueue<>();
        ZooKeeper zk = client(ensemble.connect(follower), 10_000, event -> states.add(event.getState()));
        ZooKeeper bystander = client(ensemble.connect(follower), 10_000, null);
        long sessionId = zk.getSessionId();
        states.clear();
        assertThrows(KeeperException.ConnectionLossException.class, () -> zk.create("/big", new byte[2 << 20],
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertEquals(Watcher.Event.KeeperState.Disconnected, states.poll(10, TimeUnit.SECONDS));
        assertEquals(Watcher.Event.KeeperState.SyncConnected, states.poll(10, TimeUnit.SECONDS));
        assertEquals(sessionId, zk.getSessionId(), "the session survives its connection");
        zk.create("/after", bytes("small"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertArrayEquals(bytes("small"), bystander.getData("/after", false, null),
                "the follower's other clients were not affected");
        for (int id = 1; id <= TestEnsemble.SIZE; id++) {
            Map<String, String> tree = ensemble.dump(id);
            assertNull(tree.get("/big"), "member " + id + " applied the refused create");
            assertNotNull(tree.get("/after"));
        }
    }

    @Test
    void aSessionWhoseClientVanishesExpiresOnEveryMember() throws Exception {
        int leader = ensemble.awaitServing(10_000);
        int follower = leader == 1 ? 2 : 1;
        ZooKeeper doomed = TestEnsemble.client(ensemble.connect(follower), 1_000, null);
        doomed.create("/doomed", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        // The official client has no crash switch; stopping its member and never reconnecting is the same to the
        // leader: nobody reports the session alive any more.
        ensemble.stop(follower);
        doomed.close();
        ZooKeeper watcher = client(ensemble.connect(leader), 10_000, null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (watcher.exists("/doomed", false) != null) {
            assertTrue(System.nanoTime() - deadline < 0, "the vanished session never expired");
            Thread.sleep(100);
        }
    }

    @Test
    void aStoppedLeaderIsReplacedAndEveryAcknowledgedWriteSurvives() throws Exception {
        int leader = ensemble.awaitServing(10_000);
        ZooKeeper zk = client(ensemble.connectAll(), 10_000, null);
        zk.create("/load", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<String> acknowledged = new ArrayList<>();
        long stoppedAt = 0;
        long failoverMs = -1;
        for (int i = 0; i < 400 && (failoverMs < 0 || acknowledged.size() < 300); i++) {
            if (i == 100) {
                stoppedAt = System.nanoTime();
                ensemble.stop(leader);
            }
            String path = "/load/n" + i;
            try {
                zk.create(path, bytes(Integer.toString(i)), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                acknowledged.add(path);
                if (stoppedAt != 0 && failoverMs < 0) {
                    failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);
                }
            } catch (KeeperException.ConnectionLossException e) {
                Thread.sleep(20); // the outcome is unknown; the check below only counts acknowledged writes
            } catch (KeeperException.NodeExistsException e) {
                acknowledged.add(path); // a retried create that had committed before the connection was lost
            }
        }
        assertTrue(failoverMs >= 0, "no write committed after the leader was stopped");
        System.out.println("EnsembleTest: leader " + leader + " stopped; next committed write after " + failoverMs
                + " ms");
        int newLeader = ensemble.awaitServing(30_000);
        assertNotEquals(leader, newLeader);
        ensemble.start(leader);
        ensemble.awaitServing(30_000);
        Map<String, String> first = ensemble.dump(1);
        for (String path : acknowledged) {
            assertNotNull(first.get(path), "acknowledged write " + path + " is missing");
        }
        assertEquals(first, ensemble.dump(2));
        assertEquals(first, ensemble.dump(3));
    }
}
