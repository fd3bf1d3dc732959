package io.tandem.server.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.server.Main;
import io.tandem.server.TandemCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Cutting ZooKeeper ensemble members apart (their quorum links), on a three-member ensemble: the member cut off loses
 * its quorum (its clients see Disconnected) while the other two elect a leader and serve, and once healed it rejoins
 * with what was written meanwhile. The cuts go through the three ways a user makes them: the {@code tandem fault}
 * command, the HTTP endpoint, and the Java API.
 */
@io.tandem.server.junit.TandemCluster(brokers = 1, zookeepers = 3)
class QuorumPartitionTest {
    /** Generous: elections on a loaded two-core box take seconds, not the fraction of a second they take idle. */
    private static final long WAIT_MS_MAX = 60_000;
    private static final int SESSION_TIMEOUT_MS = 30_000;

    @Test
    void shouldCostAnIsolatedLeaderItsQuorumWhileTheMajorityElectsAndServesAndRejoinItWhenHealed(
            TandemCluster cluster) throws Exception {
        int isolated = leader(cluster);
        int[] others = new int[2];
        for (int id = 1, n = 0; id <= 3; id++) if (id != isolated) others[n++] = id;
        BlockingQueue<Watcher.Event.KeeperState> isolatedStates = new LinkedBlockingQueue<>();
        try (FaultHttp http = FaultHttp.start("127.0.0.1", 0, cluster.faults());
             ZooKeeper onIsolated = connect(member(cluster, isolated), isolatedStates);
             ZooKeeper onMajority = connect(member(cluster, others[0]) + "," + member(cluster, others[1]),
                     new LinkedBlockingQueue<>())) {
            onMajority.create("/before", "b".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            // One link by the CLI, the other by HTTP: the member is then alone.
            String url = "http://127.0.0.1:" + http.port();
            assertEquals(0, tandem("fault", "partition", "zookeeper" + isolated, "zookeeper" + others[0], "--url", url));
            HttpResponse<String> cut = post(url + "/faults/partition?a=zookeeper" + isolated + "&b=zookeeper"
                    + others[1]);
            assertEquals(200, cut.statusCode(), cut.body());
            assertTrue(cut.body().contains("zookeeper" + Math.min(isolated, others[1]) + "|zookeeper"
                    + Math.max(isolated, others[1])), cut.body());
            assertEquals(2, cluster.faults().cutLinks().size(), cluster.faults().cutLinks().toString());

            awaitState(isolatedStates, Watcher.Event.KeeperState.Disconnected);
            await(() -> isServing(cluster, others[0]) && isServing(cluster, others[1])
                    && !leader(cluster, isolated), "the majority elects a leader of its own");
            await(() -> cluster.zookeeperMode(isolated).equals("looking"), "the isolated member stops serving");
            writeWithRetries(onMajority, "/during");
            assertEquals("looking", cluster.zookeeperMode(isolated), "still cut off, it must not serve");
            // Its client gets no session back from it while it is cut off: every request fails with ConnectionLoss.
            assertThrows(KeeperException.ConnectionLossException.class, () -> onIsolated.exists("/before", false));

            cluster.rejoinZookeeper(isolated);
            assertEquals(Set.of(), cluster.faults().cutLinks());
            await(() -> isServing(cluster, isolated), "the healed member follows the new leader");
            int leaders = 0;
            for (int id = 1; id <= 3; id++) if (cluster.zookeeperMode(id).equals("leader")) leaders++;
            assertEquals(1, leaders, "one leader once healed");
            // A fresh session on the healed member sees what the majority wrote while it was cut off.
            try (ZooKeeper fresh = connect(member(cluster, isolated), new LinkedBlockingQueue<>())) {
                fresh.sync("/during", (rc, path, ctx) -> { }, null);
                assertArrayEquals("d".getBytes(), fresh.getData("/during", false, null));
                assertArrayEquals("b".getBytes(), fresh.getData("/before", false, null));
            }
        }
    }

    @Test
    void shouldCutAFollowerOffAloneWhileTheLeaderKeepsItsQuorum(TandemCluster cluster) throws Exception {
        int leader = leader(cluster);
        int follower = leader == 1 ? 2 : 1;
        cluster.partition("zookeeper" + follower, "zookeeper" + leader);
        try {
            // The third member still links the two, but a follower follows only the leader: it must look again.
            await(() -> !isServing(cluster, follower), "the follower cut from its leader stops serving");
            assertEquals("leader", cluster.zookeeperMode(leader), "the leader keeps its quorum with the third member");
        } finally {
            assertTrue(cluster.heal("zookeeper" + follower, "zookeeper" + leader));
        }
        await(() -> isServing(cluster, follower), "healed, the follower rejoins");
    }

    @Test
    void shouldRefuseToCutABrokerFromAZooKeeperMember(TandemCluster cluster) throws Exception {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> cluster.partition("broker1", "zookeeper2"));
        assertTrue(refused.getMessage().contains("not a broker's ZooKeeper session"), refused.getMessage());
        try (FaultHttp http = FaultHttp.start("127.0.0.1", 0, cluster.faults())) {
            HttpResponse<String> answer = post("http://127.0.0.1:" + http.port()
                    + "/faults/partition?a=zookeeper1&b=broker1");
            assertEquals(400, answer.statusCode(), answer.body());
        }
        assertEquals(Set.of(), cluster.faults().cutLinks());
        assertThrows(IllegalArgumentException.class, () -> cluster.partition("zookeeper1", "zookeeper4"));
    }

