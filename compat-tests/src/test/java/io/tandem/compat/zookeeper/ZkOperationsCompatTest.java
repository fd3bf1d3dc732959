package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every basic ZooKeeper operation through the unmodified 3.9.5 Java client, with exact results and Stat fields. */
@ExtendWith(ZkTargetExtension.class)
class ZkOperationsCompatTest {
    private static ZooKeeper zk;

    @BeforeAll
    static void connect(ZkTarget target) throws Exception {
        zk = Zk.connect(target.connectString());
    }

    @AfterAll
    static void close() throws Exception {
        zk.close();
    }

    private static String root(TestInfo info) throws Exception {
        return Zk.testRoot(zk, "ops-", info, new byte[0]);
    }

    @Test
    void create2ShouldReturnTheNewNodesStatWithAllCountersAtTheirInitialValues(TestInfo info) throws Exception {
        String root = root(info);
        Stat stat = new Stat();
        String created = zk.create(root + "/a", Zk.utf8("hello"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, stat);

        assertEquals(root + "/a", created);
        assertTrue(stat.getCzxid() > 0);
        assertEquals(stat.getCzxid(), stat.getMzxid());
        assertEquals(stat.getCzxid(), stat.getPzxid());
        assertEquals(stat.getCtime(), stat.getMtime());
        assertEquals(0, stat.getVersion());
        assertEquals(0, stat.getCversion());
        assertEquals(0, stat.getAversion());
        assertEquals(0, stat.getEphemeralOwner());
        assertEquals(5, stat.getDataLength());
        assertEquals(0, stat.getNumChildren());
        assertEquals(stat, zk.exists(root + "/a", false));
    }

    @Test
    void creatingAndDeletingChildrenShouldMoveTheParentsCversionPzxidAndNumChildrenButNotItsMzxid(TestInfo info) throws Exception {
        String root = root(info);
        Stat before = zk.exists(root, false);
        Stat child = new Stat();
        zk.create(root + "/c1", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, child);

        Stat afterCreate = zk.exists(root, false);
        assertEquals(before.getCversion() + 1, afterCreate.getCversion());
        assertEquals(child.getCzxid(), afterCreate.getPzxid());
        assertEquals(1, afterCreate.getNumChildren());
        assertEquals(before.getMzxid(), afterCreate.getMzxid());
        assertEquals(before.getVersion(), afterCreate.getVersion());
        assertEquals(before.getMtime(), afterCreate.getMtime());

        zk.delete(root + "/c1", -1);
        Stat afterDelete = zk.exists(root, false);
        assertEquals(before.getCversion() + 2, afterDelete.getCversion());
        assertTrue(afterDelete.getPzxid() > child.getCzxid(), "pzxid moves to the delete's zxid");
        assertEquals(0, afterDelete.getNumChildren());
        assertEquals(before.getMzxid(), afterDelete.getMzxid());

        // The delete's zxid is the last one: the next write gets the one after it.
        Stat next = new Stat();
        zk.create(root + "/c2", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, next);
        assertEquals(afterDelete.getPzxid() + 1, next.getCzxid());
    }

    @Test
    void setDataShouldBumpVersionAndMzxidOnlyAndDeleteShouldCheckTheVersion(TestInfo info) throws Exception {
        String root = root(info);
        Stat created = new Stat();
        zk.create(root + "/n", Zk.utf8("v0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, created);

        Stat set = zk.setData(root + "/n", Zk.utf8("value-1"), 0);
        assertEquals(1, set.getVersion());
        assertEquals(created.getCzxid(), set.getCzxid());
        assertTrue(set.getMzxid() > created.getMzxid());
        assertEquals(created.getPzxid(), set.getPzxid());
        assertEquals(created.getCtime(), set.getCtime());
        assertTrue(set.getMtime() >= created.getMtime());
        assertEquals(7, set.getDataLength());
        assertEquals(0, set.getCversion());

        Stat read = new Stat();
        assertArrayEquals(Zk.utf8("value-1"), zk.getData(root + "/n", false, read));
        assertEquals(set, read);

        assertThrows(KeeperException.BadVersionException.class, () -> zk.setData(root + "/n", Zk.utf8("x"), 0));
        assertEquals(2, zk.setData(root + "/n", Zk.utf8("x"), -1).getVersion());

        assertThrows(KeeperException.BadVersionException.class, () -> zk.delete(root + "/n", 1));
        zk.delete(root + "/n", 2);
        assertNull(zk.exists(root + "/n", false));
        assertThrows(KeeperException.NoNodeException.class, () -> zk.delete(root + "/n", -1));
        assertThrows(KeeperException.NoNodeException.class, () -> zk.setData(root + "/n", null, -1));
        assertThrows(KeeperException.NoNodeException.class, () -> zk.getData(root + "/n", false, null));
    }

    @Test
    void nullAndEmptyDataShouldBothReadBackAsNoBytesWithDataLengthZero(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/null", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(root + "/empty", new byte[0], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat stat = new Stat();
        byte[] nullData = zk.getData(root + "/null", false, stat);
        assertEquals(0, stat.getDataLength());
        assertNull(nullData, "a node created with null data reads back as null");
        assertArrayEquals(new byte[0], zk.getData(root + "/empty", false, stat));
        assertEquals(0, stat.getDataLength());
    }

    @Test
    void createShouldFailWithTheExactErrorForEachBadCase(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertThrows(KeeperException.NodeExistsException.class,
                () -> zk.create(root + "/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertThrows(KeeperException.NoNodeException.class,
                () -> zk.create(root + "/missing/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        zk.create(root + "/x/y", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertThrows(KeeperException.NotEmptyException.class, () -> zk.delete(root + "/x", -1));
        zk.create(root + "/eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        assertThrows(KeeperException.NoChildrenForEphemeralsException.class,
                () -> zk.create(root + "/eph/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertThrows(KeeperException.InvalidACLException.class,
                () -> zk.create(root + "/noacl", null, List.of(), CreateMode.PERSISTENT));
    }

    @Test
    void sequentialNodesShouldBeNumberedFromTheParentsCversionWithTenDigits(TestInfo info) throws Exception {
        String root = root(info);
        assertEquals(root + "/s-0000000000", zk.create(root + "/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        zk.create(root + "/plain", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.delete(root + "/plain", -1);
        // Apache numbers from the count of creates under the parent (2 here), while the cversion it reports also
        // counts deletes (3 here): a delete does not advance the sequence.
        assertEquals(3, zk.exists(root, false).getCversion());
        Stat stat = new Stat();
        assertEquals(root + "/s-0000000002",
                zk.create(root + "/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL, stat));
        assertEquals(zk.getSessionId(), stat.getEphemeralOwner());
        assertEquals(root + "/0000000003", zk.create(root + "/", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
    }

    @Test
    void ephemeralNodesShouldCarryTheSessionIdAndBeListedByGetEphemerals(TestInfo info) throws Exception {
        String root = root(info);
        Stat stat = new Stat();
        zk.create(root + "/e1", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, stat);
        zk.create(root + "/e2", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        assertEquals(zk.getSessionId(), stat.getEphemeralOwner());

        List<String> mine = zk.getEphemerals(root);
        assertEquals(List.of(root + "/e1", root + "/e2"), mine.stream().sorted().toList());
        assertTrue(zk.getEphemerals("/").containsAll(mine));
        assertEquals(List.of(), zk.getEphemerals(root + "/e1-no-such-prefix"));
    }

    @Test
    void containerAndTtlNodesShouldLookPersistentInTheirStatAndBeRemovedByTheServer(TestInfo info) throws Exception {
        String root = root(info);
        Stat container = new Stat();
        zk.create(root + "/box", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, container);
        // Apache keeps the container/TTL marker internal: clients see ephemeralOwner 0, as for a persistent node.
        assertEquals(0, container.getEphemeralOwner());
        assertEquals(container, zk.exists(root + "/box", false));

        Stat ttl = new Stat();
        zk.create(root + "/ttl", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, ttl, 500);
        assertEquals(0, ttl.getEphemeralOwner());
        assertEquals(0, ttl.getVersion());
        assertEquals(root + "/ttlseq0000000002",
                zk.create(root + "/ttlseq", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, null, 60_000));

        // A container is deleted once its last child goes; a TTL node once its TTL passed without a change.
        zk.create(root + "/box/item", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.delete(root + "/box/item", -1);
        Zk.awaitTrue("container to be removed", () -> absent(root + "/box"));
        Zk.awaitTrue("TTL node to be removed", () -> absent(root + "/ttl"));
        assertNotNull(zk.exists(root + "/ttlseq0000000002", false), "a 60 s TTL node is still there");
    }

    private static boolean absent(String path) {
        try {
            return zk.exists(path, false) == null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void getChildrenShouldListNamesAndGetChildren2ShouldAlsoReturnTheParentsStat(TestInfo info) throws Exception {
        String root = root(info);
        for (String name : List.of("b", "a", "c")) {
            zk.create(root + "/" + name, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        assertEquals(List.of("a", "b", "c"), zk.getChildren(root, false).stream().sorted().toList());
        Stat stat = new Stat();
        List<String> children = zk.getChildren(root, false, stat);
        assertEquals(3, children.size());
        assertEquals(3, stat.getNumChildren());
        assertEquals(3, stat.getCversion());
        assertEquals(zk.exists(root, false), stat);
        assertThrows(KeeperException.NoNodeException.class, () -> zk.getChildren(root + "/none", false));
        assertEquals(List.of(), zk.getChildren(root + "/a", false));
    }

    @Test
    void getAllChildrenNumberShouldCountEveryDescendant(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/a", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(root + "/a/b", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(root + "/a/b/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(root + "/d", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertEquals(4, zk.getAllChildrenNumber(root));
        assertEquals(2, zk.getAllChildrenNumber(root + "/a"));
        assertEquals(0, zk.getAllChildrenNumber(root + "/d"));
        assertThrows(KeeperException.NoNodeException.class, () -> zk.getAllChildrenNumber(root + "/none"));
    }

    @Test
    void syncShouldSucceedAndEchoThePath(TestInfo info) throws Exception {
        String root = root(info);
        CompletableFuture<String> synced = new CompletableFuture<>();
        zk.sync(root, (rc, path, ctx) -> synced.complete(rc + " " + path), null);
        assertEquals("0 " + root, synced.get(Zk.WAIT_SECONDS, TimeUnit.SECONDS));
        zk.sync(root);
    }

    @Test
    void whoAmIShouldReportTheIpIdentityOfAnUnauthenticatedClient() throws Exception {
        List<ClientInfo> identities = zk.whoAmI();
        assertEquals(1, identities.size());
        assertEquals("ip", identities.get(0).getAuthScheme());
        assertEquals("127.0.0.1", identities.get(0).getUser());
    }

    @Test
    void theZookeeperSystemNodesShouldExist() throws Exception {
        assertNotNull(zk.exists("/zookeeper", false));
        assertNotNull(zk.exists("/zookeeper/quota", false));
        assertTrue(zk.getChildren("/", false).contains("zookeeper"));
    }

    @Test
    void dataJustUnderTheBufferLimitShouldRoundTrip(TestInfo info) throws Exception {
        String root = root(info);
        byte[] big = new byte[1_000_000];
        big[0] = 1;
        big[big.length - 1] = 2;
        zk.create(root + "/big", big, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat stat = new Stat();
        assertArrayEquals(big, zk.getData(root + "/big", false, stat));
        assertEquals(big.length, stat.getDataLength());
    }

    @Test
    void aRequestLargerThanJuteMaxBufferShouldLoseTheConnectionAndCreateNothing(ZkTarget target, TestInfo info) throws Exception {
        String root = root(info);
        Zk.EventRecorder events = new Zk.EventRecorder();
        try (ZooKeeper other = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, events)) {
            byte[] tooBig = new byte[1_100_000];
            assertThrows(KeeperException.ConnectionLossException.class,
                    () -> other.create(root + "/too-big", tooBig, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertNull(zk.exists(root + "/too-big", false));
            // The server dropped only that connection: the session reconnects and keeps working.
            events.awaitState(org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected);
            assertNotEquals(null, other.exists("/", false));
        }
    }
}
