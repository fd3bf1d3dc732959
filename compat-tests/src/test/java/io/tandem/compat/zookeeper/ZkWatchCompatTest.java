package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.WatcherType;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every watch kind and the exact event sequence it produces. The watching client and the writing client are separate
 * sessions, so notifications really travel from the server; {@link Zk.EventRecorder#expectNoMore} proves nothing extra came.
 */
@ExtendWith(ZkTargetExtension.class)
class ZkWatchCompatTest {
    private static ZooKeeper writer;
    private ZooKeeper watcher;
    private Zk.EventRecorder events;
    private String root;

    @BeforeAll
    static void connectWriter(ZkTarget target) throws Exception {
        writer = Zk.connect(target.connectString());
    }

    @AfterAll
    static void closeWriter() throws Exception {
        writer.close();
    }

    @BeforeEach
    void connectWatcher(ZkTarget target, TestInfo info) throws Exception {
        events = new Zk.EventRecorder();
        watcher = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, events);
        root = "/watch-" + info.getTestMethod().orElseThrow().getName();
        writer.create(root, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    @AfterEach
    void closeWatcher() throws Exception {
        watcher.close();
    }

    private void create(String path) throws Exception {
        writer.create(path, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    @Test
    void aDataWatchShouldFireOnceForSetDataAndNotAgain() throws Exception {
        create(root + "/n");
        watcher.getData(root + "/n", true, null);
        writer.setData(root + "/n", new byte[] {1}, -1);
        writer.setData(root + "/n", new byte[] {2}, -1);
        events.expect(EventType.NodeDataChanged, root + "/n");
        events.expectNoMore(watcher);
    }

    @Test
    void aDataWatchShouldFireNodeDeletedWhenTheNodeGoes() throws Exception {
        create(root + "/n");
        watcher.getData(root + "/n", true, null);
        writer.delete(root + "/n", -1);
        events.expect(EventType.NodeDeleted, root + "/n");
        events.expectNoMore(watcher);
    }

    @Test
    void anExistsWatchOnAMissingNodeShouldFireNodeCreated() throws Exception {
        watcher.exists(root + "/later", true);
        create(root + "/later");
        events.expect(EventType.NodeCreated, root + "/later");
        events.expectNoMore(watcher);
    }

    @Test
    void anExistsWatchOnAnExistingNodeShouldFireDataChangedThenNeedReRegistering() throws Exception {
        create(root + "/n");
        watcher.exists(root + "/n", true);
        writer.setData(root + "/n", new byte[] {1}, -1);
        events.expect(EventType.NodeDataChanged, root + "/n");
        watcher.exists(root + "/n", true);
        writer.delete(root + "/n", -1);
        events.expect(EventType.NodeDeleted, root + "/n");
        events.expectNoMore(watcher);
    }

    @Test
    void aChildWatchShouldFireForChildCreateAndDeleteButNotForTheParentsDataOrGrandchildren() throws Exception {
        create(root + "/p");
        create(root + "/p/existing");
        watcher.getChildren(root + "/p", true);
        writer.setData(root + "/p", new byte[] {1}, -1);
        create(root + "/p/existing/grandchild");
        events.expectNoMore(watcher);

        create(root + "/p/new");
        events.expect(EventType.NodeChildrenChanged, root + "/p");
        watcher.getChildren(root + "/p", true);
        writer.delete(root + "/p/new", -1);
        events.expect(EventType.NodeChildrenChanged, root + "/p");
        events.expectNoMore(watcher);
    }

    @Test
    void deletingAWatchedParentShouldFireNodeDeletedToBothItsDataAndChildWatchesAsOneEvent() throws Exception {
        create(root + "/p");
        watcher.getChildren(root + "/p", true);
        watcher.getData(root + "/p", true, null);
        writer.delete(root + "/p", -1);
        events.expect(EventType.NodeDeleted, root + "/p");
        // The default watcher is one object registered twice: the client delivers the event to it once.
        events.expectNoMore(watcher);
    }

    @Test
    void distinctWatchersOnOneNodeShouldEachBeNotified() throws Exception {
        create(root + "/n");
        Zk.EventRecorder dataWatcher = new Zk.EventRecorder();
        Zk.EventRecorder childWatcher = new Zk.EventRecorder();
        watcher.getData(root + "/n", dataWatcher, null);
        watcher.getChildren(root + "/n", childWatcher);
        watcher.exists(root + "/n", true);
        writer.delete(root + "/n", -1);
        dataWatcher.expect(EventType.NodeDeleted, root + "/n");
        childWatcher.expect(EventType.NodeDeleted, root + "/n");
        events.expect(EventType.NodeDeleted, root + "/n");
        events.expectNoMore(watcher);
        dataWatcher.expectNoMore(watcher);
        childWatcher.expectNoMore(watcher);
    }

    @Test
    void aMultiShouldFireTheEventsOfEachOfItsOpsInOpOrder() throws Exception {
        create(root + "/a");
        create(root + "/b");
        watcher.getData(root + "/a", true, null);
        watcher.getChildren(root, true);
        watcher.exists(root + "/c", true);
        writer.multi(List.of(
                Op.setData(root + "/a", new byte[] {1}, -1),
                Op.create(root + "/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
        events.expect(EventType.NodeDataChanged, root + "/a");
        events.expect(EventType.NodeCreated, root + "/c");
        events.expect(EventType.NodeChildrenChanged, root);
        events.expectNoMore(watcher);
    }

    @Test
    void aPersistentWatchShouldReportEveryChangeOfTheNodeAndItsChildListButNotDeeper() throws Exception {
        watcher.addWatch(root + "/p", AddWatchMode.PERSISTENT);
        create(root + "/p");
        writer.setData(root + "/p", new byte[] {1}, -1);
        writer.setData(root + "/p", new byte[] {2}, -1);
        create(root + "/p/c");
        create(root + "/p/c/deeper");
        writer.setData(root + "/p/c", new byte[] {1}, -1);
        writer.delete(root + "/p/c/deeper", -1);
        writer.delete(root + "/p/c", -1);
        writer.delete(root + "/p", -1);
        create(root + "/p");

        events.expect(EventType.NodeCreated, root + "/p");
        events.expect(EventType.NodeDataChanged, root + "/p");
        events.expect(EventType.NodeDataChanged, root + "/p");
        events.expect(EventType.NodeChildrenChanged, root + "/p");
        events.expect(EventType.NodeChildrenChanged, root + "/p");
        events.expect(EventType.NodeDeleted, root + "/p");
        events.expect(EventType.NodeCreated, root + "/p");
        events.expectNoMore(watcher);
    }

    @Test
    void aPersistentRecursiveWatchShouldReportEachDescendantsChangeWithItsOwnPathAndNoChildEvents() throws Exception {
        watcher.addWatch(root + "/r", AddWatchMode.PERSISTENT_RECURSIVE);
        create(root + "/r");
        create(root + "/r/a");
        create(root + "/r/a/b");
        writer.setData(root + "/r/a/b", new byte[] {1}, -1);
        writer.delete(root + "/r/a/b", -1);
        create(root + "/sibling");

        events.expect(EventType.NodeCreated, root + "/r");
        events.expect(EventType.NodeCreated, root + "/r/a");
        events.expect(EventType.NodeCreated, root + "/r/a/b");
        events.expect(EventType.NodeDataChanged, root + "/r/a/b");
        events.expect(EventType.NodeDeleted, root + "/r/a/b");
        events.expectNoMore(watcher);
    }

    @Test
    void aPersistentRecursiveWatchAndAOneShotWatchShouldBothFireForTheSameChange() throws Exception {
        create(root + "/r");
        Zk.EventRecorder oneShot = new Zk.EventRecorder();
        watcher.addWatch(root + "/r", AddWatchMode.PERSISTENT_RECURSIVE);
        watcher.getData(root + "/r", oneShot, null);
        writer.setData(root + "/r", new byte[] {1}, -1);
        writer.setData(root + "/r", new byte[] {2}, -1);
        oneShot.expect(EventType.NodeDataChanged, root + "/r");
        events.expect(EventType.NodeDataChanged, root + "/r");
        events.expect(EventType.NodeDataChanged, root + "/r");
        oneShot.expectNoMore(watcher);
        events.expectNoMore(watcher);
    }

    @Test
    void removeWatchesForOneWatcherShouldTellItDataWatchRemovedAndStopItsEvents() throws Exception {
        create(root + "/n");
        Zk.EventRecorder removed = new Zk.EventRecorder();
        Zk.EventRecorder kept = new Zk.EventRecorder();
        watcher.getData(root + "/n", removed, null);
        watcher.getData(root + "/n", kept, null);
        // Removing one specific watcher goes to the server as checkWatches followed by the local removal.
        watcher.removeWatches(root + "/n", removed, WatcherType.Data, false);
        removed.expect(EventType.DataWatchRemoved, root + "/n");
        writer.setData(root + "/n", new byte[] {1}, -1);
        kept.expect(EventType.NodeDataChanged, root + "/n");
        removed.expectNoMore(watcher);
        kept.expectNoMore(watcher);
    }

    @Test
    void removeAllWatchesShouldRemoveChildWatchesOnTheServerToo() throws Exception {
        create(root + "/p");
        Zk.EventRecorder children = new Zk.EventRecorder();
        watcher.getChildren(root + "/p", children);
        watcher.removeAllWatches(root + "/p", WatcherType.Children, false);
        children.expect(EventType.ChildWatchRemoved, root + "/p");
        create(root + "/p/c");
        children.expectNoMore(watcher);
    }

    @Test
    void removingAPersistentWatchShouldStopItsEvents() throws Exception {
        create(root + "/p");
        Zk.EventRecorder persistent = new Zk.EventRecorder();
        watcher.addWatch(root + "/p", persistent, AddWatchMode.PERSISTENT_RECURSIVE);
        writer.setData(root + "/p", new byte[] {1}, -1);
        persistent.expect(EventType.NodeDataChanged, root + "/p");
        watcher.removeWatches(root + "/p", persistent, WatcherType.Any, false);
        persistent.expect(EventType.PersistentWatchRemoved, root + "/p");
        writer.setData(root + "/p", new byte[] {2}, -1);
        create(root + "/p/c");
        persistent.expectNoMore(watcher);
    }

    @Test
    void removingAWatchThatDoesNotExistShouldFailWithNoWatcher() throws Exception {
        create(root + "/n");
        Zk.EventRecorder never = new Zk.EventRecorder();
        assertThrows(KeeperException.NoWatcherException.class,
                () -> watcher.removeWatches(root + "/n", never, WatcherType.Data, false));
        assertThrows(KeeperException.NoWatcherException.class,
                () -> watcher.removeAllWatches(root + "/n", WatcherType.Any, false));
    }

    @Test
    void getDataAndGetChildrenOnAMissingNodeShouldFailWithoutLeavingAWatchButExistsShouldLeaveOne() throws Exception {
        Zk.EventRecorder fromGetData = new Zk.EventRecorder();
        Zk.EventRecorder fromGetChildren = new Zk.EventRecorder();
        Zk.EventRecorder fromExists = new Zk.EventRecorder();
        assertThrows(KeeperException.NoNodeException.class, () -> watcher.getData(root + "/missing", fromGetData, null));
        assertThrows(KeeperException.NoNodeException.class, () -> watcher.getChildren(root + "/missing", fromGetChildren));
        watcher.exists(root + "/missing", fromExists);
        create(root + "/missing");
        create(root + "/missing/child");
        fromExists.expect(EventType.NodeCreated, root + "/missing");
        fromExists.expectNoMore(watcher);
        fromGetData.expectNoMore(watcher);
        fromGetChildren.expectNoMore(watcher);
    }

    @Test
    void setAclShouldNotTriggerDataOrChildWatches() throws Exception {
        create(root + "/n");
        watcher.getData(root + "/n", true, null);
        watcher.getChildren(root + "/n", true);
        writer.setACL(root + "/n", Ids.READ_ACL_UNSAFE, -1);
        events.expectNoMore(watcher);
    }

    @Test
    void aWatchSetByGetChildren2ShouldFireLikeGetChildren() throws Exception {
        create(root + "/p");
        org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
        watcher.getChildren(root + "/p", true, stat);
        assertEquals(0, stat.getNumChildren());
        create(root + "/p/c");
        events.expect(EventType.NodeChildrenChanged, root + "/p");
        events.expectNoMore(watcher);
    }

    @Test
    void watchesOfAClosedSessionShouldNotFireAndItsEphemeralsShouldTriggerOthersWatches(ZkTarget target) throws Exception {
        Zk.EventRecorder otherEvents = new Zk.EventRecorder();
        ZooKeeper other = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, otherEvents);
        other.create(root + "/eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        watcher.exists(root + "/eph", true);
        watcher.getChildren(root, true);
        other.close();
        events.expect(EventType.NodeDeleted, root + "/eph");
        events.expect(EventType.NodeChildrenChanged, root);
        events.expectNoMore(watcher);
    }
}
