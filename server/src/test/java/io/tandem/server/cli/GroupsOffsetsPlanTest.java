package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.junit.TandemExtension;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-consumer-groups.sh's plan files ({@code --export}, {@code --from-file}), {@code --all-groups} on
 * reset-offsets and delete, and {@code --delete-offsets}, against a real node; what the CLI committed or deleted is
 * read back with Kafka's own Admin.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GroupsOffsetsPlanTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("group.initial.rebalance.delay.ms", "0")
            .set("offsets.topic.num.partitions", "1"));

    @TempDir
    Path dir;

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

    /** A two-partition topic with {@code perPartition} records in each. */
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

    private static void commit(String group, String topic, long p0, long p1) throws Exception {
        try (Admin admin = admin()) {
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(p0),
                    new TopicPartition(topic, 1), new OffsetAndMetadata(p1))).all().get();
        }
    }

    /** The group's committed offsets of {@code topic}, partition 0 then 1 (-1: none). */
    private static List<Long> committed(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            List<Long> result = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                OffsetAndMetadata offset = offsets.get(new TopicPartition(topic, p));
                result.add(offset == null ? -1 : offset.offset());
            }
            return result;
        }
    }

    private static List<String> groupIds() throws Exception {
        try (Admin admin = admin()) {
            return admin.listConsumerGroups().all().get().stream().map(g -> g.groupId()).sorted().toList();
        }
    }

    @Test
    @Order(1) // --all-groups must see only this test's groups
    void shouldExportAPlanAndResetFromItForOneGroupAndForAll() throws Exception {
        topicWithRecords("planned", 5);
        commit("plan-a", "planned", 1, 2);
        commit("plan-b", "planned", 3, 4);

        // One group: Kafka's topic,partition,offset lines, no header; a dry run changes nothing.
        Cli.Result exported = groups("reset-offsets", "--group", "plan-a", "--topic", "planned", "--to-latest",
                "--export");
        assertEquals(0, exported.exitCode(), exported.toString());
        assertEquals("planned,0,5\nplanned,1,5\n", exported.out());
        assertEquals(List.of(1L, 2L), committed("plan-a", "planned"));

        // The file read back, with an offset past the log end kept at the end (with a warning), as Kafka does.
        Path plan = Files.writeString(dir.resolve("plan-a.csv"), "planned,0,4\nplanned,1,9\n");
        Cli.Result fromFile = groups("reset-offsets", "--group", "plan-a", "--from-file", plan.toString(),
                "--execute");
        assertEquals(0, fromFile.exitCode(), fromFile.toString());
        assertTrue(fromFile.out().lines().anyMatch(l -> l.matches("plan-a\\s+planned\\s+1\\s+5")), fromFile.out());
        assertTrue(fromFile.err().contains("offset 9 of planned-1 is outside 0..5; using 5"), fromFile.err());
        assertEquals(List.of(4L, 5L), committed("plan-a", "planned"));

        // Every group: the group column, in group order; the export feeds --from-file for several groups.
        Cli.Result all = groups("reset-offsets", "--all-groups", "--topic", "planned", "--shift-by", "-1",
                "--export");
        assertEquals(0, all.exitCode(), all.toString());
        assertEquals("plan-a,planned,0,3\nplan-a,planned,1,4\nplan-b,planned,0,2\nplan-b,planned,1,3\n", all.out());
        Path allPlan = Files.writeString(dir.resolve("all.csv"), all.out());
        Cli.Result both = groups("reset-offsets", "--group", "plan-a", "--group", "plan-b", "--from-file",
                allPlan.toString(), "--execute");
        assertEquals(0, both.exitCode(), both.toString());
        assertEquals(List.of(3L, 4L), committed("plan-a", "planned"));
        assertEquals(List.of(2L, 3L), committed("plan-b", "planned"));

        // A group the file has no plan for: Kafka's error; the others are still reset.
        Cli.Result missing = groups("reset-offsets", "--group", "plan-a", "--group", "plan-c", "--from-file",
                allPlan.toString(), "--to-earliest");
        assertEquals(ExitCodes.USAGE, missing.exitCode(), "one scenario only: " + missing);
        Cli.Result partly = groups("reset-offsets", "--group", "plan-c", "--group", "plan-b", "--from-file",
                plan.toString(), "--execute");
        assertEquals(ExitCodes.USAGE, partly.exitCode(), partly.toString());
        assertTrue(partly.err().contains("error: line 1 of " + plan + " is not group,topic,partition,offset"),
                "a three-column file names one group only: " + partly.err());
        Path mixed = Files.writeString(dir.resolve("mixed.csv"), "plan-b,planned,0,0\nplan-b,planned,1,1\n");
        Cli.Result oneMissing = groups("reset-offsets", "--group", "plan-c", "--group", "plan-b", "--from-file",
                mixed.toString(), "--execute");
        assertEquals(ExitCodes.ERROR, oneMissing.exitCode(), oneMissing.toString());
        assertTrue(oneMissing.err().contains("error: No reset plan for group plan-c found"), oneMissing.err());
        assertEquals(List.of(0L, 1L), committed("plan-b", "planned"), "the other group was reset");

        // Delete every consumer group: Kafka's line, and none is left.
        Cli.Result deleted = groups("delete", "--all-groups");
        assertEquals(0, deleted.exitCode(), deleted.toString());
        assertEquals("Deletion of requested consumer groups ('plan-a', 'plan-b') was successful.\n",
                deleted.out());
        assertFalse(groupIds().contains("plan-a") || groupIds().contains("plan-b"), groupIds().toString());
        assertEquals(ExitCodes.USAGE, groups("delete", "--all-groups", "--group", "plan-a").exitCode());
    }

    @Test
    @Order(2)
    void shouldDeleteOffsetsOfPartitionsButNotOfASubscribedTopic() throws Exception {
        topicWithRecords("pruned", 3);
        commit("pruning", "pruned", 1, 2);
        Cli.Result one = groups("delete-offsets", "--group", "pruning", "--topic", "pruned:0", "--topic",
                "never-made");
        assertEquals(ExitCodes.ERROR, one.exitCode(), "the unknown topic's row failed: " + one);
        List<String> lines = one.out().lines().toList();
        assertEquals("Request succeeded for deleting offsets from group pruning.", lines.get(0), one.out());
        assertTrue(lines.get(1).matches("TOPIC\\s+PARTITION\\s+STATUS"), one.out());
        assertTrue(lines.get(2).matches("never-made\\s+-\\s+Error: UNKNOWN_TOPIC_OR_PARTITION: .*"), one.out());
        assertTrue(lines.get(3).matches("pruned\\s+0\\s+Successful"), one.out());
        assertEquals(List.of(-1L, 2L), committed("pruning", "pruned"));

        Cli.Result rest = groups("delete-offsets", "--group", "pruning", "--topic", "pruned");
        assertEquals(0, rest.exitCode(), rest.toString());
        assertEquals(List.of(-1L, -1L), committed("pruning", "pruned"));

        assertEquals(ExitCodes.ERROR, groups("delete-offsets", "--group", "nobody-here", "--topic", "pruned")
                .exitCode());

        // A member subscribed to the topic: Kafka keeps those offsets (GROUP_SUBSCRIBED_TO_TOPIC).
        Properties p = new Properties();
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "subscribed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("pruned"));
            long deadline = System.currentTimeMillis() + 20_000;
            while (consumer.assignment().isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(100));
            }
            consumer.commitSync(Map.of(new TopicPartition("pruned", 0), new OffsetAndMetadata(1)));
            Cli.Result refused = groups("delete-offsets", "--group", "subscribed", "--topic", "pruned:0");
            assertEquals(ExitCodes.ERROR, refused.exitCode(), refused.toString());
            assertEquals("error: Encountered some partition-level error, see the follow-up details.\n",
                    refused.err());
            assertTrue(refused.out().lines().anyMatch(l -> l.matches(
                    "pruned\\s+0\\s+Error: GROUP_SUBSCRIBED_TO_TOPIC: .*")), refused.out());
            assertEquals(1L, committed("subscribed", "pruned").get(0));
        }
    }
}
