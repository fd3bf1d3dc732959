package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** multi, multiRead and ACLs (world, auth, digest, ip, super) with the official client. */
class ZooKeeperMultiAndAclTest {
    @TempDir
    static Path dir;
    static Tandem tandem;
    static ZooKeeper zk;
    static final String SUPER_PASSWORD = "super:secret";

    @BeforeAll
    static void start() throws Exception {
        String superDigest = DigestAuthenticationProvider.generateDigest(SUPER_PASSWORD);
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("zookeeper.DigestAuthenticationProvider.superDigest", superDigest));
        zk = ZkTestSupport.connect(tandem.zookeeperConnect());
    }

    @AfterAll
    static void stop() throws Exception {
        zk.close();
        tandem.close();
    }

    @Test
    void shouldApplyAllOpsOfASuccessfulMulti() throws Exception {
        zk.create("/m", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> results = zk.multi(List.of(
                Op.create("/m/a", new byte[] {1}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create("/m/b", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
                Op.setData("/m/a", new byte[] {2}, 0),
                Op.check("/m/a", 1),
                Op.delete("/m/a", 1)));
        assertEquals("/m/a", ((OpResult.CreateResult) results.get(0)).getPath());
        assertEquals("/m/b0000000001", ((OpResult.CreateResult) results.get(1)).getPath());
        assertEquals(1, ((OpResult.SetDataResult) results.get(2)).getStat().getVersion());
        assertInstanceOf(OpResult.CheckResult.class, results.get(3));
        assertInstanceOf(OpResult.DeleteResult.class, results.get(4));
        assertNull(zk.exists("/m/a", false));
        Stat parent = zk.exists("/m", false);
        assertEquals(3, parent.getCversion(), "two creations and one deletion");
    }

    @Test
    void shouldRollBackAFailedMultiAndReportEachOp() throws Exception {
        zk.create("/f", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat before = zk.exists("/f", false);
        KeeperException failure = assertThrows(KeeperException.class, () -> zk.multi(List.of(
                Op.create("/f/a", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.check("/f", 7),
                Op.create("/f/b", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))));
        assertEquals(KeeperException.Code.BADVERSION, failure.code());
        List<OpResult> results = failure.getResults();
        assertEquals(0, ((OpResult.ErrorResult) results.get(0)).getErr(), "ops before the failure report Ok");
        assertEquals(KeeperException.Code.BADVERSION.intValue(), ((OpResult.ErrorResult) results.get(1)).getErr());
        assertEquals(KeeperException.Code.RUNTIMEINCONSISTENCY.intValue(),
                ((OpResult.ErrorResult) results.get(2)).getErr());
        assertNull(zk.exists("/f/a", false));
        Stat after = zk.exists("/f", false);
        assertEquals(before.getCversion(), after.getCversion());
        assertEquals(before.getPzxid(), after.getPzxid());
    }

    @Test
    void shouldReadSeveralNodesInOneMultiRead() throws Exception {
        zk.create("/mr", "x".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/mr/c", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> results = zk.multi(List.of(Op.getData("/mr"), Op.getChildren("/mr"), Op.getData("/nope")));
        assertArrayEquals("x".getBytes(StandardCharsets.UTF_8), ((OpResult.GetDataResult) results.get(0)).getData());
        assertEquals(List.of("c"), ((OpResult.GetChildrenResult) results.get(1)).getChildren());
        assertEquals(KeeperException.Code.NONODE.intValue(), ((OpResult.ErrorResult) results.get(2)).getErr());
    }

    @Test
    void shouldEnforceDigestAclsAndMaskThemWithoutAdmin() throws Exception {
        try (ZooKeeper alice = ZkTestSupport.connect(tandem.zookeeperConnect());
             ZooKeeper stranger = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            alice.addAuthInfo("digest", "alice:pw".getBytes(StandardCharsets.UTF_8));
            alice.create("/secret", "s".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.CREATOR_ALL_ACL,
                    CreateMode.PERSISTENT);
            List<ACL> acl = alice.getACL("/secret", new Stat());
            assertEquals(new Id("digest", DigestAuthenticationProvider.generateDigest("alice:pw")), acl.get(0).getId());
            assertThrows(KeeperException.NoAuthException.class, () -> stranger.getData("/secret", false, null));
            assertThrows(KeeperException.NoAuthException.class, () -> stranger.setData("/secret", new byte[0], -1));
            stranger.addAuthInfo("digest", "alice:pw".getBytes(StandardCharsets.UTF_8));
            assertArrayEquals("s".getBytes(StandardCharsets.UTF_8), stranger.getData("/secret", false, null));
            assertTrue(alice.whoAmI().stream().anyMatch(c -> c.getAuthScheme().equals("digest")
                    && c.getUser().equals("alice")));
        }
        try (ZooKeeper reader = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            zk.create("/readable", null, new java.util.ArrayList<>(List.of(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE),
                    new ACL(ZooDefs.Perms.ALL, new Id("digest", "bob:hash")))), CreateMode.PERSISTENT);
            List<ACL> masked = reader.getACL("/readable", new Stat());
            assertEquals("bob:x", masked.get(1).getId().getId());
        }
    }

    @Test
    void shouldRejectAuthAclWithoutAuthenticationAndBumpAversion() throws Exception {
        assertThrows(KeeperException.InvalidACLException.class,
                () -> zk.create("/auth-acl", null, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        assertThrows(KeeperException.InvalidACLException.class, () -> zk.create("/bad-scheme", null,
                new java.util.ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("nosuch", "x")))), CreateMode.PERSISTENT));
        zk.create("/acl", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat stat = zk.setACL("/acl", ZooDefs.Ids.OPEN_ACL_UNSAFE, 0);
        assertEquals(1, stat.getAversion());
        assertThrows(KeeperException.BadVersionException.class, () -> zk.setACL("/acl", ZooDefs.Ids.OPEN_ACL_UNSAFE, 0));
        assertEquals(2, zk.setACL("/acl", ZooDefs.Ids.READ_ACL_UNSAFE, 1).getAversion());
        assertThrows(KeeperException.NoAuthException.class, () -> zk.setData("/acl", new byte[0], -1));
        assertThrows(KeeperException.NoAuthException.class, () -> zk.setACL("/acl", ZooDefs.Ids.OPEN_ACL_UNSAFE, 0),
                "the ADMIN check comes before the version check");
    }

    @Test
    void shouldGrantByIpAclAndLetSuperUserThrough() throws Exception {
        zk.create("/ip", null, new java.util.ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("ip", "127.0.0.0/8")))), CreateMode.PERSISTENT);
        zk.setData("/ip", new byte[] {1}, -1);
        zk.create("/locked", null, new java.util.ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, new Id("ip", "10.1.2.3")))), CreateMode.PERSISTENT);
        assertThrows(KeeperException.NoAuthException.class, () -> zk.getData("/locked", false, null));
        try (ZooKeeper admin = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            admin.addAuthInfo("digest", SUPER_PASSWORD.getBytes(StandardCharsets.UTF_8));
            admin.setData("/locked", new byte[] {1}, -1);
            assertEquals(1, admin.exists("/locked", false).getVersion());
        }
    }
}
