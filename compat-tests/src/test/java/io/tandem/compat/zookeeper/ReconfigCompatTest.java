package io.tandem.compat.zookeeper;

import static io.tandem.compat.zookeeper.EnsemblePorts.freePort;
import static io.tandem.compat.zookeeper.EnsemblePorts.mode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kazoo's {@code reconfig} and {@code /zookeeper/config} against three Tandem voters with {@code reconfigEnabled=true}
 * (kazoo_reconfig.py says what is checked, a follower removed included), and Curator's EnsembleTracker, which parses
 * the znode with Apache's QuorumMaj on connection and after a reconfig (a re-stated ensemble, then a follower
 * removed). Runs against Tandem only: the in-process Apache target is a standalone server, where Apache answers
 * reconfig with Unimplemented.
 */
class ReconfigCompatTest {
    private static final int VOTERS = 3;
    private static final int TICK_MS = 200;
    private static final String SUPER = "super:secret";

    @TempDir
    Path dir;
    private final Tandem[] members = new Tandem[VOTERS + 1];
    private final int[] clientPorts = new int[VOTERS + 1];

    @BeforeEach
    void startEnsemble() throws Exception {
        String[] serverLines = new String[VOTERS + 1];
        for (int id = 1; id <= VOTERS; id++) {
            clientPorts[id] = freePort();
            // With client addresses, as Curator's EnsembleTracker needs them to build a connection string.
            serverLines[id] = "127.0.0.1:" + freePort() + ":" + freePort() + ";127.0.0.1:" + clientPorts[id];
        }
        for (int id = 1; id <= VOTERS; id++) {
            TandemConfig config = TandemConfig.forTests(dir.resolve("member" + id))
                    .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).zookeeperPort(clientPorts[id])
                    .set("myid", Integer.toString(id)).set("tickTime", Integer.toString(TICK_MS))
                    .set("initLimit", "10").set("syncLimit", "5").set("reconfigEnabled", "true")
                    .set("DigestAuthenticationProvider.superDigest", DigestAuthenticationProvider.generateDigest(SUPER));
            for (int other = 1; other <= VOTERS; other++) {
                config.set("server." + other, serverLines[other]);
            }
            members[id] = Tandem.start(config);
        }
        awaitLeader(30_000);
    }

    @AfterEach
    void stopEnsemble() {
        for (Tandem member : members) {
            if (member != null) {
                member.close();
            }
        }
    }

    /**
     * The follower both tests remove at their end: a follower, so that the leader stays and the members that remain
     * keep their clients, as on Apache (a removed leader hands over, and its clients' answers can be lost there).
     */
    private int followerToRemove() {
        for (int id = VOTERS; id >= 1; id--) {
            if (mode(clientPorts[id]).equals("follower")) {
                return id;
            }
        }
        throw new AssertionError("no follower");
    }

    /** The client ports of every member but {@code removed}: a removed member drops its clients. */
    private String membersBut(int removed) {
        StringBuilder hosts = new StringBuilder();
        for (int id = 1; id <= VOTERS; id++) {
            if (id != removed) {
                hosts.append(hosts.length() > 0 ? "," : "").append("127.0.0.1:").append(clientPorts[id]);
            }
        }
        return hosts.toString();
    }

    @Test
    void kazooReconfigAndGetConfigBehaveAsAgainstApache() throws Exception {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
        int removed = followerToRemove();
        String hosts = membersBut(removed);
        ExternalTool.Result result = ExternalTool.run(List.of(ExternalTool.PYTHON.toString(),
                "src/test/python/kazoo_reconfig.py", hosts, SUPER,
                Integer.toString(removed)), null);
        assertEquals(0, result.exitCode(), result::describe);
        assertEquals("PASS reconfig", result.stdout().strip(), result::describe);
    }

    @Test
    void curatorsEnsembleTrackerReadsTheConfigurationAndFollowsAReconfig() throws Exception {
        int removed = followerToRemove();
        String hosts = membersBut(removed);
        try (CuratorFramework curator = CuratorFrameworkFactory.builder().connectString(hosts)
                .retryPolicy(new RetryOneTime(200)).ensembleTracker(true)
                .authorization("digest", SUPER.getBytes(StandardCharsets.UTF_8)).build()) {
            curator.start();
            assertTrue(curator.blockUntilConnected(15, TimeUnit.SECONDS));
            long established = awaitTrackedVersion(curator, 0);
            assertEquals(VOTERS, curator.getCurrentConfig().getVotingMembers().size());
            byte[] committed = curator.reconfig().withNewMembers(
                    new String(curator.getConfig().forEnsemble(), StandardCharsets.UTF_8).lines()
                            .filter(line -> line.startsWith("server.")).toList())
                    .fromConfig(established).forEnsemble();
            long version = awaitTrackedVersion(curator, established);
            assertTrue(new String(committed, StandardCharsets.UTF_8).endsWith("version=" + Long.toHexString(version)));
            // A follower removed: the tracker sees two voters and the new version.
            byte[] left = curator.reconfig().leaving(Integer.toString(removed)).fromConfig(version).forEnsemble();
            long removedVersion = awaitTrackedVersion(curator, version);
            assertTrue(new String(left, StandardCharsets.UTF_8).endsWith("version="
                    + Long.toHexString(removedVersion)));
            assertEquals(2, curator.getCurrentConfig().getVotingMembers().size());
        }
    }

    /** Waits until Curator's EnsembleTracker has parsed a configuration newer than {@code than}. */
    private static long awaitTrackedVersion(CuratorFramework curator, long than) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (curator.getCurrentConfig().getVersion() <= than) {
            assertTrue(System.nanoTime() - deadline < 0, "tracked version " + curator.getCurrentConfig().getVersion());
            Thread.sleep(50);
        }
        return curator.getCurrentConfig().getVersion();
    }

    private void awaitLeader(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0) {
            int leaders = 0;
            int followers = 0;
            for (int id = 1; id <= VOTERS; id++) {
                String mode = mode(clientPorts[id]);
                leaders += mode.equals("leader") ? 1 : 0;
                followers += mode.equals("follower") ? 1 : 0;
            }
            if (leaders == 1 && followers == VOTERS - 1) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the ensemble did not settle within " + timeoutMs + " ms");
    }

    /** Ports handed out in this JVM: the kernel may offer a just-closed port again, and members refuse a clash. */

}
