package io.tandem.compat.kafka.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import io.tandem.server.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The Kafka side of the {@code tandem} CLI run against Apache Kafka (the kafka-clients version's broker, KRaft) and
 * against Tandem, step by step, with the same arguments: the outputs must be the same once what legitimately differs
 * is masked (topic ids, broker ids, which differ by configuration, and the coordinator's host). The CLI speaks the
 * wire only, so this is as much a test of the CLI against any Kafka as of Tandem's answers against Apache's.
 */
class KafkaCliSideBySideTest {
    private static KafkaTarget apache;
    private static KafkaTarget tandem;
    private static Path work;

    @BeforeAll
    static void start() throws Exception {
        work = ApacheKafkaLauncher.moduleDir().resolve("target").resolve("kafka-cli-side-by-side-"
                + KafkaTargetExtension.uniqueSuffix());
        apache = ApacheKafkaTarget.start(work.resolve("apache"));
        tandem = TandemKafkaTarget.start(work.resolve("tandem"));
    }

    @AfterAll
    static void stop() {
        if (apache != null) apache.close();
        if (tandem != null) tandem.close();
    }

    record Result(int exitCode, String out, String err) {
    }

    private static Result run(KafkaTarget target, String... args) {
        List<String> full = new ArrayList<>(List.of(args));
        // The connection flag goes after the subcommand(s): the first argument that is a flag.
        int at = 0;
        while (at < full.size() && !full.get(at).startsWith("-")) at++;
        full.add(at, "--bootstrap-server=" + target.bootstrapServers());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(full.toArray(String[]::new));
        return new Result(exitCode, out.toString(), err.toString());
    }

    /** Runs the step on both, masks both outputs alike and compares exit code, stdout and stderr. */
    private static Result same(UnaryOperator<String> mask, String... args) {
        Result onApache = run(apache, args);
        Result onTandem = run(tandem, args);
        String step = String.join(" ", args);
        assertEquals(onApache.exitCode(), onTandem.exitCode(), step + "\napache: " + onApache + "\ntandem: " + onTandem);
        assertEquals(mask.apply(onApache.out()), mask.apply(onTandem.out()), step + " (stdout)");
        assertEquals(mask.apply(onApache.err()), mask.apply(onTandem.err()), step + " (stderr)");
        return onTandem;
    }

    private static Result same(String... args) {
        return same(UnaryOperator.identity(), args);
    }

    /** Topic ids are random; broker ids are each server's own (Apache's node.id 1, Tandem's broker.id 0). */
    private static String maskIds(String text) {
        return text.replaceAll("TopicId: \\S+", "TopicId: <id>")
                .replaceAll("(?m)^(\\d+)\\s+\\d+\\s+\\d+\\s+\\d+\\s*$", "$1 <leader> <replicas> <isr>");
    }

    @Test
    void shouldAnswerEveryStepAsApacheKafkaDoes() throws Exception {
        assertEquals(0, same("topics", "create", "--topic", "cli-side", "--partitions", "2",
                "--replication-factor", "1").exitCode());
        // Each step's own check keeps a step from passing only because both sides failed alike.
        assertEquals(1, same("topics", "create", "--topic", "cli-side", "--partitions", "2", "--replication-factor",
                "1").exitCode());
        assertTrue(same("topics", "list", "--exclude-internal").out().contains("cli-side  2"));
        assertTrue(same(KafkaCliSideBySideTest::maskIds, "topics", "describe", "--topic", "cli-side").out()
                .startsWith("Topic: cli-side\t"));
        assertEquals(1, same("topics", "describe", "--topic", "no-such-topic").exitCode());

        Path input = Files.writeString(work.resolve("records.txt"), "k1:v1\nk2:v2\nk3:v3\nk4:v4\nk5:v5\nk6:v6\n");
        assertEquals(0, same("produce", "--topic", "cli-side", "--file", input.toString(), "--property",
                "parse.key=true", "--property", "key.separator=:", "--quiet").exitCode());
        // Keys choose partitions with Kafka's murmur2 on the client side, so both servers hold the same records.
        long read = same("consume", "--topic", "cli-side", "--partition", "0", "--from-beginning", "--exit-at-end",
                "--property", "print.key=true").out().lines().count();
        read += same("consume", "--topic", "cli-side", "--partition", "1", "--from-beginning", "--exit-at-end",
                "--property", "print.key=true").out().lines().count();
        assertEquals(6, read, "every record, once");
        assertEquals(4, same(text -> text.lines().sorted().reduce("", (a, b) -> a + b + "\n"), "consume", "--topic", "cli-side",
                "--from-beginning", "--max-messages", "4", "--group", "cli-side-readers").out().lines().count());
        assertTrue(same(text -> text.replaceAll("(?m)^(\\S+\\s+\\S+\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+)\\s+.*$", "$1"),
                "groups", "describe", "--group", "cli-side-readers").out().contains("cli-side-readers  cli-side"));

        // kafka-consumer-groups.sh --list: the one group on each.
        assertTrue(same("groups", "list").out().contains("\ncli-side-readers  Empty"), "the group, empty now");

        // kafka-topics.sh's replication reports: one broker, replication factor 1 and min.insync.replicas 1, so
        // every partition is at its minimum ISR and none is under-replicated, on both.
        UnaryOperator<String> maskReportIds = text -> text.replaceAll("(?m)^(cli-side\\s+\\d+)\\s+.*$", "$1");
        assertEquals(3, same(maskReportIds, "topics", "describe", "--topic", "cli-side", "--at-min-isr-partitions")
                .out().lines().count(), "the header and both partitions");
        assertEquals("", same("topics", "describe", "--topic", "cli-side", "--under-replicated-partitions",
                "--unavailable-partitions", "--under-min-isr-partitions").out());
        // kafka-consumer-groups.sh's time-based and current resets, dry runs: the group's committed offsets, and
        // the first records of the last hour (every record here).
        assertTrue(same("groups", "reset-offsets", "--group", "cli-side-readers", "--topic", "cli-side",
                "--to-current").out().startsWith("GROUP"));
        assertTrue(same("groups", "reset-offsets", "--group", "cli-side-readers", "--topic", "cli-side",
                "--by-duration", "PT1H").out().contains("cli-side-readers  cli-side  0          0"));

        same("configs", "--entity-type", "topics", "--entity-name", "cli-side", "--alter", "--add-config",
                "cleanup.policy=compact,max.message.bytes=2048");
        String described = same("configs", "--entity-type", "topics", "--entity-name", "cli-side", "--describe").out();
        assertTrue(described.contains("  cleanup.policy=compact sensitive=false")
                && described.contains("  max.message.bytes=2048 sensitive=false"), described);
        same("configs", "--entity-type", "topics", "--entity-name", "cli-side", "--alter", "--delete-config",
                "max.message.bytes");
        same("configs", "--entity-type", "topics", "--entity-name", "cli-side", "--describe");
        same("configs", "--entity-type", "users", "--entity-name", "alice", "--alter", "--add-config",
                "producer_byte_rate=1024");
        assertEquals("Quota configs for user-principal 'alice' are producer_byte_rate=1024.0\n",
                same("configs", "--entity-type", "users", "--entity-name", "alice", "--describe").out());
        // An unknown topic: both answer UNKNOWN_TOPIC_OR_PARTITION with the code alone (Kafka's ConfigHelper), so
        // the CLI prints Kafka's text for the code on both.
        assertEquals(1, same("configs", "--entity-type", "topics", "--entity-name", "never-created", "--describe")
                .exitCode());

        // kafka-consumer-groups.sh's writes: a reset applied, a plan exported, offsets of one partition deleted, and
        // the group deleted, each with Kafka's lines.
        assertTrue(same("groups", "reset-offsets", "--group", "cli-side-readers", "--topic", "cli-side",
                "--to-earliest", "--execute").out().contains("cli-side-readers  cli-side  1          0"));
        assertEquals("cli-side,0,0\ncli-side,1,0\n", same("groups", "reset-offsets", "--group", "cli-side-readers",
                "--topic", "cli-side", "--to-current", "--export").out());
        // --from-file: a plan in the exported CSV shape, kept within each partition's log, as a dry run and applied.
        Path plan = Files.writeString(work.resolve("plan.csv"), "cli-side,0,1\ncli-side,1,1\n");
        assertTrue(same("groups", "reset-offsets", "--group", "cli-side-readers", "--from-file", plan.toString())
                .out().startsWith("GROUP"));
        assertTrue(same("groups", "reset-offsets", "--group", "cli-side-readers", "--from-file", plan.toString(),
                "--execute").out().startsWith("GROUP"));
        assertEquals("cli-side,0,1\ncli-side,1,1\n", same("groups", "reset-offsets", "--group", "cli-side-readers",
                "--topic", "cli-side", "--to-current", "--export").out(), "the plan was applied alike");
        assertTrue(same("groups", "delete-offsets", "--group", "cli-side-readers", "--topic", "cli-side:0").out()
                .startsWith("Request succeeded for deleting offsets from group cli-side-readers.\n"));
        assertEquals("Deletion of requested consumer groups ('cli-side-readers') was successful.\n",
                same("groups", "delete", "--group", "cli-side-readers").out());
        assertEquals(1, same("groups", "delete", "--group", "cli-side-readers").exitCode(), "gone");

        // kafka-topics.sh's alter and delete.
        assertEquals(0, same("topics", "alter", "cli-side", "--partitions", "3").exitCode());
        assertTrue(same(KafkaCliSideBySideTest::maskIds, "topics", "describe", "--topic", "cli-side").out()
                .contains("PartitionCount: 3"));
        assertEquals(0, same("topics", "delete", "cli-side").exitCode());
        assertEquals(1, same("topics", "delete", "cli-side").exitCode(), "gone");
    }

    /**
     * {@code tandem perf} against Apache Kafka as against Tandem: the counts of a paced produce with a warm-up, and
     * of the consume that reads it all back in a group, must be the same (the figures of speed differ and are masked
     * out: only the counting lines of the JSON are compared).
     */
    @Test
    void shouldCountThePerfLoadsAsOnApacheKafka() {
        UnaryOperator<String> counts = text -> text.lines()
                .filter(line -> line.matches("\\s*\"(records|warmupRecords|recordSize|bytes)\" : .*"))
                .reduce("", (a, b) -> a + b.trim() + "\n");
        assertEquals(0, same("topics", "create", "--topic", "perf-side", "--partitions", "2",
                "--replication-factor", "1").exitCode());
        Result produced = same(counts, "perf", "produce", "--topic", "perf-side", "--num-records", "500",
                "--warmup-records", "100", "--record-size", "50", "--throughput", "2000", "--batch-records", "20",
                "--output", "json");
        assertEquals("\"records\" : 400,\n\"warmupRecords\" : 100,\n\"recordSize\" : 50,\n",
                counts.apply(produced.out()));
        Result consumed = same(counts, "perf", "consume", "--topic", "perf-side", "--messages", "500", "--group",
                "perf-side-readers", "--output", "json");
        assertEquals("\"records\" : 500,\n\"bytes\" : 25000,\n", counts.apply(consumed.out()));
        assertEquals(0, same("topics", "delete", "perf-side").exitCode());
    }

    /**
     * kafka-console-consumer.sh's --isolation-level and --include, kafka-consumer-groups.sh's --list --state and
     * kafka-configs.sh's entity flags, on records Kafka's own transactional producer wrote to each server alike.
     */
    @Test
    void shouldReadCommittedAcrossIncludedTopicsAsOnApacheKafka() throws Exception {
        for (String topic : List.of("txn-side-a", "txn-side-b")) {
            assertEquals(0, same("topics", "create", "--topic", topic, "--partitions", "1", "--replication-factor",
                    "1").exitCode());
        }
        for (KafkaTarget target : List.of(apache, tandem)) {
            writeTransactions(target);
        }
        UnaryOperator<String> sorted = text -> text.lines().sorted().reduce("", (a, b) -> a + b + "\n");
        assertEquals("b0\nc1\np0\n", sorted.apply(same(sorted, "consume", "--include", "txn-side-.*",
                "--from-beginning", "--exit-at-end", "--isolation-level", "read_committed").out()));
        assertEquals("a1\nb0\nc1\np0\n", sorted.apply(same(sorted, "consume", "--include", "txn-side-.*",
                "--from-beginning", "--exit-at-end").out()));
        assertEquals(1, same("consume", "--include", "none-such-.*").exitCode());

        // retention.ms lists the topic's override alone: Kafka drops the log.retention.hours default behind it.
        assertTrue(same("configs", "--topic", "txn-side-a", "--alter", "--add-config",
                "segment.bytes=2097152,retention.ms=3600000").out()
                .startsWith("Completed updating config for topic txn-side-a."));
        String txnDescribed = same("configs", "--topic", "txn-side-a", "--describe").out();
        assertTrue(txnDescribed.contains("  segment.bytes=2097152")
                && txnDescribed.contains("  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
                + "retention.ms=3600000}\n"), txnDescribed);
        assertEquals("GROUP  STATE  PROTOCOL-TYPE\n", same("groups", "list", "--state", "Stable").out()
                .replaceAll(" +", "  "), "no group is Stable on either");
        assertEquals(64, same("groups", "list", "--state", "Sleeping").exitCode());
        for (String topic : List.of("txn-side-a", "txn-side-b")) {
            assertEquals(0, same("topics", "delete", topic).exitCode());
        }
    }

    @Test
    void shouldShareAGroupBetweenTwoConsumeMembersAsOnApacheKafka() throws Exception {
        assertEquals(0, same("topics", "create", "--topic", "share-side", "--partitions", "2", "--replication-factor",
                "1").exitCode());
        java.util.Map<KafkaTarget, List<java.util.concurrent.CompletableFuture<Result>>> members =
                new java.util.LinkedHashMap<>();
        for (KafkaTarget target : List.of(apache, tandem)) {
            List<java.util.concurrent.CompletableFuture<Result>> both = new ArrayList<>();
            for (int m = 0; m < 2; m++) {
                both.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> run(target, "consume",
                        "share-side", "--group", "share-side-g", "--from-beginning", "--timeout-ms", "8000"),
                        command -> new Thread(command, "share-side-member").start()));
            }
            members.put(target, both);
        }
        for (KafkaTarget target : List.of(apache, tandem)) {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            // Two members, one partition each, before anything is written.
            while (membersOwningOnePartition(target) != 2 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            Properties plain = new Properties();
            plain.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(plain, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("share-side", i % 2, null, "s" + i)).get();
                }
            }
        }
        for (KafkaTarget target : List.of(apache, tandem)) {
            List<String> all = new ArrayList<>();
            for (java.util.concurrent.CompletableFuture<Result> member : members.get(target)) {
                Result result = member.get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(0, result.exitCode(), result.toString());
                assertEquals(5, result.out().lines().count(), target + ": one partition each: " + result);
                all.addAll(result.out().lines().toList());
            }
            all.sort(null);
            assertEquals(List.of("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"), all,
                    target + ": each record read once across the two members");
        }
        assertEquals(0, same("topics", "delete", "share-side").exitCode());
    }

    /** The members of share-side-g that own exactly one partition of share-side, per `groups describe --members`. */
    private static long membersOwningOnePartition(KafkaTarget target) {
        return run(target, "groups", "describe", "--group", "share-side-g", "--members").out().lines()
                .map(line -> line.trim().split("\\s+"))
                .filter(cols -> cols[cols.length - 1].matches("share-side-[01]")).count();
    }

    /** On one server: a plain record, an aborted and a committed transaction, and a plain record on topic b. */
    private static void writeTransactions(KafkaTarget target) throws Exception {
        Properties plain = new Properties();
        plain.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(plain, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>("txn-side-a", "p0")).get();
            producer.send(new ProducerRecord<>("txn-side-b", "b0")).get();
        }
        Properties transactional = new Properties();
        transactional.putAll(plain);
        transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "cli-side-txn");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(transactional, new StringSerializer(),
                new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("txn-side-a", "a1")).get();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("txn-side-a", "c1")).get();
            producer.commitTransaction();
        }
    }
}
