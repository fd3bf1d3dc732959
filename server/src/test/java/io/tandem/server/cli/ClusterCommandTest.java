package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.junit.TandemExtension;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code tandem cluster} against a real node: Kafka's brokers and controller, and the ZooKeeper member's mode. */
class ClusterCommandTest {
    @RegisterExtension
    static TandemExtension tandem = new TandemExtension();

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldShowBrokersControllerAndZooKeeperMode() throws Exception {
        String bootstrap = tandem.tandem().bootstrapServers();
        Cli.Result result = Cli.run("cluster", "--bootstrap-server", bootstrap, "--zookeeper",
                tandem.tandem().zookeeperConnect());
        assertEquals(0, result.exitCode(), result.toString());
        List<String> lines = result.out().lines().toList();
        String clusterId;
        int controller;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            clusterId = admin.describeCluster().clusterId().get();
            controller = admin.describeCluster().controller().get().id();
        }
        assertEquals("Kafka cluster " + clusterId + ", controller " + controller, lines.get(0));
        assertTrue(lines.get(1).matches("BROKER\\s+HOST\\s+PORT\\s+RACK\\s+ROLE"), lines.get(1));
        assertTrue(lines.get(2).matches(controller + "\\s+127\\.0\\.0\\.1\\s+" + tandem.tandem().kafkaPort()
                + "\\s+-\\s+controller"), lines.get(2));
        assertEquals("", lines.get(3));
        assertTrue(lines.get(5).matches("127\\.0\\.0\\.1:" + tandem.tandem().zookeeperPort()
                + "\\s+standalone\\s+\\S+\\s+0x[0-9a-f]+\\s+\\d+\\s+\\d+"), lines.get(5));
    }

    @Test
    void shouldReportAsJsonAndExitTwoWhenAMemberIsDown() throws Exception {
        int closed = Cli.closedPort();
        Cli.Result result = Cli.run("cluster", "--zookeeper", tandem.tandem().zookeeperConnect() + ",127.0.0.1:"
                + closed, "--timeout-ms", "2000", "-o", "json");
        assertEquals(ExitCodes.UNREACHABLE, result.exitCode(), result.toString());
        JsonNode members = JSON.readTree(result.out()).get("zookeeper");
        assertEquals("standalone", members.get(0).get("mode").asText());
        assertTrue(members.get(1).get("error").asText().startsWith("unreachable"), members.toString());

        Cli.Result kafka = Cli.run("cluster", "--bootstrap-server", tandem.tandem().bootstrapServers(), "-o", "json");
        assertEquals(0, kafka.exitCode(), kafka.toString());
        JsonNode brokers = JSON.readTree(kafka.out()).get("kafka").get("brokers");
        assertEquals(tandem.tandem().kafkaPort(), brokers.get(0).get("port").asInt());

        Cli.Result down = Cli.run("cluster", "--bootstrap-server", "127.0.0.1:" + closed);
        assertEquals(ExitCodes.UNREACHABLE, down.exitCode());
        assertTrue(down.err().startsWith("error: cannot reach any bootstrap server"), down.err());
    }
}
