package io.tandem.compat.zookeeper;

import static io.tandem.compat.zookeeper.EnsemblePorts.freePort;
import static io.tandem.compat.zookeeper.EnsemblePorts.mode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.BufferedReader;
import java.io.IOException;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three voters and an observer ({@code server.4=...:observer}), all with {@code readonlymode.enabled=true}: Curator
 * and kazoo work through the observer alone, and kazoo's read-only sessions work on a member cut off from its quorum
 * and move to a read-write session when the quorum returns. Runs against Tandem only: the in-process Apache target is
 * a standalone server.
 */
class ObserverAndReadOnlyCompatTest {
    private static final int VOTERS = 3;
    private static final int OBSERVER = VOTERS + 1;
    private static final int TICK_MS = 200;

    @TempDir
    Path dir;
    private final Tandem[] members = new Tandem[OBSERVER + 1];
    private final int[] clientPorts = new int[OBSERVER + 1];
    private final List<String> serverLines = new ArrayList<>();

    @BeforeEach
    void startEnsemble() throws Exception {
        for (int id = 1; id <= OBSERVER; id++) {
            clientPorts[id] = freePort();
            serverLines.add("server." + id + "=127.0.0.1:" + freePort() + ":" + freePort()
                    + (id == OBSERVER ? ":observer" : ""));
        }
        for (int id = 1; id <= OBSERVER; id++) {
            start(id);
        }
        awaitModes(30_000);
    }

    private void start(int id) throws IOException {
        TandemConfig config = TandemConfig.forTests(dir.resolve("member" + id))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).zookeeperPort(clientPorts[id])
                .set("myid", Integer.toString(id)).set("tickTime", Integer.toString(TICK_MS))
                .set("initLimit", "10").set("syncLimit", "5").set("maxSessionTimeout", "30000")
                .set("readonlymode.enabled", "true");
        if (id == OBSERVER) {
            config.set("peerType", "observer");
        }
        for (String line : serverLines) {
            String[] keyValue = line.split("=", 2);
            config.set(keyValue[0], keyValue[1]);
        }
        members[id] = Tandem.start(config);
    }

    @AfterEach
    void stopEnsemble() {
        for (int id = 1; id <= OBSERVER; id++) {
            stop(id);
        }
    }

    private void stop(int id) {
        if (members[id] != null) {
            members[id].close();
            members[id] = null;
        }
    }

    private String hostOf(int id) {
        return "127.0.0.1:" + clientPorts[id];
    }

    @Test
    void curatorWorksThroughTheObserverAlone() throws Exception {
        assertEquals("observer", mode(clientPorts[OBSERVER]));
        try (CuratorFramework curator = CuratorFrameworkFactory.newClient(hostOf(OBSERVER), 20_000, 5_000,
                new RetryForever(200))) {
            curator.start();
            assertTrue(curator.blockUntilConnected(15, TimeUnit.SECONDS));
            curator.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                    .forPath("/observer/curator", "mine".getBytes(StandardCharsets.UTF_8));
            assertArrayEquals("mine".getBytes(StandardCharsets.UTF_8), curator.getData().forPath("/observer/curator"));
            try (LeaderLatch latch = new LeaderLatch(curator, "/observer/latch", "only")) {
                latch.start();
                assertTrue(latch.await(15, TimeUnit.SECONDS), "the only candidate leads through the observer");
            }
        }
    }

    @ParameterizedTest(name = "kazoo {0} through the observer")
    @ValueSource(strings = {"crud", "watches", "lock"})
    void kazooScenarioShouldPassThroughTheObserverAlone(String scenario) throws Exception {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
        ExternalTool.Result result = ExternalTool.run(List.of(ExternalTool.PYTHON.toString(),
                "src/test/python/kazoo_compat.py", hostOf(OBSERVER), scenario), null);
        assertEquals(0, result.exitCode(), result::describe);
        assertEquals("PASS " + scenario, result.stdout().strip(), result::describe);
    }

    @Test
    void kazooReadOnlySessionOnACutOffMemberMovesToReadWriteWhenTheQuorumReturns() throws Exception {
        ExternalTool.require("python3-kazoo", ExternalTool.kazooAvailable());
        try (CuratorFramework curator = CuratorFrameworkFactory.newClient(hostOf(1), 20_000, 5_000,
                new RetryForever(200))) {
            curator.start();
            assertTrue(curator.blockUntilConnected(15, TimeUnit.SECONDS));
            curator.create().forPath("/ro", "before".getBytes(StandardCharsets.UTF_8));
        }
        stop(2);
        stop(3);
        awaitMode(1, "read-only", 20_000);
        Process kazoo = new ProcessBuilder(ExternalTool.PYTHON.toString(), "src/test/python/kazoo_readonly.py",
                hostOf(1) + "," + hostOf(2), "/ro").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(kazoo.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = out.readLine()) != null && !line.equals("READY")) {
                seen.append(line).append('\n');
            }
            assertEquals("READY", line, "kazoo's read-only phase: " + seen);
            start(2);
            OutputStream in = kazoo.getOutputStream();
            in.write('\n');
            in.flush();
            for (String rest; (rest = out.readLine()) != null; ) {
                seen.append(rest).append('\n');
            }
            assertTrue(kazoo.waitFor(90, TimeUnit.SECONDS), "kazoo finished");
            assertEquals(0, kazoo.exitValue(), seen.toString());
            assertTrue(seen.toString().contains("PASS readonly"), seen.toString());
        } finally {
            kazoo.destroyForcibly();
        }
    }

    private void awaitMode(int id, String expected, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!mode(clientPorts[id]).equals(expected)) {
            assertTrue(System.nanoTime() - deadline < 0, "member " + id + " is " + mode(clientPorts[id]));
            Thread.sleep(50);
        }
    }

    /** Waits until one voter leads, the other running voters follow and the observer observes. */
    private void awaitModes(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0) {
            int leaders = 0;
            boolean settled = true;
            for (int id = 1; id <= OBSERVER; id++) {
                String mode = mode(clientPorts[id]);
                if (mode.equals("leader") && id != OBSERVER) {
                    leaders++;
                } else if (!mode.equals(id == OBSERVER ? "observer" : "follower")) {
                    settled = false;
                }
            }
            if (settled && leaders == 1) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the ensemble did not settle within " + timeoutMs + " ms");
    }

}
