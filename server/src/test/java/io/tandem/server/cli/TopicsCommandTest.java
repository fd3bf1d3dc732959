package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.junit.TandemExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code tandem topics} against a real embedded node, cross-checked with Kafka's own Admin client. */
class TopicsCommandTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("num.partitions", "2"));

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Cli.Result topics(String... args) {
        String[] full = new String[args.length + 2];
        full[0] = "topics";
        full[1] = args[0];
        full[2] = "--bootstrap-server=" + tandem.tandem().bootstrapServers();
        System.arraycopy(args, 1, full, 3, args.length - 1);
        return Cli.run(full);
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.tandem().bootstrapServers()));
    }

    @Test
    void shouldCreateATopicThatKafkasAdminSeesWithItsPartitionsAndConfig() throws Exception {
        Cli.Result created = topics("create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1",
                "--config", "cleanup.policy=compact", "--config", "retention.ms=3600000");
        assertEquals(0, created.exitCode(), created.toString());
        assertEquals("Created topic orders.\n", created.out());
        try (Admin admin = admin()) {
            TopicDescription description = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
            assertEquals(3, description.partitions().size());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "orders");
            assertEquals("compact", admin.describeConfigs(List.of(resource)).all().get().get(resource)
                    .get("cleanup.policy").value());
        }

        Cli.Result described = topics("describe", "--topic", "orders");
        assertEquals(0, described.exitCode(), described.toString());
        String[] lines = described.out().split("\n");
        assertTrue(lines[0].startsWith("Topic: orders\tTopicId: "), lines[0]);
        assertTrue(lines[0].contains("PartitionCount: 3\tReplicationFactor: 1\tConfigs: "), lines[0]);
        assertTrue(lines[0].contains("cleanup.policy=compact") && lines[0].contains("retention.ms=3600000"), lines[0]);
        assertTrue(lines[1].matches("PARTITION\\s+LEADER\\s+REPLICAS\\s+ISR\\s+OFFLINE"), lines[1]);
        assertEquals(5, lines.length, described.out());
        assertTrue(lines[2].matches("0\\s+\\d+\\s+\\d+\\s+\\d+"), lines[2]);
    }

    @Test
    void shouldDescribeAsJsonWithLeaderReplicasIsrAndOverrides() throws Exception {
        assertEquals(0, topics("create", "json-topic", "--partitions", "2").exitCode());
        Cli.Result described = topics("describe", "json-topic", "--output", "json");
        assertEquals(0, described.exitCode(), described.toString());
        JsonNode topic = JSON.readTree(described.out());
        assertEquals("json-topic", topic.get("name").asText());
        assertEquals(2, topic.get("partitionCount").asInt());
        assertEquals(1, topic.get("replicationFactor").asInt());
        assertTrue(topic.get("configs").isEmpty(), "no overrides: " + topic.get("configs"));
        JsonNode partition = topic.get("partitions").get(1);
        assertEquals(1, partition.get("partition").asInt());
        int leader = partition.get("leader").asInt();
        assertEquals(List.of(leader), List.of(partition.get("replicas").get(0).asInt()));
        assertEquals(leader, partition.get("isr").get(0).asInt());
        try (Admin admin = admin()) {
            assertEquals(admin.describeTopics(List.of("json-topic")).allTopicNames().get().get("json-topic")
                    .topicId().toString(), topic.get("topicId").asText());
        }

        Cli.Result all = topics("describe", "json-topic", "--all-configs", "-o", "json");
        assertTrue(JSON.readTree(all.out()).get("configs").has("cleanup.policy"), all.out());
    }

    @Test
    void shouldListTopicsAsTableAndJsonAndHideInternalOnesOnRequest() throws Exception {
        assertEquals(0, topics("create", "listed", "--partitions", "4").exitCode());
        Cli.Result table = topics("list");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().startsWith("TOPIC"), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.matches("listed\\s+4\\s+1")), table.out());

        Cli.Result json = topics("list", "--output", "json", "--exclude-internal");
        JsonNode rows = JSON.readTree(json.out());
        boolean found = false;
        for (JsonNode row : rows) {
            assertFalse(row.get("internal").asBoolean());
            found |= row.get("name").asText().equals("listed") && row.get("partitions").asInt() == 4;
        }
        assertTrue(found, json.out());
    }

    @Test
    void shouldListAndDescribeTheTopicsARegularExpressionMatchesAsKafkaTopicsDoes() throws Exception {
        for (String name : List.of("rx.orders", "rx.payments", "rxorders", "other.rx")) {
            assertEquals(0, topics("create", name, "--partitions", "1").exitCode());
        }
        assertEquals(List.of("rx.orders", "rx.payments"), names(topics("list", "--topic", "rx\\..*", "--output",
                "json")));
        // kafka-topics.sh's include list: commas are alternatives, surrounding quotes are dropped.
        Cli.Result either = topics("list", "--topic", "'rxorders,other.rx'");
        assertEquals(List.of("other.rx", "rxorders"), either.out().lines().skip(1)
                .map(l -> l.split("\\s+")[0]).toList(), either.toString());

        // An existing name is that topic alone (one JSON object); anything else is matched as a pattern.
        JsonNode exact = JSON.readTree(topics("describe", "--topic", "rxorders", "--output", "json").out());
        assertEquals("rxorders", exact.get("name").asText());
        assertEquals(List.of("rx.orders", "rx.payments"), names(topics("describe", "--topic", "rx.orders|rx.pay.*",
                "--output", "json")));
        Cli.Result table = topics("describe", "--topic", "rx.pay.*");
        assertTrue(table.out().startsWith("Topic: rx.payments\t"), table.out());

        Cli.Result none = topics("describe", "--topic", "rx.none.*");
        assertEquals(ExitCodes.ERROR, none.exitCode(), none.toString());
        assertEquals("error: no topic matches --topic 'rx.none.*'\n", none.err());
    }

    /** The "name" of each topic in a command's JSON list, in order; the command must have succeeded. */
    private static List<String> names(Cli.Result json) throws Exception {
        assertEquals(0, json.exitCode(), json.toString());
        List<String> names = new ArrayList<>();
        JSON.readTree(json.out()).forEach(topic -> names.add(topic.get("name").asText()));
        return names;
    }

    @Test
    void shouldTakeTheBrokersDefaultPartitionCountWhenNoneIsGiven() throws Exception {
        assertEquals(0, topics("create", "defaults").exitCode());
        try (Admin admin = admin()) {
            assertEquals(2, admin.describeTopics(List.of("defaults")).allTopicNames().get().get("defaults")
                    .partitions().size());
        }
    }

    @Test
    void shouldExitOneWithAClearMessageForAnUnknownTopic() {
        Cli.Result described = topics("describe", "--topic", "no-such-topic");
        assertEquals(ExitCodes.ERROR, described.exitCode());
        assertEquals("error: topic 'no-such-topic' does not exist\n", described.err());
        assertEquals("", described.out());
        assertEquals(ExitCodes.ERROR, topics("delete", "no-such-topic").exitCode());
        assertEquals(ExitCodes.OK, topics("delete", "no-such-topic", "--if-exists").exitCode());
        assertEquals(ExitCodes.ERROR, topics("alter", "no-such-topic", "--config", "retention.ms=1").exitCode());
    }

    @Test
    void shouldRefuseToCreateATopicTwiceUnlessIfNotExists() {
        assertEquals(0, topics("create", "twice").exitCode());
        Cli.Result again = topics("create", "twice");
        assertEquals(ExitCodes.ERROR, again.exitCode());
        assertTrue(again.err().startsWith("error: creating topic 'twice': TOPIC_ALREADY_EXISTS"), again.err());
        assertEquals(ExitCodes.OK, topics("create", "twice", "--if-not-exists").exitCode());
    }

    @Test
    void shouldReportTheBrokersReasonForAnInvalidConfig() {
        Cli.Result bad = topics("create", "bad-config", "--config", "cleanup.policy=sometimes");
        assertEquals(ExitCodes.ERROR, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("INVALID_CONFIG"), bad.err());
    }

    @Test
    void shouldSetAndRemoveConfigsAndAddPartitions() throws Exception {
        assertEquals(0, topics("create", "altered", "--partitions", "1").exitCode());
        Cli.Result set = topics("alter", "--topic", "altered", "--config", "retention.ms=1000",
                "--config", "max.message.bytes=2048");
        assertEquals(0, set.exitCode(), set.toString());
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "altered");
        try (Admin admin = admin()) {
            assertEquals("1000", admin.describeConfigs(List.of(resource)).all().get().get(resource)
                    .get("retention.ms").value());
        }
        assertEquals(0, topics("alter", "altered", "--delete-config", "retention.ms").exitCode());
        JsonNode configs = JSON.readTree(topics("describe", "altered", "-o", "json").out()).get("configs");
        assertEquals(Set.of("max.message.bytes"), Set.copyOf(iterable(configs.fieldNames())));

        Cli.Result grown = topics("add-partitions", "altered", "--partitions", "3");
        assertEquals(0, grown.exitCode(), grown.toString());
        assertEquals("Topic altered now has 3 partitions.\n", grown.out());
        assertEquals(0, topics("alter", "altered", "--partitions", "4").exitCode());
        try (Admin admin = admin()) {
            assertEquals(4, admin.describeTopics(List.of("altered")).allTopicNames().get().get("altered")
                    .partitions().size());
        }
        Cli.Result shrink = topics("add-partitions", "altered", "--partitions", "2");
        assertEquals(ExitCodes.ERROR, shrink.exitCode());
        assertTrue(shrink.err().contains("can only grow"), shrink.err());
    }

    @Test
    void shouldDeleteATopic() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("doomed", 1, (short) 1))).all().get();
        }
        Cli.Result deleted = topics("delete", "--topic", "doomed");
        assertEquals(0, deleted.exitCode(), deleted.toString());
        assertEquals("Deleted topic doomed.\n", deleted.out());
        try (Admin admin = admin()) {
            long deadline = System.currentTimeMillis() + 10_000;
            while (admin.listTopics().names().get().contains("doomed") && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(admin.listTopics().names().get().contains("doomed"));
        }
    }

    @Test
    void shouldExitTwoWhenNoBrokerAnswers() throws Exception {
        Cli.Result result = Cli.run("topics", "list", "--bootstrap-server", "127.0.0.1:" + Cli.closedPort());
        assertEquals(ExitCodes.UNREACHABLE, result.exitCode());
        assertTrue(result.err().startsWith("error: cannot reach any bootstrap server"), result.err());
    }

    @Test
    void shouldExitWithUsageErrorForBadFlagsAndMissingTopic() {
        assertEquals(ExitCodes.USAGE, topics("create", "--partitions", "x", "t").exitCode());
        Cli.Result noTopic = topics("create");
        assertEquals(ExitCodes.USAGE, noTopic.exitCode());
        assertTrue(noTopic.err().contains("a topic is required"), noTopic.err());
        assertEquals(ExitCodes.USAGE, Cli.run("topics").exitCode());
        assertEquals(ExitCodes.USAGE, topics("list", "--output", "xml").exitCode());
    }

    private static List<String> iterable(java.util.Iterator<String> names) {
        List<String> list = new java.util.ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }
}
