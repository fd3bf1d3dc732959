package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Curator 5.9 with an {@link ACLProvider} and {@code authorization("digest", ...)}: the nodes it creates, parents made
 * by creatingParentsIfNeeded included, carry the provider's ACL for their path, and a client without the digest gets
 * NoAuth where the ACL gives it nothing, on both targets.
 */
@ExtendWith(ZkTargetExtension.class)
class CuratorAclCompatTest {
    private static final String ROOT = "/curator-acl";
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ZkTarget target;
    private List<ACL> aliceOnly;
    private List<ACL> aliceAndWorldRead;

    @BeforeEach
    void remember(ZkTarget started) throws Exception {
        target = started;
        Id alice = new Id("digest", DigestAuthenticationProvider.generateDigest("alice:alice-secret"));
        // Mutable lists: Apache's client checks an ACL with contains(null), which List.of refuses.
        aliceOnly = new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, alice)));
        aliceAndWorldRead = new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, alice),
                new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));
    }

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    /** Alice's own nodes by default; anything under a "public" node readable by all. */
    private final ACLProvider provider = new ACLProvider() {
        @Override
        public List<ACL> getDefaultAcl() {
            return aliceOnly;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return path.contains("/public") ? aliceAndWorldRead : aliceOnly;
        }
    };

    private CuratorFramework client(boolean asAlice) throws InterruptedException {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(target.connectString())
                .sessionTimeoutMs(Zk.SESSION_TIMEOUT_MS)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3));
        if (asAlice) {
            builder.aclProvider(provider).authorization("digest", "alice:alice-secret".getBytes(StandardCharsets.UTF_8));
        }
        CuratorFramework client = builder.build();
        client.start();
        assertTrue(client.blockUntilConnected((int) Zk.WAIT_SECONDS, TimeUnit.SECONDS), "Curator connected");
        toClose.add(client);
        return client;
    }

    @Test
    void shouldCreateNodesAndTheirParentsWithTheProvidersAcl() throws Exception {
        CuratorFramework alice = client(true);
        String leaf = ROOT + "/private/a/b";
        alice.create().creatingParentsIfNeeded().forPath(leaf, "secret".getBytes(StandardCharsets.UTF_8));
        for (String path : List.of(ROOT, ROOT + "/private", ROOT + "/private/a", leaf)) {
            assertEquals(aliceOnly, alice.getACL().forPath(path), path);
        }
        alice.create().creatingParentsIfNeeded().forPath(ROOT + "/public/c", "open".getBytes(StandardCharsets.UTF_8));
        assertEquals(aliceAndWorldRead, alice.getACL().forPath(ROOT + "/public"));
        assertEquals(aliceAndWorldRead, alice.getACL().forPath(ROOT + "/public/c"));

        CuratorFramework anonymous = client(false);
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getData().forPath(leaf));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getChildren().forPath(ROOT));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getACL().forPath(leaf));
        assertArrayEquals("open".getBytes(StandardCharsets.UTF_8), anonymous.getData().forPath(ROOT + "/public/c"));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.setData().forPath(ROOT + "/public/c", new byte[0]));
        assertThrows(KeeperException.NoAuthException.class,
                () -> anonymous.create().forPath(ROOT + "/public/c/intruder"));
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.delete().forPath(ROOT + "/public/c"));
        assertArrayEquals("secret".getBytes(StandardCharsets.UTF_8), alice.getData().forPath(leaf));
        alice.delete().deletingChildrenIfNeeded().forPath(ROOT);
    }

    @Test
    void shouldApplyAnExplicitAclToParentsWhenAsked() throws Exception {
        CuratorFramework alice = client(true);
        String leaf = ROOT + "-explicit/x/y";
        alice.create().creatingParentsIfNeeded().withACL(aliceAndWorldRead, true).forPath(leaf);
        for (String path : List.of(ROOT + "-explicit", ROOT + "-explicit/x", leaf)) {
            assertEquals(aliceAndWorldRead, alice.getACL().forPath(path), path);
        }
        alice.setACL().withACL(aliceOnly).forPath(leaf);
        CuratorFramework anonymous = client(false);
        assertThrows(KeeperException.NoAuthException.class, () -> anonymous.getData().forPath(leaf));
        assertEquals(0, anonymous.getData().forPath(ROOT + "-explicit/x").length, "the parent stays world-readable");
        alice.delete().deletingChildrenIfNeeded().forPath(ROOT + "-explicit");
    }
}
