package io.tandem.compat.zookeeper;

import static io.tandem.compat.zookeeper.EnsemblePorts.freePort;
import static io.tandem.compat.zookeeper.EnsemblePorts.mode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.retry.RetryForever;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients given every member of a three-member Tandem ensemble fail over when the leader dies, keeping their session
 * and its ephemerals: Curator (with a LeaderLatch) and kazoo. Runs against Tandem only: the in-process Apache target
 * is a standalone server.
 */
class EnsembleFailoverCompatTest {
    private static final int MEMBERS = 3;
    private static final int TICK_MS = 200;

    @TempDir
    Path dir;
    private final Tandem[] members = new Tandem[MEMBERS + 1];
    private final int[] clientPorts = new int[MEMBERS + 1];

    @BeforeEach
    void startEnsemble() throws Exception {
        List<String> serverLines = new ArrayList<>();
        for (int id = 1; id <= MEMBERS; id++) {
            clientPorts[id] = freePort();
            serverLines.add("server." + id + "=127.0.0.1:" + freePort() + ":" + freePort());
        }
        for (int id = 1; id <= MEMBERS; id++) {
            TandemConfig config = TandemConfig.forTests(dir.resolve("member" + id))
                    .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).zookeeperPort(clientPorts[id])
                    .set("myid", Integer.toString(id)).set("tickTime", Integer.toString(TICK_MS))
                    .set("initLimit", "10").set("syncLimit", "5").set("maxSessionTimeout", "30000");
            for (String line : serverLines) {
                String[] keyValue = line.split("=", 2);
                config.set(keyValue[0], keyValue[1]);
            }
            members[id] = Tandem.start(config);
        }
        awaitLeader(30_000);
    }

    @AfterEach
    void stopEnsemble() {
        for (int id = 1; id <= MEMBERS; id++) {
            if (members[id] != null) {
                members[id].close();
            }
        }
    }

    @Test
    void curatorKeepsItsSessionEphemeralAndLeadershipWhenTheLeaderDies() throws Exception {
        try (CuratorFramework curator = CuratorFrameworkFactory.newClient(connectAll(), 20_000, 5_000,
                new RetryForever(200))) {
            curator.start();
            assertTrue(curator.blockUntilConnected(15, TimeUnit.SECONDS));
            curator.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath("/failover/curator", new byte[0]);
            long session = curator.getZookeeperClient().getZooKeeper().getSessionId();
            try (LeaderLatch latch = new LeaderLatch(curator, "/failover/latch", "only")) {
                latch.start();
                assertTrue(latch.await(15, TimeUnit.SECONDS), "the only candidate leads");

                stopLeader();

                Stat stat = curator.checkExists().forPath("/failover/curator"); // retried by Curator until reconnected
                assertNotNull(stat, "the ephemeral survived the failover");
                assertEquals(session, stat.getEphemeralOwner(), "still owned by the original session");
                assertEquals(session, curator.getZookeeperClient().getZooKeeper().getSessionId());
                curator.setData().forPath("/failover/curator", "after".getBytes(StandardCharsets.UTF_8));
                assertTrue(latch.await(15, TimeUnit.SECONDS), "leadership kept or regained after the failover");
            }
        }
    }

    @Test
    void kazooKeepsItsSessionAndEphemeralWhenTheLeaderDies() throws Exception {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
        Process kazoo = new ProcessBuilder(ExternalTool.PYTHON.toString(), "src/test/python/kazoo_failover.py",
                connectAll(), "/failover/kazoo").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(kazoo.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertEquals("READY", first, "kazoo connected and created its ephemeral");
            stopLeader();
            OutputStream in = kazoo.getOutputStream();
            in.write('\n');
            in.flush();
            StringBuilder rest = new StringBuilder();
            for (String line; (line = out.readLine()) != null; ) {
                rest.append(line).append('\n');
            }
            assertTrue(kazoo.waitFor(60, TimeUnit.SECONDS), "kazoo finished");
            assertEquals(0, kazoo.exitValue(), rest.toString());
            assertTrue(rest.toString().contains("PASS failover"), rest.toString());
        } finally {
            kazoo.destroyForcibly();
        }
    }

    private void stopLeader() throws Exception {
        int leader = awaitLeader(30_000);
        members[leader].close();
        members[leader] = null;
        awaitLeader(30_000);
    }

    private String connectAll() {
        List<String> hosts = new ArrayList<>();
        for (int id = 1; id <= MEMBERS; id++) {
            hosts.add("127.0.0.1:" + clientPorts[id]);
        }
        return String.join(",", hosts);
    }

    /** Waits until a running member reports {@code Mode: leader} and every other running one {@code follower}. */
    private int awaitLeader(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0) {
            int leader = -1;
            boolean settled = true;
            for (int id = 1; id <= MEMBERS; id++) {
                if (members[id] == null) {
                    continue;
                }
                String mode = mode(clientPorts[id]);
                if (mode.equals("leader")) {
                    leader = id;
                } else if (!mode.equals("follower")) {
                    settled = false;
                }
            }
            if (settled && leader > 0) {
                return leader;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no leader within " + timeoutMs + " ms");
    }

}
