package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/** multi (transactions) and multiRead: per-op results, and the exact error per op when a transaction fails. */
@ExtendWith(ZkTargetExtension.class)
class ZkMultiCompatTest {
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
        return Zk.testRoot(zk, "multi-", info, new byte[0]);
    }

    @Test
    void aSuccessfulMultiShouldReturnOneResultPerOpInOrderAndApplyAtomically(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/old", Zk.utf8("x"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> results = zk.multi(List.of(
                Op.create(root + "/a", Zk.utf8("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create(root + "/seq-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
                Op.check(root + "/old", 0),
                Op.setData(root + "/old", Zk.utf8("y"), 0),
                Op.delete(root + "/a", 0)));

        assertEquals(5, results.size());
        assertEquals(root + "/a", assertInstanceOf(OpResult.CreateResult.class, results.get(0)).getPath());
        assertEquals(root + "/seq-0000000002", assertInstanceOf(OpResult.CreateResult.class, results.get(1)).getPath());
        assertInstanceOf(OpResult.CheckResult.class, results.get(2));
        Stat set = assertInstanceOf(OpResult.SetDataResult.class, results.get(3)).getStat();
        assertEquals(1, set.getVersion());
        assertInstanceOf(OpResult.DeleteResult.class, results.get(4));

        // All ops of one multi share one zxid.
        Stat old = zk.exists(root + "/old", false);
        Stat seq = zk.exists(root + "/seq-0000000002", false);
        assertEquals(old.getMzxid(), seq.getCzxid());
        assertEquals(set, old);
        assertNull(zk.exists(root + "/a", false));
        Stat parent = zk.exists(root, false);
        assertEquals(2, parent.getNumChildren());
        assertEquals(seq.getCzxid(), parent.getPzxid());
    }

    @Test
    void multiCreateWithStatModesShouldReturnTheCreatedStat(TestInfo info) throws Exception {
        String root = root(info);
        List<OpResult> results = zk.multi(List.of(
                Op.create(root + "/ttl", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 60_000),
                Op.create(root + "/box", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER)));
        OpResult.CreateResult ttl = assertInstanceOf(OpResult.CreateResult.class, results.get(0));
        OpResult.CreateResult box = assertInstanceOf(OpResult.CreateResult.class, results.get(1));
        assertEquals(root + "/ttl", ttl.getPath());
        assertEquals(zk.exists(root + "/ttl", false), ttl.getStat());
        assertEquals(zk.exists(root + "/box", false), box.getStat());
    }

    @Test
    void aFailedMultiShouldReportOkBeforeTheFailureTheErrorAtItAndRuntimeInconsistencyAfter(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/exists", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        KeeperException failure = assertThrows(KeeperException.NodeExistsException.class, () -> zk.multi(List.of(
                Op.create(root + "/new", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.setData(root + "/exists", Zk.utf8("v"), -1),
                Op.create(root + "/exists", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.delete(root + "/exists", -1))));

        List<OpResult> results = failure.getResults();
        assertEquals(4, results.size());
        assertEquals(Code.OK.intValue(), assertInstanceOf(OpResult.ErrorResult.class, results.get(0)).getErr());
        assertEquals(Code.OK.intValue(), assertInstanceOf(OpResult.ErrorResult.class, results.get(1)).getErr());
        assertEquals(Code.NODEEXISTS.intValue(), assertInstanceOf(OpResult.ErrorResult.class, results.get(2)).getErr());
        assertEquals(Code.RUNTIMEINCONSISTENCY.intValue(), assertInstanceOf(OpResult.ErrorResult.class, results.get(3)).getErr());

        // Nothing was applied.
        assertNull(zk.exists(root + "/new", false));
        assertEquals(0, zk.exists(root + "/exists", false).getVersion());
    }

    @Test
    void aFailedCheckShouldFailTheMultiWithBadVersion(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/n", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        KeeperException failure = assertThrows(KeeperException.BadVersionException.class, () -> zk.multi(List.of(
                Op.check(root + "/n", 7),
                Op.delete(root + "/n", -1))));
        assertEquals(Code.BADVERSION.intValue(), ((OpResult.ErrorResult) failure.getResults().get(0)).getErr());
        assertEquals(Code.RUNTIMEINCONSISTENCY.intValue(), ((OpResult.ErrorResult) failure.getResults().get(1)).getErr());
        assertThrows(KeeperException.NoNodeException.class, () -> zk.multi(List.of(Op.check(root + "/missing", -1))));
    }

    @Test
    void opsInAMultiShouldSeeTheEffectsOfEarlierOpsInTheSameMulti(TestInfo info) throws Exception {
        String root = root(info);
        List<OpResult> results = zk.multi(List.of(
                Op.create(root + "/p", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create(root + "/p/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.setData(root + "/p/c", Zk.utf8("1"), 0),
                Op.setData(root + "/p/c", Zk.utf8("2"), 1),
                Op.delete(root + "/p/c", 2)));
        assertEquals(5, results.size());
        assertEquals(0, zk.exists(root + "/p", false).getNumChildren());
    }

    @Test
    void deletingAndRecreatingAPathInOneMultiShouldFireDeletedThenCreatedAndOneChildEventPerOp(ZkTarget target, TestInfo info)
            throws Exception {
        String root = root(info);
        zk.create(root + "/x", Zk.utf8("old"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Zk.EventRecorder persistent = new Zk.EventRecorder();
        Zk.EventRecorder children = new Zk.EventRecorder();
        try (ZooKeeper watcher = Zk.connect(target.connectString())) {
            watcher.addWatch(root + "/x", persistent, org.apache.zookeeper.AddWatchMode.PERSISTENT);
            watcher.getChildren(root, children);
            Stat before = zk.exists(root, false);
            zk.multi(List.of(
                    Op.delete(root + "/x", -1),
                    Op.create(root + "/x", Zk.utf8("new"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.create(root + "/seq-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL)));
            persistent.expect(org.apache.zookeeper.Watcher.Event.EventType.NodeDeleted, root + "/x");
            persistent.expect(org.apache.zookeeper.Watcher.Event.EventType.NodeCreated, root + "/x");
            children.expect(org.apache.zookeeper.Watcher.Event.EventType.NodeChildrenChanged, root);
            persistent.expectNoMore(watcher);
            children.expectNoMore(watcher);

            Stat x = zk.exists(root + "/x", false);
            Stat after = zk.exists(root, false);
            assertEquals(before.getCversion() + 3, after.getCversion());
            assertEquals(x.getCzxid(), after.getPzxid());
            assertEquals(0, x.getVersion());
            // Creates under root so far: x, then x again: the sequence counter is 2.
            assertEquals(List.of("seq-0000000002", "x"), zk.getChildren(root, false).stream().sorted().toList());
        }
    }

    @Test
    void anEphemeralCreatedInAMultiShouldBeOwnedByTheSessionAndGoWithIt(ZkTarget target, TestInfo info) throws Exception {
        String root = root(info);
        long sessionId;
        try (ZooKeeper other = Zk.connect(target.connectString())) {
            sessionId = other.getSessionId();
            other.multi(List.of(
                    Op.create(root + "/e", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL),
                    Op.create(root + "/es-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL)));
            assertEquals(sessionId, zk.exists(root + "/e", false).getEphemeralOwner());
            assertEquals(sessionId, zk.exists(root + "/es-0000000001", false).getEphemeralOwner());
            assertEquals(List.of(root + "/e", root + "/es-0000000001"), other.getEphemerals(root).stream().sorted().toList());
        }
        assertEquals(List.of(), zk.getChildren(root, false));
    }

    @Test
    void anOpWithoutPermissionShouldFailTheMultiWithNoAuthAtItsIndex(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/ro", null, Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        KeeperException failure = assertThrows(KeeperException.NoAuthException.class, () -> zk.multi(List.of(
                Op.create(root + "/ok", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.setData(root + "/ro", Zk.utf8("x"), -1))));
        assertEquals(Code.OK.intValue(), ((OpResult.ErrorResult) failure.getResults().get(0)).getErr());
        assertEquals(Code.NOAUTH.intValue(), ((OpResult.ErrorResult) failure.getResults().get(1)).getErr());
        assertNull(zk.exists(root + "/ok", false));
    }

    @Test
    void anEmptyMultiShouldSucceedWithNoResults() throws Exception {
        assertEquals(List.of(), zk.multi(List.of()));
    }

    @Test
    void multiReadShouldAnswerEachReadIndependentlyIncludingErrors(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/a", Zk.utf8("data-a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create(root + "/a/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

        List<OpResult> results = zk.multi(List.of(
                Op.getData(root + "/a"),
                Op.getChildren(root + "/a"),
                Op.getData(root + "/missing"),
                Op.getChildren(root + "/missing")));

        OpResult.GetDataResult data = assertInstanceOf(OpResult.GetDataResult.class, results.get(0));
        assertArrayEquals(Zk.utf8("data-a"), data.getData());
        assertEquals(zk.exists(root + "/a", false), data.getStat());
        assertEquals(List.of("child"), assertInstanceOf(OpResult.GetChildrenResult.class, results.get(1)).getChildren());
        assertEquals(Code.NONODE.intValue(), assertInstanceOf(OpResult.ErrorResult.class, results.get(2)).getErr());
        assertEquals(Code.NONODE.intValue(), assertInstanceOf(OpResult.ErrorResult.class, results.get(3)).getErr());
    }

    @Test
    void mixingReadAndWriteOpsInOneMultiShouldBeRejectedByTheClient() {
        assertThrows(IllegalArgumentException.class, () -> zk.multi(List.of(
                Op.getData("/"),
                Op.create("/never", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))));
    }
}
