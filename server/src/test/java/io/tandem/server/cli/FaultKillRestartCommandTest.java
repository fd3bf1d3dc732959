package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.TandemCluster;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tandem fault kill|restart} against the nodes of a real two-broker {@link TandemCluster}: through one
 * node's fault endpoint, a broker is killed (Kafka's own Admin then sees one broker) and restarted (two again),
 * including the node whose endpoint was asked.
 */
class FaultKillRestartCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TandemCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TandemCluster.start(2, c -> c.set("fault.port", "0"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    private static String url(int broker) {
        return "http://127.0.0.1:" + cluster.broker(broker).faultPort();
    }

    private static Set<Integer> brokersSeenByKafkasAdmin(int via) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.broker(via).bootstrapServers()))) {
            Set<Integer> ids = new TreeSet<>();
            for (Node node : admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)) ids.add(node.id());
            return ids;
        }
    }

    @Test
    void shouldKillAndRestartBrokersOfTheClusterIncludingTheOneAsked() throws Exception {
        String viaOne = url(1);
        Cli.Result killed = Cli.run("fault", "kill", "--url", viaOne, "broker2");
        assertEquals(0, killed.exitCode(), killed.toString());
        assertEquals("node broker2: killed\n", killed.out());
        assertFalse(cluster.isRunning(2));
        assertEquals(Set.of(1), brokersSeenByKafkasAdmin(1));

        Cli.Result listed = Cli.run("fault", "list", "--url", viaOne);
        assertTrue(listed.out().contains("nodes: {broker1=running, broker2=killed, zookeeper1=running}"),
                listed.toString());
        Cli.Result again = Cli.run("fault", "kill", "--url", viaOne, "broker2");
        assertEquals(ExitCodes.ERROR, again.exitCode(), again.toString());
        assertEquals("error: node broker2 is not running\n", again.err());

        Cli.Result restarted = Cli.run("fault", "restart", "--url", viaOne, "broker2", "-o", "json");
        assertEquals(0, restarted.exitCode(), restarted.toString());
        JsonNode nodes = JSON.readTree(restarted.out()).get("nodes");
        assertEquals("running", nodes.get("broker2").asText());
        assertTrue(cluster.isRunning(2));
        assertEquals(Set.of(1, 2), brokersSeenByKafkasAdmin(1));

        // The node whose endpoint is asked can be killed too: its answer comes before it goes down. It cannot be
        // watched through its own endpoint, hence --wait-ms 0 and the cluster's view.
        Cli.Result self = Cli.run("fault", "kill", "--url", url(2), "broker2", "--wait-ms", "0");
        assertEquals(0, self.exitCode(), self.toString());
        for (int i = 0; i < 600 && cluster.isRunning(2); i++) Thread.sleep(100);
        assertFalse(cluster.isRunning(2), "broker2 went down");
        Cli.Result back = Cli.run("fault", "restart", "--url", viaOne, "broker2");
        assertEquals(0, back.exitCode(), back.toString());
        assertEquals(Set.of(1, 2), brokersSeenByKafkasAdmin(1));
    }

    @Test
    void shouldNameTheClustersNodesWhenAskedForAnUnknownOne() {
        Cli.Result unknown = Cli.run("fault", "restart", "--url", url(1), "broker9");
        assertEquals(ExitCodes.ERROR, unknown.exitCode(), unknown.toString());
        assertEquals("error: no node 'broker9' to restart (nodes: broker1, broker2, zookeeper1)\n", unknown.err());
        Cli.Result running = Cli.run("fault", "restart", "--url", url(1), "broker1");
        assertEquals(ExitCodes.ERROR, running.exitCode(), running.toString());
        assertEquals("error: node broker1 is running\n", running.err());
    }
}
