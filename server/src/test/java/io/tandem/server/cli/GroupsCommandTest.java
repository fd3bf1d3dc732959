package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.junit.TandemExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code tandem groups} against a real node with groups made by Kafka's own consumer. */
class GroupsCommandTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("group.initial.rebalance.delay.ms", "0")
            .set("offsets.topic.num.partitions", "1"));

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String bootstrap() {
        return tandem.tandem().bootstrapServers();
    }

    private static Cli.Result groups(String... args) {
        List<String> full = new ArrayList<>(List.of("groups", args[0], "--bootstrap-server", bootstrap()));
        full.addAll(List.of(args).subList(1, args.length));
        return Cli.run(full.toArray(String[]::new));
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    /** A topic with {@code perPartition} records in each of its two partitions. */
    private static void topicWithRecords(String topic, int perPartition) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < perPartition; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, "a" + i)).get();
                producer.send(new ProducerRecord<>(topic, 1, null, "b" + i)).get();
            }
        }
    }

    private static KafkaConsumer<String, String> member(String group, String topic) {
        return member(group, topic, "classic");
    }

    private static KafkaConsumer<String, String> member(String group, String topic, String protocol) {
        Properties p = new Properties();
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "member-of-" + group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer());
        consumer.subscribe(List.of(topic));
        long deadline = System.currentTimeMillis() + 20_000;
        while (consumer.assignment().isEmpty() && System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(100));
        }
        return consumer;
    }

    private static void commit(String group, String topic, long p0, long p1) throws Exception {
        try (Admin admin = admin()) {
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(p0),
                    new TopicPartition(topic, 1), new OffsetAndMetadata(p1))).all().get();
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
        try (Admin admin = admin()) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        }
    }

    /** Keeps the member polling until the group is Stable with every partition assigned (a rejoin may follow). */
    private static void awaitStable(KafkaConsumer<String, String> consumer, String group) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(100));
            JsonNode json = JSON.readTree(groups("describe", "--group", group, "-o", "json").out());
            boolean assigned = json.get("partitions").size() > 0;
            for (JsonNode row : json.get("partitions")) {
                assigned &= !row.get("consumerId").isNull();
            }
            if (assigned && json.get("state").asText().equals("Stable")) {
                return;
            }
        }
        throw new AssertionError("group " + group + " never became Stable with its partitions assigned");
    }

    @Test
    void shouldDescribeLagPerPartitionWithTheMemberReadingIt() throws Exception {
        topicWithRecords("lagging", 5);
        try (KafkaConsumer<String, String> consumer = member("analytics", "lagging")) {
            consumer.commitSync(Map.of(new TopicPartition("lagging", 0), new OffsetAndMetadata(2),
                    new TopicPartition("lagging", 1), new OffsetAndMetadata(5)));
            awaitStable(consumer, "analytics");
            Cli.Result described = groups("describe", "--group", "analytics");
            assertEquals(0, described.exitCode(), described.toString());
            List<String> lines = described.out().lines().toList();
            assertTrue(lines.get(0).matches("GROUP\\s+TOPIC\\s+PARTITION\\s+CURRENT-OFFSET\\s+LOG-END-OFFSET\\s+LAG"
                    + "\\s+CONSUMER-ID\\s+HOST\\s+CLIENT-ID"), lines.get(0));
            assertTrue(lines.get(1).matches("analytics\\s+lagging\\s+0\\s+2\\s+5\\s+3\\s+\\S+\\s+\\S+\\s+"
                    + "member-of-analytics"), lines.get(1));
            assertTrue(lines.get(2).matches("analytics\\s+lagging\\s+1\\s+5\\s+5\\s+0\\s+.*"), lines.get(2));

            JsonNode json = JSON.readTree(groups("describe", "--group", "analytics", "-o", "json").out());
            assertEquals("Stable", json.get("state").asText());
            assertEquals(3, json.get("partitions").get(0).get("lag").asLong());

            Cli.Result membersTable = groups("describe", "--group", "analytics", "--members");
            assertTrue(membersTable.out().contains("lagging-0,lagging-1"), membersTable.out());
            Cli.Result state = groups("describe", "--group", "analytics", "--state");
            assertTrue(state.out().lines().skip(1).findFirst().orElseThrow()
                    .matches("analytics\\s+\\S+ \\(\\d+\\)\\s+range\\s+Stable\\s+1"), state.out());

            Cli.Result list = groups("list");
            assertTrue(list.out().lines().anyMatch(l -> l.matches("analytics\\s+Stable\\s+consumer")), list.out());
            // kafka-consumer-groups.sh --list --state: a filter of states in any case; no value, no filter.
            Cli.Result stable = groups("list", "--state", "stable,Empty");
            assertTrue(stable.out().lines().anyMatch(l -> l.matches("analytics\\s+Stable\\s+consumer")),
                    stable.toString());
            Cli.Result onlyEmpty = groups("list", "--state", "Empty", "-o", "json");
            assertEquals(0, onlyEmpty.exitCode(), onlyEmpty.toString());
            for (JsonNode group : JSON.readTree(onlyEmpty.out())) {
                assertEquals("Empty", group.get("state").asText(), onlyEmpty.out());
            }
            assertEquals(list.out(), groups("list", "--state").out());
            Cli.Result badState = groups("list", "--state", "Stable,Sleeping");
            assertEquals(ExitCodes.USAGE, badState.exitCode(), badState.toString());
            assertTrue(badState.err().contains("Invalid state list 'Stable,Sleeping'. Valid states are: "),
                    badState.err());

            Cli.Result refused = groups("reset-offsets", "--group", "analytics", "--topic", "lagging",
                    "--to-earliest", "--execute");
            assertEquals(ExitCodes.ERROR, refused.exitCode());
            // Kafka's words (ConsumerGroupCommand.resetOffsets).
            assertTrue(refused.err().contains("Assignments can only be reset if the group 'analytics' is inactive,"
                    + " but the current state is Stable."), refused.err());
            Cli.Result deleteActive = groups("delete", "--group", "analytics");
            assertEquals(ExitCodes.ERROR, deleteActive.exitCode());
            assertTrue(deleteActive.err().contains("NON_EMPTY_GROUP"), deleteActive.err());
        }
        Cli.Result nowEmpty = groups("list", "--state", "Empty");
        assertTrue(nowEmpty.out().lines().anyMatch(l -> l.matches("analytics\\s+Empty\\s+consumer")),
                nowEmpty.toString());
        Cli.Result empty = groups("describe", "--group", "analytics");
        assertEquals("Consumer group 'analytics' has no active members.\n", empty.err());
        assertTrue(empty.out().lines().skip(1).allMatch(l -> l.matches(".*\\s-\\s+-\\s+-")), empty.out());
    }

    @Test
    void shouldDescribeAConsumerProtocolGroupWithItsMembersPartitionsAndLag() throws Exception {
        topicWithRecords("kip848", 4);
        try (KafkaConsumer<String, String> consumer = member("newstyle", "kip848", "consumer")) {
            consumer.commitSync(Map.of(new TopicPartition("kip848", 0), new OffsetAndMetadata(1),
                    new TopicPartition("kip848", 1), new OffsetAndMetadata(4)));
            awaitStable(consumer, "newstyle");
            JsonNode json = JSON.readTree(groups("describe", "--group", "newstyle", "-o", "json").out());
            assertEquals(3, json.get("partitions").get(0).get("lag").asLong());
            assertTrue(json.get("partitions").get(0).get("clientId").asText().equals("member-of-newstyle"),
                    json.toString());
            Cli.Result membersTable = groups("describe", "--group", "newstyle", "--members");
            assertTrue(membersTable.out().contains("kip848-0,kip848-1"), membersTable.out());
            Cli.Result state = groups("describe", "--group", "newstyle", "--state");
            assertTrue(state.out().lines().skip(1).findFirst().orElseThrow()
                    .matches("newstyle\\s+\\S+ \\(\\d+\\)\\s+uniform\\s+Stable\\s+1"), state.out());
        }
    }

    @Test
    void shouldResetOffsetsOnlyWithExecute() throws Exception {
        topicWithRecords("resettable", 4);
        commit("batch", "resettable", 1, 2);

        Cli.Result dryRun = groups("reset-offsets", "--group", "batch", "--topic", "resettable", "--to-latest");
        assertEquals(0, dryRun.exitCode(), dryRun.toString());
        assertEquals(List.of("GROUP  TOPIC       PARTITION  NEW-OFFSET", "batch  resettable  0          4",
                "batch  resettable  1          4"), dryRun.out().lines().toList());
        assertEquals(1, committed("batch").get(new TopicPartition("resettable", 0)).offset(),
                "dry run changes nothing");

        assertEquals(0, groups("reset-offsets", "--group", "batch", "--topic", "resettable:1", "--to-earliest",
                "--execute").exitCode());
        assertEquals(1, committed("batch").get(new TopicPartition("resettable", 0)).offset());
        assertEquals(0, committed("batch").get(new TopicPartition("resettable", 1)).offset());

        assertEquals(0, groups("reset-offsets", "--group", "batch", "--all-topics", "--to-offset", "3",
                "--execute").exitCode());
        assertEquals(3, committed("batch").get(new TopicPartition("resettable", 0)).offset());

        Cli.Result shifted = groups("reset-offsets", "--group", "batch", "--all-topics", "--shift-by", "5",
                "--execute");
        assertTrue(shifted.err().contains("outside 0..4; using 4"), shifted.err());
        assertEquals(4, committed("batch").get(new TopicPartition("resettable", 1)).offset());

        assertEquals(ExitCodes.USAGE, groups("reset-offsets", "--group", "batch", "--all-topics").exitCode(),
                "a target is required");
        assertEquals(ExitCodes.USAGE, groups("reset-offsets", "--group", "batch", "--all-topics", "--to-latest",
                "--to-earliest").exitCode());
        assertEquals(ExitCodes.ERROR, groups("reset-offsets", "--group", "batch", "--topic", "missing",
                "--to-latest").exitCode());
    }

    @Test
    void shouldDescribeEveryConsumerGroupWithAllGroupsOrSeveralByName() throws Exception {
        topicWithRecords("everyone", 2);
        commit("all-one", "everyone", 1, 2);
        commit("all-two", "everyone", 2, 0);
        Cli.Result all = groups("describe", "--all-groups", "-o", "json");
        assertEquals(0, all.exitCode(), all.toString());
        JsonNode described = JSON.readTree(all.out());
        Map<String, List<Long>> lags = new java.util.TreeMap<>();
        for (JsonNode group : described) {
            List<Long> lag = new ArrayList<>();
            for (JsonNode partition : group.get("partitions")) {
                if (partition.get("topic").asText().equals("everyone")) {
                    lag.add(partition.get("lag").asLong());
                }
            }
            lags.put(group.get("group").asText(), lag);
        }
        assertEquals(List.of(1L, 0L), lags.get("all-one"), all.out());
        assertEquals(List.of(0L, 2L), lags.get("all-two"), all.out());

        Cli.Result table = groups("describe", "--all-groups");
        assertEquals(0, table.exitCode(), table.toString());
        assertEquals(described.size(), table.out().lines().filter(l -> l.startsWith("GROUP ")).count(),
                "one table per group:\n" + table.out());

        JsonNode two = JSON.readTree(groups("describe", "--group", "all-one", "--group", "all-two", "--state",
                "-o", "json").out());
        assertEquals(2, two.size());
        assertEquals("all-two", two.get(1).get("group").asText());
        assertEquals(ExitCodes.USAGE, groups("describe").exitCode(), "a group or --all-groups is required");
        assertEquals(ExitCodes.USAGE, groups("describe", "--group", "all-one", "--all-groups").exitCode());
    }

    @Test
    void shouldDeleteAnInactiveGroup() throws Exception {
        topicWithRecords("kept", 1);
        commit("leaving", "kept", 1, 1);
        Cli.Result deleted = groups("delete", "--group", "leaving");
        assertEquals(0, deleted.exitCode(), deleted.toString());
        // Kafka's line (ConsumerGroupCommand.deleteGroups).
        assertEquals("Deletion of requested consumer groups ('leaving') was successful.\n", deleted.out());
        try (Admin admin = admin()) {
            assertFalse(admin.listConsumerGroups().all().get().stream()
                    .anyMatch(g -> g.groupId().equals("leaving")));
        }
        Cli.Result again = groups("delete", "--group", "leaving");
        assertEquals(ExitCodes.ERROR, again.exitCode());
        assertTrue(again.err().contains("GROUP_ID_NOT_FOUND"), again.err());
    }

    @Test
    void shouldExitOneForAnUnknownGroup() {
        Cli.Result described = groups("describe", "--group", "nobody");
        assertEquals(ExitCodes.ERROR, described.exitCode());
        assertEquals("error: group 'nobody' does not exist\n", described.err());
    }
}
