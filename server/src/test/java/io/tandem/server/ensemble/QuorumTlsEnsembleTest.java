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
 * mutual TLS and serve a write through a follower; a member whose certificate the others do not trust never joins; a
 * member removed by reconfig follows on as a non-voter and, added back, votes again over TLS without a restart.
 */
class QuorumTlsEnsembleTest {
    @TempDir
    Path dir;
    private TestEnsemble ensemble;
    private ReconfigFixture fixture;

    @AfterEach
    void stop() throws InterruptedException {
        if (fixture != null) fixture.close();
        else if (ensemble != null) ensemble.close();
    }

    @Test
    void aRemovedMemberAddedBackRejoinsOverMutualTls() throws Exception {
        QuorumCertificates certificates = QuorumCertificates.create(dir);
        ensemble = new TestEnsemble(dir);
        ensemble.extraSettings.putAll(certificates.settings(certificates.member));
        ensemble.extraSettings.put("4lw.commands.whitelist", "srvr");
        fixture = new ReconfigFixture(ensemble);
        // Members 1 and 2 first, so that the member removed (3) has the highest id: no member dials it (the higher id
        // dials), so it must ask to be let back in itself, over connections it dials while no configuration names it.
        ensemble.start(1);
        ensemble.start(2);
        int leader = ensemble.awaitServing(30_000);
        int removedId = 3;
        ensemble.start(removedId);
        long joined = System.currentTimeMillis() + 20_000;
        while (!ensemble.mode(removedId).equals("follower")) {
            assertTrue(System.currentTimeMillis() < joined, "member 3 joins: " + ensemble.mode(removedId));
            Thread.sleep(50);
        }
        org.apache.zookeeper.admin.ZooKeeperAdmin admin = fixture.superAdmin(leader);
        String removed = ReconfigFixture.text(admin.reconfigure((String) null, Integer.toString(removedId), null, -1,
                null));
        assertFalse(removed.contains("server." + removedId + "="), removed);
        // Apache's removed member follows on as a non-voting participant: over TLS too.
        ZooKeeper viaLeader = fixture.client(leader);
        viaLeader.create("/while-removed", "missed".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        ZooKeeper viaRemoved = fixture.client(removedId);
        viaRemoved.sync("/while-removed", (rc, path, ctx) -> { }, null);
        assertEquals("missed", ReconfigFixture.text(viaRemoved.getData("/while-removed", false, null)),
                "the removed member serves what was written after its removal");
        assertEquals("follower", ensemble.mode(removedId));
        long deadline;

        String line = "server." + removedId + "=" + ensemble.serverLine(removedId) + ":participant;127.0.0.1:"
                + ensemble.clientPort(removedId);
        String readded = ReconfigFixture.text(admin.reconfigure(line, null, null, -1, null));
        assertTrue(readded.contains(line + "\n"), readded);
        deadline = System.currentTimeMillis() + 30_000;
        while (!ensemble.mode(removedId).equals("follower")) {
            assertTrue(System.currentTimeMillis() < deadline, "the member added back follows the leader again over"
                    + " TLS: " + ensemble.mode(removedId));
            Thread.sleep(100);
        }
        ZooKeeper viaRejoined = fixture.client(removedId);
        viaRejoined.sync("/while-removed", (rc, path, ctx) -> { }, null);
        assertEquals("missed", ReconfigFixture.text(viaRejoined.getData("/while-removed", false, null)),
                "it synced what was written while it was out");
        viaRejoined.create("/through-the-rejoined-member", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
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
