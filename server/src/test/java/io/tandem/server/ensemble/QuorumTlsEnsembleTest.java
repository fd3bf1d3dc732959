package io.tandem.server.ensemble;

import io.tandem.server.zab.QuorumCertificates;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Three in-process members with Apache's sslQuorum=true and ssl.quorum.* key and trust stores form an ensemble over
 * mutual TLS and serve a write through a follower; a member whose certificate the others do not trust never joins.
 */
class QuorumTlsEnsembleTest {
    @TempDir
    Path dir;
    private TestEnsemble ensemble;

    @AfterEach
    void stop() {
        if (ensemble != null) ensemble.close();
    }

    @Test
    void shouldFormOverMutualTlsAndKeepAMemberWithAnUntrustedCertificateOut() throws Exception {
        QuorumCertificates certificates = QuorumCertificates.create(dir);
        ensemble = new TestEnsemble(dir);
        ensemble.extraSettings.putAll(certificates.settings(certificates.member));
        ensemble.memberSettings.put(3, java.util.Map.of("ssl.quorum.keyStore.location", certificates.untrusted.toString()));
        ensemble.startAll();
        long deadline = System.currentTimeMillis() + 30_000;
        while (!(serving(ensemble.mode(1)) && serving(ensemble.mode(2)))) {
            assertTrue(System.currentTimeMillis() < deadline, "members 1 and 2 form a quorum over TLS: "
                    + ensemble.mode(1) + " " + ensemble.mode(2));
            Thread.sleep(50);
        }
        int follower = ensemble.mode(1).equals("follower") ? 1 : 2;
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(follower), 10_000, null)) {
            zk.create("/over-tls", "v".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
        }
        try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(3 - follower), 10_000, null)) {
            zk.sync("/", (rc, path, ctx) -> { }, null);
            assertNotNull(zk.exists("/over-tls", false), "the leader committed the follower's forwarded write");
        }
        Thread.sleep(2_000);
        assertFalse(serving(ensemble.mode(3)), "the member with the untrusted certificate joined: " + ensemble.mode(3));
    }

    private static boolean serving(String mode) {
        return mode.equals("leader") || mode.equals("follower");
    }
}
