package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the server's own container/TTL sweep does to the tree: the same watch events and parent Stat changes as a
 * client's delete, and no deletion while a node is still in use. The targets sweep every 250 ms.
 */
@ExtendWith(ZkTargetExtension.class)
class ZkContainerTtlCompatTest {
    private static ZooKeeper zk;
    private static ZooKeeper watcher;
    private static Zk.EventRecorder events;

    @BeforeAll
    static void connect(ZkTarget target) throws Exception {
        zk = Zk.connect(target.connectString());
        events = new Zk.EventRecorder();
        watcher = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, events);
    }

    @AfterAll
    static void close() throws Exception {
        zk.close();
        watcher.close();
    }

    private static String root(TestInfo info) throws Exception {
        return Zk.testRoot(zk, "sweep-", info, null);
    }

    private static boolean absent(String path) {
        try {
            return zk.exists(path, false) == null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aSweptContainerShouldFireNodeDeletedAndChildChangedAndMoveTheParentLikeADelete(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/box", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
        zk.create(root + "/box/item", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat before = zk.exists(root, false);
        watcher.exists(root + "/box", true);
        watcher.getChildren(root, true);
        Stat itemDeleted = zk.exists(root + "/box", false);
        zk.delete(root + "/box/item", -1);

        events.expect(EventType.NodeDeleted, root + "/box");
        events.expect(EventType.NodeChildrenChanged, root);
        Stat after = zk.exists(root, false);
        assertEquals(before.getCversion() + 1, after.getCversion());
        assertEquals(0, after.getNumChildren());
        assertTrue(after.getPzxid() > itemDeleted.getPzxid(), "the sweep's delete has its own, later zxid");
        assertEquals(before.getMzxid(), after.getMzxid());
        events.expectNoMore(watcher);
    }

    @Test
    void aContainerThatNeverHadChildrenShouldStay(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/never-used", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
        zk.create(root + "/used", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
        zk.create(root + "/used/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.delete(root + "/used/x", -1);
        Zk.awaitTrue("the used container to be swept", () -> absent(root + "/used"));
        // Several sweeps have run by now; the never-used one is kept (maxNeverUsedIntervalMs is 0 = never).
        assertNotNull(zk.exists(root + "/never-used", false));
    }

    @Test
    void aTtlNodeShouldSurviveWhileItHasChildrenAndBeSweptAfterwards(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/ttl", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, null, 300);
        zk.create(root + "/ttl/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        watcher.exists(root + "/ttl", true);
        // Well past the TTL and several sweeps: a TTL node with children is kept.
        Thread.sleep(1500);
        assertNotNull(zk.exists(root + "/ttl", false));
        zk.delete(root + "/ttl/child", -1);
        events.expect(EventType.NodeDeleted, root + "/ttl");
        assertNull(zk.exists(root + "/ttl", false));
        events.expectNoMore(watcher);
    }

    @Test
    void aTtlNodeThatKeepsChangingShouldNotBeSwept(TestInfo info) throws Exception {
        String root = root(info);
        zk.create(root + "/busy", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, null, 3000);
        // Each setData moves mtime, from which the TTL counts: 6 x 600 ms outlives the TTL only because of them.
        for (int i = 0; i < 6; i++) {
            Thread.sleep(600);
            zk.setData(root + "/busy", new byte[] {(byte) i}, -1);
        }
        assertNotNull(zk.exists(root + "/busy", false));
        Zk.awaitTrue("the idle TTL node to be swept", () -> absent(root + "/busy"));
    }
}
