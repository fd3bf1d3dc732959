package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/** ACL schemes world, auth, digest, ip and the super digest user, with NoAuth/InvalidACL exactly where Apache gives them. */
@ExtendWith(ZkTargetExtension.class)
class ZkAclCompatTest {
    private static ZkTarget target;
    private static ZooKeeper anonymous;
    private static ZooKeeper alice;

    @BeforeAll
    static void connect(ZkTarget started) throws Exception {
        target = started;
        anonymous = Zk.connect(target.connectString());
        alice = Zk.connect(target.connectString());
        alice.addAuthInfo("digest", Zk.utf8("alice:alice-password"));
    }

    @AfterAll
    static void close() throws Exception {
        anonymous.close();
        alice.close();
    }

    private static String root(TestInfo info) throws Exception {
        return Zk.testRoot(anonymous, "acl-", info, null);
    }

    /** A mutable list: the client's ACL check calls contains(null), which immutable List.of lists reject. */
    private static List<ACL> acl(ACL... entries) {
        return new ArrayList<>(Arrays.asList(entries));
    }

    private static String digestOf(String userAndPassword) throws Exception {
        return DigestAuthenticationProvider.generateDigest(userAndPassword);
    }

    @Test
    void creatorAllAclShouldBeStoredAsTheCreatorsDigestAndDenyOthers(TestInfo info) throws Exception {
        String root = root(info);
        alice.create(root + "/private", Zk.utf8("secret"), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);

        Stat stat = new Stat();
        List<ACL> acl = alice.getACL(root + "/private", stat);
        assertEquals(acl(new ACL(Perms.ALL, new Id("digest", digestOf("alice:alice-password")))), acl);
        assertEquals(0, stat.getAversion());
        // getACL needs READ or ADMIN.
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getACL(root + "/private", null));

        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getData(root + "/private", false, null));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.setData(root + "/private", null, -1));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getChildren(root + "/private", false));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.create(root + "/private/child", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        // Apache 3.9 checks READ on exists too.
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.exists(root + "/private", false));
        assertNotNull(alice.exists(root + "/private", false));
        assertArrayEquals(Zk.utf8("secret"), alice.getData(root + "/private", false, null));

        try (ZooKeeper aliceAgain = Zk.connect(target.connectString())) {
            aliceAgain.addAuthInfo("digest", Zk.utf8("alice:alice-password"));
            assertArrayEquals(Zk.utf8("secret"), aliceAgain.getData(root + "/private", false, null));
        }
        try (ZooKeeper wrongPassword = Zk.connect(target.connectString())) {
            wrongPassword.addAuthInfo("digest", Zk.utf8("alice:wrong"));
            assertThrows(KeeperException.NoAuthException.class, () -> wrongPassword.getData(root + "/private", false, null));
        }
    }

    @Test
    void creatorAllAclWithoutAnyAuthenticatedIdentityShouldBeInvalid(TestInfo info) throws Exception {
        String root = root(info);
        assertThrows(KeeperException.InvalidACLException.class,
                () -> anonymous.create(root + "/x", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
    }

    @Test
    void deleteShouldNeedDeletePermissionOnTheParentNotOnTheNode(TestInfo info) throws Exception {
        String root = root(info);
        anonymous.create(root + "/p", null, acl(new ACL(Perms.ALL & ~Perms.DELETE, Ids.ANYONE_ID_UNSAFE)), CreateMode.PERSISTENT);
        anonymous.create(root + "/p/locked", null, acl(new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE)), CreateMode.PERSISTENT);
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.delete(root + "/p/locked", -1));
        anonymous.setACL(root + "/p", Ids.OPEN_ACL_UNSAFE, -1);
        anonymous.delete(root + "/p/locked", -1);
    }

    @Test
    void readOnlyWorldAclShouldAllowReadsAndDenyWrites(TestInfo info) throws Exception {
        String root = root(info);
        anonymous.create(root + "/ro", Zk.utf8("v"), Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertArrayEquals(Zk.utf8("v"), anonymous.getData(root + "/ro", false, null));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.setData(root + "/ro", null, -1));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.setACL(root + "/ro", Ids.OPEN_ACL_UNSAFE, -1));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.create(root + "/ro/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
    }

    @Test
    void ipAclShouldMatchTheClientAddressAndSubnets(TestInfo info) throws Exception {
        String root = root(info);
        anonymous.create(root + "/local", Zk.utf8("l"), acl(new ACL(Perms.READ, new Id("ip", "127.0.0.1"))), CreateMode.PERSISTENT);
        anonymous.create(root + "/subnet", Zk.utf8("s"), acl(new ACL(Perms.READ, new Id("ip", "127.0.0.0/8"))), CreateMode.PERSISTENT);
        anonymous.create(root + "/elsewhere", Zk.utf8("e"), acl(new ACL(Perms.READ, new Id("ip", "10.1.2.3"))), CreateMode.PERSISTENT);
        assertArrayEquals(Zk.utf8("l"), anonymous.getData(root + "/local", false, null));
        assertArrayEquals(Zk.utf8("s"), anonymous.getData(root + "/subnet", false, null));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getData(root + "/elsewhere", false, null));
        assertThrows(KeeperException.InvalidACLException.class, () -> anonymous.create(root + "/bad-ip", null,
                acl(new ACL(Perms.READ, new Id("ip", "not-an-address"))), CreateMode.PERSISTENT));
    }

    @Test
    void explicitDigestAclShouldGrantExactlyItsPermissions(TestInfo info) throws Exception {
        String root = root(info);
        List<ACL> acl = acl(
                new ACL(Perms.READ | Perms.WRITE, new Id("digest", digestOf("alice:alice-password"))),
                new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE));
        anonymous.create(root + "/shared", Zk.utf8("0"), acl, CreateMode.PERSISTENT);
        // A reader without ADMIN gets the digest with its hash redacted to "x".
        assertEquals(acl(new ACL(Perms.READ | Perms.WRITE, new Id("digest", "alice:x")), new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE)),
                anonymous.getACL(root + "/shared", null));
        assertArrayEquals(Zk.utf8("0"), anonymous.getData(root + "/shared", false, null));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.setData(root + "/shared", Zk.utf8("1"), -1));
        alice.setData(root + "/shared", Zk.utf8("1"), -1);
        assertThrows(KeeperException.NoAuthException.class, () -> alice.setACL(root + "/shared", Ids.OPEN_ACL_UNSAFE, -1));
    }

    @Test
    void authSchemeAclShouldExpandToEveryDigestIdentityOfTheSession(TestInfo info) throws Exception {
        String root = root(info);
        alice.create(root + "/mine", null, acl(new ACL(Perms.ALL, new Id("auth", ""))), CreateMode.PERSISTENT);
        assertEquals(acl(new ACL(Perms.ALL, new Id("digest", digestOf("alice:alice-password")))),
                alice.getACL(root + "/mine", null));
    }

    @Test
    void setAclShouldCheckTheAclVersionAndBumpOnlyAversion(TestInfo info) throws Exception {
        String root = root(info);
        Stat created = new Stat();
        anonymous.create(root + "/n", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, created);
        assertThrows(KeeperException.BadVersionException.class, () -> anonymous.setACL(root + "/n", Ids.READ_ACL_UNSAFE, 3));
        Stat set = anonymous.setACL(root + "/n", Ids.READ_ACL_UNSAFE, 0);
        assertEquals(1, set.getAversion());
        assertEquals(0, set.getVersion());
        assertEquals(created.getMzxid(), set.getMzxid());
        assertEquals(created.getCzxid(), set.getCzxid());
        assertEquals(set, anonymous.exists(root + "/n", false));
        assertEquals(Ids.READ_ACL_UNSAFE, anonymous.getACL(root + "/n", null));
        assertThrows(KeeperException.NoNodeException.class, () -> anonymous.setACL(root + "/none", Ids.READ_ACL_UNSAFE, -1));
        assertThrows(KeeperException.NoNodeException.class, () -> anonymous.getACL(root + "/none", null));
        assertThrows(KeeperException.InvalidACLException.class, () -> anonymous.setACL(root + "/n", List.of(), -1));
    }

    @Test
    void theSuperDigestUserShouldBypassEveryAcl(TestInfo info) throws Exception {
        String root = root(info);
        alice.create(root + "/private", Zk.utf8("secret"), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        try (ZooKeeper superUser = Zk.connect(target.connectString())) {
            superUser.addAuthInfo("digest", Zk.utf8(ZkTarget.SUPER_USER + ":" + ZkTarget.SUPER_PASSWORD));
            assertArrayEquals(Zk.utf8("secret"), superUser.getData(root + "/private", false, null));
            superUser.setData(root + "/private", Zk.utf8("changed"), -1);
            superUser.delete(root + "/private", -1);
        }
    }

    @Test
    void whoAmIShouldListTheIpAndDigestIdentitiesOfAnAuthenticatedSession() throws Exception {
        List<ClientInfo> identities = alice.whoAmI().stream()
                .sorted(Comparator.comparing(ClientInfo::getAuthScheme)).toList();
        assertEquals(2, identities.size());
        assertEquals("digest", identities.get(0).getAuthScheme());
        assertEquals("alice", identities.get(0).getUser());
        assertEquals("ip", identities.get(1).getAuthScheme());
        assertEquals("127.0.0.1", identities.get(1).getUser());
    }

    @Test
    void anUnknownAuthSchemeShouldFailAuthentication() throws Exception {
        Zk.EventRecorder events = new Zk.EventRecorder();
        ZooKeeper bad = Zk.connect(target.connectString(), Zk.SESSION_TIMEOUT_MS, events);
        try {
            bad.addAuthInfo("no-such-scheme", Zk.utf8("whatever"));
            events.awaitState(org.apache.zookeeper.Watcher.Event.KeeperState.AuthFailed);
            assertThrows(KeeperException.AuthFailedException.class, () -> bad.getData("/", false, null));
        } finally {
            bad.close();
        }
    }
}
