package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.TandemCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-topics.sh's replication reports ({@code --under-replicated-partitions}, {@code --unavailable-partitions},
 * {@code --under-min-isr-partitions}, {@code --at-min-isr-partitions}) and {@code --topics-with-overrides}, on two
 * brokers of which the second is stopped: each report selects the partitions Kafka's TopicCommand would. Two of the
 * topics are created with {@code topics create --replica-assignment}.
 */
class TopicsDescribeFiltersTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shouldReportOnlyThePartitionsEachReplicationFilterSelects() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, config -> {
            config.set("replica.lag.time.max.ms", "1000");
            return config;
        })) {
            String bootstrap = cluster.broker(1).bootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                // One replica on broker 1: its ISR (1) is at the default min.insync.replicas (1).
                admin.createTopics(List.of(new NewTopic("single", Map.of(0, List.of(1))))).all()
                        .get(30, TimeUnit.SECONDS);
                // kafka-topics.sh --replica-assignment: two replicas and min.insync.replicas=2 (under it once broker
                // 2 is gone), and a topic whose only replica is on broker 2 (no leader once broker 2 is gone).
                Cli.Result pair = Cli.run("topics", "create", "--bootstrap-server=" + bootstrap, "pair",
                        "--replica-assignment", "1:2,2:1", "--config", "min.insync.replicas=2");
                assertEquals(0, pair.exitCode(), pair.toString());
                Cli.Result lonely = Cli.run("topics", "create", "--bootstrap-server=" + bootstrap, "lonely",
                        "--replica-assignment", "2");
                assertEquals(0, lonely.exitCode(), lonely.toString());
                Map<String, TopicDescription> placed = admin.describeTopics(List.of("pair", "lonely"))
                        .allTopicNames().get(30, TimeUnit.SECONDS);
                assertEquals(List.of(List.of(1, 2), List.of(2, 1)), replicas(placed.get("pair")));
                assertEquals(List.of(List.of(2)), replicas(placed.get("lonely")));
                // Kafka's refusals, before anything is sent.
                for (String[] bad : List.of(new String[] {"1:1"}, new String[] {"1:2,2"},
                        new String[] {"1", "--partitions", "1"}, new String[] {"1", "--replication-factor", "1"})) {
                    List<String> args = new ArrayList<>(List.of("topics", "create", "--bootstrap-server="
                            + bootstrap, "refused", "--replica-assignment"));
                    args.addAll(List.of(bad));
                    Cli.Result refused = Cli.run(args.toArray(String[]::new));
                    assertEquals(ExitCodes.USAGE, refused.exitCode(), refused.toString());
                }
                assertTrue(Cli.run("topics", "create", "--bootstrap-server=" + bootstrap, "refused",
                        "--replica-assignment", "1:2,2").err().contains("Partition 1 has different replication"
                        + " factor: [2]"));
                assertTrue(admin.listTopics().names().get().stream().noneMatch("refused"::equals));
            }
            awaitRows(bootstrap, Set.of(), "--exclude-internal", "--under-replicated-partitions");
            assertEquals(Set.of("single/0", "pair/0", "pair/1", "lonely/0"),
                    rows(bootstrap, "--exclude-internal", "--at-min-isr-partitions"));
            assertEquals(Set.of(), rows(bootstrap, "--exclude-internal", "--unavailable-partitions"));

            cluster.stopBroker(2);
            // replica.lag.time.max.ms is 1 s, and a clean stop moves pair/1's leadership to broker 1 at once.
            awaitRows(bootstrap, Set.of("pair/0", "pair/1"), "--topic", "pair", "--under-replicated-partitions");
            awaitRows(bootstrap, Set.of("lonely/0"), "--exclude-internal", "--unavailable-partitions");
            assertEquals(Set.of("pair/0", "pair/1", "lonely/0"),
                    rows(bootstrap, "--exclude-internal", "--under-min-isr-partitions"));
            assertTrue(rows(bootstrap, "--exclude-internal", "--at-min-isr-partitions").contains("single/0"));
            assertTrue(!rows(bootstrap, "--exclude-internal", "--at-min-isr-partitions").contains("pair/0"));
            // Reports are ORed, as Kafka's: pair's partitions (under min ISR) and lonely's (unavailable).
            assertEquals(Set.of("pair/0", "pair/1", "lonely/0"), rows(bootstrap, "--exclude-internal",
                    "--unavailable-partitions", "--under-min-isr-partitions"));

            Cli.Result json = Cli.run("topics", "describe", "--bootstrap-server=" + bootstrap, "--topic", "lonely",
                    "--unavailable-partitions", "-o", "json");
            assertEquals(0, json.exitCode(), json.toString());
            JsonNode rows = JSON.readTree(json.out());
            assertEquals(1, rows.size(), json.out());
            assertEquals("lonely", rows.get(0).get("topic").asText());
            assertEquals(0, rows.get(0).get("partition").asInt());
            assertEquals(List.of(2), List.of(rows.get(0).get("replicas").get(0).asInt()));

            Cli.Result overrides = Cli.run("topics", "describe", "--bootstrap-server=" + bootstrap,
                    "--exclude-internal", "--topics-with-overrides");
            assertEquals(0, overrides.exitCode(), overrides.toString());
            List<String> lines = overrides.out().lines().toList();
            assertEquals(1, lines.size(), overrides.out());
            assertTrue(lines.get(0).startsWith("Topic: pair\t") && lines.get(0).contains("min.insync.replicas=2"),
                    lines.get(0));

            Cli.Result both = Cli.run("topics", "describe", "--bootstrap-server=" + bootstrap,
                    "--topics-with-overrides", "--under-replicated-partitions");
            assertEquals(ExitCodes.USAGE, both.exitCode(), both.toString());
        }
    }

    /** Each partition's replicas, in partition order. */
    private static List<List<Integer>> replicas(TopicDescription topic) {
        return topic.partitions().stream().map(p -> p.replicas().stream().map(Node::id).toList()).toList();
    }

    /** The "topic/partition" rows of {@code topics describe} with the given flags (table output, parsed). */
    private static Set<String> rows(String bootstrap, String... flags) {
        List<String> args = new ArrayList<>(List.of("topics", "describe", "--bootstrap-server=" + bootstrap));
        args.addAll(List.of(flags));
        Cli.Result result = Cli.run(args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result.toString());
        Set<String> rows = new TreeSet<>();
        List<String> lines = result.out().lines().toList();
        if (lines.isEmpty()) {
            return rows;
        }
        assertTrue(lines.get(0).startsWith("TOPIC  "), result.out());
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.trim().split("\\s+");
            rows.add(cells[0] + "/" + cells[1]);
        }
        return rows;
    }

    private static void awaitRows(String bootstrap, Set<String> expected, String... flags) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        Set<String> seen = rows(bootstrap, flags);
        while (!seen.equals(new TreeSet<>(expected)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            seen = rows(bootstrap, flags);
        }
        assertEquals(new TreeSet<>(expected), seen, String.join(" ", flags));
    }
}
