package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.junit.TandemExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem consume --group} joins the group as kafka-console-consumer.sh does (io.tandem.kafka.client's
 * ClassicGroupMember over real sockets against a real node), and the consumer properties it honours.
 */
class ConsumeGroupMembershipTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("group.initial.rebalance.delay.ms", "0")
            .set("offsets.topic.num.partitions", "1"));

    @TempDir
    Path dir;

    private static String bootstrap() {
        return tandem.tandem().bootstrapServers();
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()));
    }

    private static void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    /** {@code perPartition} records on each partition, valued prefix-partition-i. */
    private static void produce(String topic, int partitions, int perPartition, String prefix) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, partition, "k" + i, prefix + "-" + partition + "-" + i));
                }
            }
            producer.flush();
        }
    }

    private static Cli.Running start(String... args) {
        List<String> full = new ArrayList<>(List.of("consume", "--bootstrap-server", bootstrap()));
        full.addAll(List.of(args));
        return Cli.start(full.toArray(String[]::new));
    }

    private static Cli.Result run(String... args) {
        List<String> full = new ArrayList<>(List.of("consume", "--bootstrap-server", bootstrap()));
        full.addAll(List.of(args));
        return Cli.run(full.toArray(String[]::new));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static ConsumerGroupDescription describe(String group) {
        try (Admin admin = admin()) {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
        try (Admin admin = admin()) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        }
    }

    @Test
    void shouldSharePartitionsBetweenTwoMembersReadingEachRecordOnceAndLeaveOnExit() throws Exception {
        createTopic("shared", 4);
        produce("shared", 4, 10, "first");
        Cli.Running a = start("shared", "--group", "sharers", "--from-beginning", "--timeout-ms", "4000");
        await("the first member reads all 40 records", () -> a.out().toString().lines().count() == 40);
        ConsumerGroupDescription alone = describe("sharers");
        assertEquals(GroupState.STABLE, alone.groupState());
        assertEquals(GroupType.CLASSIC, alone.type());
        assertEquals("range", alone.partitionAssignor());
        assertEquals(4, alone.members().iterator().next().assignment().topicPartitions().size());

        Cli.Running b = start("shared", "--group", "sharers", "--from-beginning", "--timeout-ms", "4000");
        await("the group rebalances to two members of two partitions each", () -> {
            ConsumerGroupDescription now = describe("sharers");
            if (now.groupState() != GroupState.STABLE || now.members().size() != 2) return false;
            for (MemberDescription member : now.members()) {
                if (member.assignment().topicPartitions().size() != 2) return false;
            }
            return true;
        });
        produce("shared", 4, 10, "second");
        int exitA = a.exitCode().get(60, java.util.concurrent.TimeUnit.SECONDS);
        int exitB = b.exitCode().get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(0, exitA, a.err().toString());
        assertEquals(0, exitB, b.err().toString());
        List<String> lines = new ArrayList<>(a.out().toString().lines().toList());
        List<String> fromB = b.out().toString().lines().toList();
        assertTrue(!fromB.isEmpty(), "the second member read nothing: " + b.err());
        lines.addAll(fromB);
        Set<String> distinct = new HashSet<>(lines);
        assertEquals(80, distinct.size(), "every record read: " + lines);
        assertEquals(80, lines.size(), "no record read twice: " + lines);
        for (String line : fromB) {
            assertTrue(line.startsWith("second-"), "the second member only read records after it joined: " + line);
        }
        // Both left with LeaveGroup: the group is empty at once, not after the 45 s session timeout.
        ConsumerGroupDescription after = describe("sharers");
        assertEquals(GroupState.EMPTY, after.groupState());
        Map<TopicPartition, OffsetAndMetadata> offsets = committed("sharers");
        for (int p = 0; p < 4; p++) {
            assertEquals(20, offsets.get(new TopicPartition("shared", p)).offset(), offsets.toString());
        }
        // kafka-consumer-groups.sh --list --type: the group a tandem consume joined is a classic one.
        Cli.Result classic = Cli.run("groups", "list", "--bootstrap-server", bootstrap(), "--type", "classic");
        assertEquals(0, classic.exitCode(), classic.toString());
        assertTrue(classic.out().startsWith("GROUP"), classic.out());
        assertTrue(classic.out().lines().anyMatch(l -> l.matches("sharers\\s+Classic\\s+Empty\\s+consumer")),
                classic.out());
        Cli.Result consumerType = Cli.run("groups", "list", "--bootstrap-server", bootstrap(), "--type", "Consumer");
        assertTrue(consumerType.out().lines().noneMatch(l -> l.startsWith("sharers")), consumerType.toString());
        Cli.Result share = Cli.run("groups", "list", "--bootstrap-server", bootstrap(), "--type", "share");
        assertEquals(ExitCodes.USAGE, share.exitCode(), share.toString());
        assertTrue(share.err().contains("Invalid types list 'share'. Valid types are: classic, consumer"),
                share.toString());
    }

    @Test
    void shouldShareAGroupWithKafkasOwnConsumer() throws Exception {
        createTopic("mixed", 2);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "mixers");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> java = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            java.subscribe(List.of("mixed"));
            await("Kafka's consumer owns both partitions", () -> {
                java.poll(Duration.ofMillis(100));
                return java.assignment().size() == 2;
            });
            Cli.Running cli = start("mixed", "--group", "mixers", "--from-beginning", "--max-messages", "5",
                    "--timeout-ms", "20000");
            await("Kafka's consumer gives one partition to tandem consume", () -> {
                java.poll(Duration.ofMillis(100));
                return java.assignment().size() == 1 && describe("mixers").members().size() == 2;
            });
            TopicPartition javas = java.assignment().iterator().next();
            produce("mixed", 2, 5, "r");
            List<String> javaRead = new ArrayList<>();
            await("Kafka's consumer reads its partition's 5 records", () -> {
                java.poll(Duration.ofMillis(100)).forEach(r -> javaRead.add(r.value()));
                return javaRead.size() == 5;
            });
            Cli.Result result = cli.get(30_000);
            assertEquals(0, result.exitCode(), result.toString());
            List<String> cliRead = result.out().lines().toList();
            assertEquals(5, cliRead.size(), result.toString());
            int other = 1 - javas.partition();
            for (String value : cliRead) {
                assertTrue(value.startsWith("r-" + other + "-"), "tandem consume read the other partition: " + value);
            }
            await("Kafka's consumer takes both partitions back after tandem consume left", () -> {
                java.poll(Duration.ofMillis(100));
                return java.assignment().size() == 2;
            });
        }
    }

    @Test
    void shouldHonourConsumerPropertiesAndRefuseUnknownOnes() throws Exception {
        createTopic("props", 1);
        produce("props", 1, 3, "p");
        Cli.Result unknown = run("props", "--consumer-property", "key.deserializer=x.Y", "--timeout-ms", "100");
        assertEquals(ExitCodes.USAGE, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().contains("'key.deserializer'"), unknown.toString());

        Path config = dir.resolve("consumer.properties");
        Files.writeString(config, "auto.offset.reset=earliest\nenable.auto.commit=false\nclient.id=from-file\n");
        Cli.Result noCommit = run("props", "--consumer.config", config.toString(), "--group", "nocommit",
                "--timeout-ms", "2000");
        assertEquals(0, noCommit.exitCode(), noCommit.toString());
        assertEquals("p-0-0\np-0-1\np-0-2\n", noCommit.out(), "auto.offset.reset=earliest from the file");
        assertTrue(committed("nocommit").isEmpty(), "enable.auto.commit=false commits nothing");

        Cli.Result grouped = run("props", "--consumer-property", "group.id=viaprop", "--consumer-property",
                "auto.offset.reset=earliest", "--consumer-property", "max.poll.records=1", "--max-messages", "2");
        assertEquals(0, grouped.exitCode(), grouped.toString());
        assertEquals("p-0-0\np-0-1\n", grouped.out());
        assertEquals(2, committed("viaprop").get(new TopicPartition("props", 0)).offset(),
                "group.id from --consumer-property joins and commits on exit");

        Cli.Result mismatch = run("props", "--group", "a", "--consumer-property", "group.id=b", "--timeout-ms", "100");
        assertEquals(ExitCodes.USAGE, mismatch.exitCode(), mismatch.toString());
        assertTrue(mismatch.err().contains("do not match"), mismatch.toString());
        Cli.Result both = run("props", "--from-beginning", "--consumer-property", "auto.offset.reset=latest",
                "--timeout-ms", "100");
        assertEquals(ExitCodes.USAGE, both.exitCode(), both.toString());
        Cli.Result withPartition = run("props", "--group", "a", "--partition", "0", "--timeout-ms", "100");
        assertEquals(ExitCodes.USAGE, withPartition.exitCode(), withPartition.toString());
        assertTrue(withPartition.err().contains("Options group and partition cannot be specified together."),
                withPartition.toString());
    }

    @Test
    void shouldTakeKafkasDefaultMessageFormatterOnly() throws Exception {
        createTopic("formatted", 1);
        produce("formatted", 1, 1, "f");
        Cli.Result formatted = run("formatted", "--from-beginning", "--exit-at-end", "--formatter",
                "org.apache.kafka.tools.consumer.DefaultMessageFormatter", "--formatter-property", "print.key=true",
                "--formatter-property", "key.separator=|", "--property", "print.partition=true",
                "--property", "print.offset=true");
        assertEquals(0, formatted.exitCode(), formatted.toString());
        assertEquals("Partition:0|Offset:0|k0|f-0-0\n", formatted.out());
        Cli.Result other = run("formatted", "--from-beginning", "--exit-at-end", "--formatter",
                "org.apache.kafka.tools.consumer.LoggingMessageFormatter");
        assertEquals(ExitCodes.USAGE, other.exitCode(), other.toString());
        assertTrue(other.err().contains("LoggingMessageFormatter"), other.toString());
    }
}