    private static int leader(TandemCluster cluster) {
        for (int id = 1; id <= 3; id++) if (leader(cluster, id)) return id;
        fail("no leader");
        return -1;
    }

    private static boolean leader(TandemCluster cluster, int id) {
        return cluster.zookeeperMode(id).equals("leader");
    }

    private static boolean isServing(TandemCluster cluster, int id) {
        String mode = cluster.zookeeperMode(id);
        return mode.equals("leader") || mode.equals("follower");
    }

    private static String member(TandemCluster cluster, int id) {
        return "127.0.0.1:" + cluster.zookeeper(id).zookeeperPort();
    }

    private static ZooKeeper connect(String connect, BlockingQueue<Watcher.Event.KeeperState> states)
            throws Exception {
        ZooKeeper zk = new ZooKeeper(connect, SESSION_TIMEOUT_MS, event -> {
            if (event.getType() == Watcher.Event.EventType.None) states.add(event.getState());
        });
        awaitState(states, Watcher.Event.KeeperState.SyncConnected);
        return zk;
    }

    private static void awaitState(BlockingQueue<Watcher.Event.KeeperState> states, Watcher.Event.KeeperState wanted)
            throws InterruptedException {
        List<Watcher.Event.KeeperState> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS_MAX);
        while (System.nanoTime() - deadline < 0) {
            Watcher.Event.KeeperState state = states.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (state == wanted) return;
            if (state != null) seen.add(state);
        }
        fail("no " + wanted + " within " + WAIT_MS_MAX + " ms; saw " + seen);
    }

    /** The majority's client may be on a member that is re-electing: it retries until the write is taken. */
    private static void writeWithRetries(ZooKeeper zk, String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS_MAX);
        while (true) {
            try {
                zk.create(path, "d".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                return;
            } catch (KeeperException.NodeExistsException e) {
                return; // an earlier attempt was applied though its answer was lost
            } catch (KeeperException.ConnectionLossException e) {
                if (System.nanoTime() - deadline > 0) throw e;
                Thread.sleep(100);
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS_MAX);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) fail(what + ": not within " + WAIT_MS_MAX + " ms");
            Thread.sleep(50);
        }
    }

    private static int tandem(String... args) {
        StringWriter out = new StringWriter();
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(out, true));
        int exit = commandLine.execute(args);
        if (exit != 0) fail("tandem " + String.join(" ", args) + " exited " + exit + ":\n" + out);
        return exit;
    }

    private static HttpResponse<String> post(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
