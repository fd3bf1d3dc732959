package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.fault.FaultRule;
import io.tandem.server.junit.TandemExtension;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code tandem fault} against a real node's fault endpoint, with real clients seeing the faults it arms. */
class FaultCommandTest {
    @RegisterExtension
    static TandemExtension node = TandemExtension.configured(c -> c.set("fault.port", "0"));

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String url() {
        return "http://127.0.0.1:" + node.tandem().faultPort();
    }

    @AfterEach
    void clear() {
        node.tandem().faults().clear();
    }

    @Test
    void shouldArmAKafkaErrorRuleThatAProducerRetriesThrough() throws Exception {
        Tandem tandem = node.tandem();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                tandem.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("cli-faults", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Cli.Result armed = Cli.run("fault", "kafka", "--url", url(), "--api", "Produce", "--error",
                "NOT_LEADER_OR_FOLLOWER", "--times", "2", "-o", "json");
        assertEquals(0, armed.exitCode(), armed.toString());
        JsonNode rule = JSON.readTree(armed.out());
        assertEquals("Produce", rule.get("api").asText());
        assertEquals("NOT_LEADER_OR_FOLLOWER", rule.get("error").asText());
        assertEquals(2, rule.get("remaining").asInt());
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "10");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            assertEquals(0, producer.send(new ProducerRecord<>("cli-faults", "v")).get(30, TimeUnit.SECONDS)
                    .offset());
        }
        Cli.Result listed = Cli.run("fault", "list", "--url", url());
        assertEquals(0, listed.exitCode(), listed.toString());
        List<String> lines = listed.out().lines().toList();
        assertTrue(lines.get(0).matches("ID\\s+PROTOCOL\\s+REQUEST\\s+NODE\\s+DELAY-MS\\s+ACTION\\s+ERROR\\s+REMAINING"
                + "\\s+MATCHED"), lines.get(0));
        assertTrue(lines.get(1).matches(rule.get("id").asLong() + "\\s+kafka\\s+Produce\\s+any\\s+0\\s+error\\s+"
                + "NOT_LEADER_OR_FOLLOWER\\s+0\\s+2"), lines.get(1));
        Cli.Result cleared = Cli.run("fault", "clear", "--url", url(), "-o", "json");
        assertEquals(0, cleared.exitCode(), cleared.toString());
        assertEquals(0, JSON.readTree(cleared.out()).get("rules").size());
    }

    @Test
    void shouldArmAZooKeeperDelayAndRemoveItById() throws Exception {
        Cli.Result armed = Cli.run("fault", "zk", "--url", url(), "--op", "exists", "--delay-ms", "400", "-o", "json");
        assertEquals(0, armed.exitCode(), armed.toString());
        long id = JSON.readTree(armed.out()).get("id").asLong();
        CountDownLatch connected = new CountDownLatch(1);
        try (ZooKeeper zk = new ZooKeeper(node.tandem().zookeeperConnect(), 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        })) {
            assertTrue(connected.await(10, TimeUnit.SECONDS));
            long started = System.nanoTime();
            zk.exists("/", false);
            assertTrue((System.nanoTime() - started) / 1_000_000 >= 400, "exists was delayed");
            Cli.Result removed = Cli.run("fault", "remove", "--url", url(), Long.toString(id));
            assertEquals(0, removed.exitCode(), removed.toString());
            assertTrue(node.tandem().faults().rules().isEmpty());
            started = System.nanoTime();
            zk.exists("/", false);
            assertTrue((System.nanoTime() - started) / 1_000_000 < 400, "no longer delayed");
        }
    }

    @Test
    void shouldPauseAndResumeTheNode() {
        Cli.Result paused = Cli.run("fault", "pause", "--url", url(), Tandem.NODE_NAME);
        assertEquals(0, paused.exitCode(), paused.toString());
        assertTrue(paused.out().contains("paused: [node]"), paused.toString());
        assertEquals(java.util.Set.of("node"), node.tandem().faults().pausedNodes());
        Cli.Result resumed = Cli.run("fault", "resume", "--url", url(), Tandem.NODE_NAME);
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertTrue(node.tandem().faults().pausedNodes().isEmpty());
        Cli.Result again = Cli.run("fault", "resume", "--url", url(), Tandem.NODE_NAME);
        assertEquals(ExitCodes.ERROR, again.exitCode(), again.toString());
        assertTrue(again.err().contains("node node is not paused"), again.toString());
    }

    @Test
    void shouldCutAndHealALinkBetweenTwoNodes() {
        Cli.Result cut = Cli.run("fault", "partition", "--url", url(), "broker1", "broker2");
        assertEquals(0, cut.exitCode(), cut.toString());
        assertTrue(cut.out().contains("cut: [broker1|broker2]"), cut.toString());
        assertEquals(java.util.Set.of("broker1|broker2"), node.tandem().faults().cutLinks());
        Cli.Result healed = Cli.run("fault", "heal", "--url", url(), "broker2", "broker1");
        assertEquals(0, healed.exitCode(), healed.toString());
        assertTrue(node.tandem().faults().cutLinks().isEmpty());
        Cli.Result again = Cli.run("fault", "heal", "--url", url(), "broker2", "broker1");
        assertEquals(ExitCodes.ERROR, again.exitCode(), again.toString());
    }

    @Test
    void shouldExitOneWithTheNodesReasonForARuleItRefuses() {
        Cli.Result refused = Cli.run("fault", "kafka", "--url", url(), "--api", "CreateTopics", "--error",
                "NOT_CONTROLLER");
        assertEquals(ExitCodes.ERROR, refused.exitCode(), refused.toString());
        assertTrue(refused.err().startsWith("error: cannot answer CreateTopics with an error"), refused.toString());
        Cli.Result unknown = Cli.run("fault", "zk", "--url", url(), "--op", "frobnicate", "--drop");
        assertEquals(ExitCodes.ERROR, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().contains("unknown ZooKeeper op 'frobnicate'"), unknown.toString());
        Cli.Result nothing = Cli.run("fault", "zk", "--url", url(), "--op", "create");
        assertEquals(ExitCodes.USAGE, nothing.exitCode(), nothing.toString());
        assertTrue(node.tandem().faults().rules().isEmpty(), "nothing was armed: "
                + node.tandem().faults().rules().stream().map(FaultRule::describe).toList());
    }

    @Test
    void shouldRefuseToKillOrRestartANodeStartedAloneRatherThanPretend() {
        for (String action : List.of("kill", "restart")) {
            Cli.Result refused = Cli.run("fault", action, "--url", url(), Tandem.NODE_NAME);
            assertEquals(ExitCodes.ERROR, refused.exitCode(), refused.toString());
            assertTrue(refused.err().startsWith("error: node 'node' runs alone: nothing in its process could start it"
                    + " again"), refused.toString());
        }
        Cli.Result listed = Cli.run("fault", "list", "--url", url(), "-o", "json");
        assertEquals(0, listed.exitCode(), listed.toString());
    }

    @Test
    void shouldApplyATimeWindowRuleInsideItsWindowAndNotAfter() throws Exception {
        long windowMs = 4_000;
        Cli.Result armed = Cli.run("fault", "zk", "--url", url(), "--op", "getData", "--error", "NO_NODE",
                "--window-ms", Long.toString(windowMs), "-o", "json");
        long armedAt = System.nanoTime();
        assertEquals(0, armed.exitCode(), armed.toString());
        assertTrue(JSON.readTree(armed.out()).get("remainingMs").asLong() <= windowMs, armed.out());
        CountDownLatch connected = new CountDownLatch(1);
        try (ZooKeeper zk = new ZooKeeper(node.tandem().zookeeperConnect(), 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        })) {
            assertTrue(connected.await(10, TimeUnit.SECONDS));
            zk.create("/windowed", "w".getBytes(), org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    org.apache.zookeeper.CreateMode.PERSISTENT);
            long inside = 0;
            int refused = 0;
            // Inside the window every getData is answered with the rule's error (other ops pass).
            while ((System.nanoTime() - armedAt) / 1_000_000 < windowMs - 1_000 && inside < 5) {
                inside++;
                try {
                    zk.getData("/windowed", false, null);
                } catch (org.apache.zookeeper.KeeperException.NoNodeException expected) {
                    refused++;
                }
            }
            assertTrue(inside > 0, "the window passed before a request could be sent");
            assertEquals(inside, refused, "every getData inside the window got the rule's error");
            assertTrue(zk.exists("/windowed", false) != null, "exists is not matched by a getData rule");
            long left = windowMs - (System.nanoTime() - armedAt) / 1_000_000;
            if (left > 0) Thread.sleep(left + 100);
            assertEquals("w", new String(zk.getData("/windowed", false, null)), "after the window the rule is spent");
            zk.delete("/windowed", -1);
        }
    }

    @Test
    void shouldExitTwoWhenNoFaultEndpointListens() throws Exception {
        Cli.Result result = Cli.run("fault", "list", "--url", "http://127.0.0.1:" + Cli.closedPort(),
                "--timeout-ms", "2000");
        assertEquals(ExitCodes.UNREACHABLE, result.exitCode(), result.toString());
        assertTrue(result.err().startsWith("error: cannot reach the fault endpoint"), result.toString());
    }
}
