package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The official ZooKeeper 3.9 Java client against an embedded Tandem: basic operations and Stat bookkeeping. */
class ZooKeeperClientTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static ZooKeeper zk;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        zk = ZkTestSupport.connect(tandem.zookeeperConnect());
    }

    @AfterAll
    static void stop() throws Exception {
        if (zk != null) {
            zk.close();
        }
        if (tandem != null) {
            tandem.close();
        }
    }

    @Test
    void shouldCreateReadUpdateAndDeleteNode() throws Exception {
        String path = zk.create("/crud", "v1".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        assertEquals("/crud", path);
        Stat stat = new Stat();
        assertArrayEquals("v1".getBytes(StandardCharsets.UTF_8), zk.getData("/crud", false, stat));
        assertEquals(0, stat.getVersion());
        assertEquals(stat.getCzxid(), stat.getMzxid());
        assertEquals(stat.getCzxid(), stat.getPzxid());
        assertEquals(2, stat.getDataLength());
        Stat updated = zk.setData("/crud", "v2".getBytes(StandardCharsets.UTF_8), 0);
        assertEquals(1, updated.getVersion());
        assertTrue(updated.getMzxid() > stat.getMzxid());
        assertThrows(KeeperException.BadVersionException.class, () -> zk.setData("/crud", new byte[0], 0));
        assertThrows(KeeperException.BadVersionException.class, () -> zk.delete("/crud", 5));
        zk.delete("/crud", 1);
        assertNull(zk.exists("/crud", false));
        assertThrows(KeeperException.NoNodeException.class, () -> zk.getData("/crud", false, null));
    }

    @Test
    void shouldTrackChildVersionAndPzxidLikeApache() throws Exception {
        zk.create("/parent", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat created = new Stat();
        zk.create("/parent/a", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, created);
        Stat parent = zk.exists("/parent", false);
        assertEquals(1, parent.getCversion());
        assertEquals(1, parent.getNumChildren());
        assertEquals(created.getCzxid(), parent.getPzxid());
        zk.delete("/parent/a", -1);
        parent = zk.exists("/parent", false);
        assertEquals(2, parent.getCversion(), "a delete counts as a child change");
        assertEquals(0, parent.getNumChildren());
        assertTrue(parent.getPzxid() > created.getCzxid());
        String sequential = zk.create("/parent/s-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
        assertEquals("/parent/s-0000000001", sequential, "the sequence counts creations only");
    }

    @Test
    void shouldRejectBadRequestsWithApacheErrorCodes() throws Exception {
        assertThrows(KeeperException.NoNodeException.class,
                () -> zk.create("/missing/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        zk.create("/exists", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertThrows(KeeperException.NodeExistsException.class,
                () -> zk.create("/exists", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        zk.create("/exists/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertThrows(KeeperException.NotEmptyException.class, () -> zk.delete("/exists", -1));
        zk.create("/eph", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        assertThrows(KeeperException.NoChildrenForEphemeralsException.class,
                () -> zk.create("/eph/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        assertThrows(KeeperException.BadArgumentsException.class, () -> zk.delete("/zookeeper", -1));
        assertThrows(KeeperException.InvalidACLException.class,
                () -> zk.create("/bad-acl", null, List.of(), CreateMode.PERSISTENT));
        try (org.apache.zookeeper.admin.ZooKeeperAdmin admin =
                     new org.apache.zookeeper.admin.ZooKeeperAdmin(tandem.zookeeperConnect(), 30_000, event -> { })) {
            assertThrows(KeeperException.ReconfigDisabledException.class,
                    () -> admin.reconfigure(null, null, "server.1=127.0.0.1:1:2", -1, null));
        }
    }

    @Test
    void shouldListChildrenAndCountDescendants() throws Exception {
        zk.create("/list", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/list/x", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/list/y", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/list/y/z", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat stat = new Stat();
        List<String> children = zk.getChildren("/list", false, stat);
        assertEquals(List.of("x", "y"), children.stream().sorted().toList());
        assertEquals(2, stat.getNumChildren());
        assertEquals(3, zk.getAllChildrenNumber("/list"));
        assertTrue(zk.getChildren("/", false).contains("zookeeper"));
        assertNotNull(zk.exists("/zookeeper/config", false));
    }

    @Test
    void shouldListOwnEphemeralsAndAnswerWhoAmI() throws Exception {
        zk.create("/ephs", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/ephs/e1", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.create("/ephs/e2", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        assertEquals(List.of("/ephs/e1", "/ephs/e2"), zk.getEphemerals("/ephs").stream().sorted().toList());
        assertEquals(zk.getSessionId(), zk.exists("/ephs/e1", false).getEphemeralOwner());
        assertEquals("ip", zk.whoAmI().get(0).getAuthScheme());
        zk.sync("/ephs");
    }
}
