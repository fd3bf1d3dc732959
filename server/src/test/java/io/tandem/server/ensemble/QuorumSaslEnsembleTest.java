package io.tandem.server.ensemble;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Three in-process members whose quorum port requires DIGEST-MD5 authentication, configured as Apache's
 * (quorum.auth.enableSasl, learnerRequireSasl, serverRequireSasl, QuorumServer / QuorumLearner JAAS sections): they
 * form an ensemble and serve writes through followers. A member whose credentials are wrong never joins, so even a
 * client of it authenticated as the super user cannot get a write to the ensemble.
 */
class QuorumSaslEnsembleTest {
    private static final String SUPER_PASSWORD = "super-secret";
    @TempDir
    Path dir;
    private SaslQuorumEnsemble quorum;
    private TestEnsemble ensemble;

    @BeforeEach
    void configure() throws Exception {
        quorum = SaslQuorumEnsemble.create(dir, """
                QuorumServer {
                    org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="zk-quorum-secret";
                };
                QuorumLearner {
                    org.apache.zookeeper.server.auth.DigestLoginModule required username="zk" password="zk-quorum-secret";
                };
                RogueServer {
                    org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="guessed";
                };
                RogueLearner {
                    org.apache.zookeeper.server.auth.DigestLoginModule required username="zk" password="guessed";
                };
                """);
        ensemble = quorum.ensemble;
        byte[] digest = MessageDigest.getInstance("SHA-1").digest(("super:" + SUPER_PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        ensemble.extraSettings.put("DigestAuthenticationProvider.superDigest",
                "super:" + Base64.getEncoder().encodeToString(digest));
    }

    @AfterEach
    void stop() {
        if (quorum != null) quorum.close();
    }

    @Test
    void shouldFormAndServeWhenEveryMemberAuthenticates() throws Exception {
        ensemble.startAll();
        ensemble.assertForwardedWriteReachesEveryMember("/through-follower");
    }

    @Test
    void shouldKeepAMemberWithWrongCredentialsOutEvenForASuperUsersWrite() throws Exception {
        quorum.startWithMemberThreeLoggingInAs("RogueLearner", "RogueServer");
        quorum.assertMemberThreeStaysOut();
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper rogueClient = new ZooKeeper(ensemble.connect(3), 5_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        try {
            rogueClient.addAuthInfo("digest", ("super:" + SUPER_PASSWORD).getBytes(StandardCharsets.UTF_8));
            if (connected.await(5, TimeUnit.SECONDS)) {
                assertThrows(KeeperException.class, () -> rogueClient.create("/rogue", new byte[0],
                        ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            }
        } finally {
            rogueClient.close();
        }
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(1), 10_000, null)) {
            zk.sync("/", (rc, path, ctx) -> { }, null);
            assertNull(zk.exists("/rogue", false), "nothing the rogue's client asked for reached the ensemble");
        }
    }
}
