package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of watch with the official client: one-shot, persistent, persistent-recursive, removal. */
class ZooKeeperWatchTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static ZooKeeper zk;
    static ZooKeeper other;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        zk = ZkTestSupport.connect(tandem.zookeeperConnect());
        other = ZkTestSupport.connect(tandem.zookeeperConnect());
    }

    @AfterAll
    static void stop() throws Exception {
        zk.close();
        other.close();
        tandem.close();
    }

    private static void create(String path) throws Exception {
        other.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private static void assertEvent(WatchedEvent event, EventType type, String path) {
        assertEquals(type, event.getType(), event.toString());
        assertEquals(path, event.getPath(), event.toString());
    }

    @Test
    void shouldFireOneShotDataChildAndExistWatchesOnce() throws Exception {
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        assertNull(zk.exists("/w1", events));
        create("/w1");
        assertEvent(events.next(), EventType.NodeCreated, "/w1");
        zk.getData("/w1", events, null);
        zk.getChildren("/w1", events);
        create("/w1/c");
        assertEvent(events.next(), EventType.NodeChildrenChanged, "/w1");
        other.setData("/w1", new byte[] {1}, -1);
        WatchedEvent changed = events.next();
        assertEvent(changed, EventType.NodeDataChanged, "/w1");
        assertTrue(changed.getZxid() > 0, "3.9 events carry the zxid that caused them");
        other.setData("/w1", new byte[] {2}, -1);
        assertNull(events.poll(300), "one-shot watches fire once");
    }

    @Test
    void shouldFireDeletedForDataAndChildWatchesOnce() throws Exception {
        create("/w2");
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        zk.getData("/w2", events, null);
        zk.getChildren("/w2", events);
        other.delete("/w2", -1);
        assertEvent(events.next(), EventType.NodeDeleted, "/w2");
        assertNull(events.poll(300), "the same watcher object gets one NodeDeleted");
    }

    @Test
    void shouldKeepPersistentWatchAfterFiring() throws Exception {
        create("/p");
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        zk.addWatch("/p", events, AddWatchMode.PERSISTENT);
        other.setData("/p", new byte[] {1}, -1);
        assertEvent(events.next(), EventType.NodeDataChanged, "/p");
        create("/p/child");
        assertEvent(events.next(), EventType.NodeChildrenChanged, "/p");
        other.setData("/p", new byte[] {2}, -1);
        assertEvent(events.next(), EventType.NodeDataChanged, "/p");
        other.setData("/p/child", new byte[] {2}, -1);
        assertNull(events.poll(300), "a plain persistent watch does not see grandchildren");
        zk.removeWatches("/p", events, Watcher.WatcherType.Any, false);
        assertEvent(events.next(), EventType.PersistentWatchRemoved, "/p");
        other.setData("/p", new byte[] {3}, -1);
        assertNull(events.poll(300));
    }

    @Test
    void shouldReportChangedPathToRecursiveWatch() throws Exception {
        create("/r");
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        zk.addWatch("/r", events, AddWatchMode.PERSISTENT_RECURSIVE);
        create("/r/a");
        assertEvent(events.next(), EventType.NodeCreated, "/r/a");
        create("/r/a/b");
        assertEvent(events.next(), EventType.NodeCreated, "/r/a/b");
        other.setData("/r/a/b", new byte[] {1}, -1);
        assertEvent(events.next(), EventType.NodeDataChanged, "/r/a/b");
        other.delete("/r/a/b", -1);
        assertEvent(events.next(), EventType.NodeDeleted, "/r/a/b");
        assertNull(events.poll(300), "recursive watches never see NodeChildrenChanged");
    }

    @Test
    void shouldNotDeliverEventsForNodesTheWatcherCannotRead() throws Exception {
        create("/guarded");
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        zk.addWatch("/guarded", events, AddWatchMode.PERSISTENT_RECURSIVE);
        other.addAuthInfo("digest", "owner:pw".getBytes());
        other.create("/guarded/private", null, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        other.setData("/guarded/private", new byte[] {1}, -1);
        create("/guarded/public");
        WatchedEvent event = events.nextNodeEvent();
        assertEquals("/guarded/public", event.getPath(), "events of the unreadable node are filtered out");
    }

    @Test
    void shouldRemoveAndCheckWatches() throws Exception {
        create("/rm");
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        zk.getData("/rm", events, null);
        zk.removeWatches("/rm", events, Watcher.WatcherType.Data, false);
        assertEvent(events.next(), EventType.DataWatchRemoved, "/rm");
        other.setData("/rm", new byte[] {1}, -1);
        assertNull(events.poll(300));
        assertThrows(KeeperException.NoWatcherException.class,
                () -> zk.removeWatches("/rm", events, Watcher.WatcherType.Children, false));
    }
}
