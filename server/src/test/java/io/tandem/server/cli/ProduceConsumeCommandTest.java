package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.junit.TandemExtension;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code tandem produce} and {@code tandem consume} against a real node, each checked with Kafka's own clients. */
class ProduceConsumeCommandTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.set("group.initial.rebalance.delay.ms", "0")
            .set("offsets.topic.num.partitions", "1"));

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String bootstrap() {
        return tandem.tandem().bootstrapServers();
    }

    private static void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    private static Cli.Result run(String command, String... args) {
        List<String> full = new ArrayList<>(List.of(command, "--bootstrap-server", bootstrap()));
        full.addAll(List.of(args));
        return Cli.run(full.toArray(String[]::new));
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "checker-" + topic);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 20_000;
            while (records.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static void produceWithKafka(String topic, List<ProducerRecord<String, String>> records) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (ProducerRecord<String, String> record : records) {
                producer.send(record).get();
            }
        }
    }

    @Test
    void shouldProduceKeyedLinesWithHeadersToThePartitionsKafkasPartitionerPicks() throws Exception {
        createTopic("keyed", 3);
        Path input = dir.resolve("input.txt");
        Files.writeString(input, "k1:v1\nk2:v2\nk3:v3\nk1:again\n");
        Cli.Result produced = run("produce", "--topic", "keyed", "--file", input.toString(), "--key-separator", ":",
                "--header", "source=test");
        assertEquals(0, produced.exitCode(), produced.toString());
        assertEquals("", produced.out());

        List<ConsumerRecord<String, String>> records = readAll("keyed", 4);
        assertEquals(4, records.size());
        for (ConsumerRecord<String, String> record : records) {
            int expected = Utils.toPositive(Utils.murmur2(record.key().getBytes(StandardCharsets.UTF_8))) % 3;
            assertEquals(expected, record.partition(), "partition of key " + record.key());
            assertEquals("test", new String(record.headers().lastHeader("source").value(), StandardCharsets.UTF_8));
        }
        assertEquals(List.of("v1", "again"), records.stream().filter(r -> r.key().equals("k1"))
                .map(ConsumerRecord::value).toList());
    }

    @Test
    void shouldParsePerLineHeadersAndNullMarkersLikeTheConsoleProducer() throws Exception {
        createTopic("parsed", 1);
        Path input = dir.resolve("lines.txt");
        Files.writeString(input, "h1:a,h2:b\tkey\tvalue\n\tNULL\tNULL\n");
        Cli.Result produced = run("produce", "parsed", "--file", input.toString(), "--property", "parse.key=true",
                "--property", "parse.headers=true", "--property", "null.marker=NULL");
        assertEquals(0, produced.exitCode(), produced.toString());
        List<ConsumerRecord<String, String>> records = readAll("parsed", 2);
        assertEquals("key", records.get(0).key());
        assertEquals("value", records.get(0).value());
        assertEquals("b", new String(records.get(0).headers().lastHeader("h2").value(), StandardCharsets.UTF_8));
        assertNull(records.get(1).key());
        assertNull(records.get(1).value());
        assertEquals(0, records.get(1).headers().toArray().length);
    }

    @Test
    void shouldReadStdinAndConsumeFromTheBeginningUpToMaxMessages() throws Exception {
        createTopic("stdin", 1);
        InputStream original = System.in;
        try {
            System.setIn(new ByteArrayInputStream("one\ntwo\nthree\n".getBytes(StandardCharsets.UTF_8)));
            Cli.Result produced = run("produce", "--topic", "stdin");
            assertEquals(0, produced.exitCode(), produced.toString());
        } finally {
            System.setIn(original);
        }
        Cli.Result consumed = run("consume", "--topic", "stdin", "--from-beginning", "--max-messages", "2");
        assertEquals(0, consumed.exitCode(), consumed.toString());
        assertEquals("one\ntwo\n", consumed.out());
        assertEquals("Processed a total of 2 messages\n", consumed.err());
    }

    @Test
    void shouldPrintTheFieldsTheConsoleConsumerPrintsAndJsonLines() throws Exception {
        createTopic("printed", 2);
        ProducerRecord<String, String> withHeader = new ProducerRecord<>("printed", 1, 1234L, "k", "v",
                List.of(new RecordHeader("h", "x".getBytes(StandardCharsets.UTF_8))));
        produceWithKafka("printed", List.of(withHeader, new ProducerRecord<>("printed", 1, 1235L, null, "plain")));
        Cli.Result text = run("consume", "printed", "--from-beginning", "--exit-at-end", "--property",
                "print.key=true", "--property", "print.timestamp=true", "--property", "print.partition=true",
                "--property", "print.offset=true", "--property", "print.headers=true");
        assertEquals(0, text.exitCode(), text.toString());
        assertEquals("CreateTime:1234\tPartition:1\tOffset:0\th:x\tk\tv\n"
                + "CreateTime:1235\tPartition:1\tOffset:1\tNO_HEADERS\tnull\tplain\n", text.out());

        Cli.Result json = run("consume", "printed", "--from-beginning", "--max-messages", "1", "--output", "json");
        assertEquals(0, json.exitCode(), json.toString());
        JsonNode record = JSON.readTree(json.out());
        assertEquals("printed", record.get("topic").asText());
        assertEquals(1, record.get("partition").asInt());
        assertEquals(0, record.get("offset").asLong());
        assertEquals(1234, record.get("timestamp").asLong());
        assertEquals("k", record.get("key").asText());
        assertEquals("v", record.get("value").asText());
        assertEquals("x", record.get("headers").get(0).get("value").asText());
    }

    @Test
    void shouldStartAtAGivenOffsetOrTimeOfOnePartition() throws Exception {
        createTopic("positions", 1);
        List<ProducerRecord<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            records.add(new ProducerRecord<>("positions", 0, 1000L * (i + 1), null, "r" + i));
        }
        produceWithKafka("positions", records);
        Cli.Result fromOffset = run("consume", "positions", "--partition", "0", "--offset", "3", "--exit-at-end");
        assertEquals("r3\nr4\n", fromOffset.out(), fromOffset.toString());
        Cli.Result fromTime = run("consume", "positions", "--timestamp", "2500", "--exit-at-end");
        assertEquals("r2\nr3\nr4\n", fromTime.out(), fromTime.toString());
        Cli.Result fromIso = run("consume", "positions", "--timestamp", "1970-01-01T00:00:04Z", "--exit-at-end");
        assertEquals("r3\nr4\n", fromIso.out(), fromIso.toString());

        Cli.Result outOfRange = run("consume", "positions", "--partition", "0", "--offset", "9");
        assertEquals(ExitCodes.ERROR, outOfRange.exitCode());
        assertTrue(outOfRange.err().contains("offset 9 is out of range for positions-0 (earliest 0, latest 5)"),
                outOfRange.err());
        assertEquals(ExitCodes.USAGE, run("consume", "positions", "--offset", "3").exitCode(),
                "offset needs partition");
    }

    @Test
    void shouldFollowNewRecordsAndStopWhenIdleForTimeoutMs() throws Exception {
        createTopic("followed", 1);
        CompletableFuture<Cli.Result> consumer = CompletableFuture.supplyAsync(
                () -> run("consume", "followed", "--timeout-ms", "3000"));
        Thread.sleep(1000);
        produceWithKafka("followed", List.of(new ProducerRecord<>("followed", "late")));
        Cli.Result result = consumer.get();
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("late\n", result.out());
    }

    @Test
    void shouldCommitToAGroupAndResumeFromItsOffsets() throws Exception {
        createTopic("grouped", 2);
        List<ProducerRecord<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            records.add(new ProducerRecord<>("grouped", i % 2, null, "g" + i));
        }
        produceWithKafka("grouped", records);
        Cli.Result first = run("consume", "grouped", "--group", "readers", "--from-beginning", "--exit-at-end");
        assertEquals(0, first.exitCode(), first.toString());
        assertEquals(6, first.out().lines().count());
        assertEquals(3, committed("readers").get(new TopicPartition("grouped", 0)).offset());
        assertEquals(3, committed("readers").get(new TopicPartition("grouped", 1)).offset());
        // kafka-console-consumer refuses --group with --partition; a member of "quiet" owns both partitions.
        Cli.Result quiet = run("consume", "grouped", "--group", "quiet", "--exit-at-end");
        assertEquals("", quiet.out(), quiet.toString());
        assertEquals(3, committed("quiet").get(new TopicPartition("grouped", 1)).offset(),
                "a group's start position is committed even when nothing was read");
        produceWithKafka("grouped", List.of(new ProducerRecord<>("grouped", 0, null, "next")));
        Cli.Result second = run("consume", "grouped", "--group", "readers", "--timeout-ms", "1000");
        assertEquals("next\n", second.out(), second.toString());
    }

    private static Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        }
    }

    @Test
    void shouldHonourProducerPropertiesAndRefuseUnknownOnes() throws Exception {
        createTopic("producer-props", 1);
        Path input = dir.resolve("two.txt");
        Files.writeString(input, "a\nb\n");
        Path config = dir.resolve("producer.properties");
        Files.writeString(config, "compression.type=zstd\nclient.id=from-file\n");
        Cli.Result produced = run("produce", "producer-props", "--file", input.toString(), "--producer.config",
                config.toString(), "--producer-property", "acks=1", "--producer-property", "batch.size=1");
        assertEquals(0, produced.exitCode(), produced.toString());
        assertEquals(List.of("a", "b"), readAll("producer-props", 2).stream().map(ConsumerRecord::value).toList());
        // Each property is read: a value the client cannot honour is refused by the property's rules.
        Cli.Result acksZero = run("produce", "producer-props", "--file", input.toString(), "--producer-property",
                "acks=0");
        assertEquals(ExitCodes.USAGE, acksZero.exitCode(), acksZero.toString());
        Cli.Result badCodec = run("produce", "producer-props", "--file", input.toString(), "--producer-property",
                "compression.type=brotli");
        assertEquals(ExitCodes.USAGE, badCodec.exitCode(), badCodec.toString());
        assertTrue(badCodec.err().contains("brotli"), badCodec.toString());
        // A flag given explicitly wins over the property, as in kafka-console-producer.
        Cli.Result flagWins = run("produce", "producer-props", "--file", input.toString(), "--producer-property",
                "acks=0", "--acks", "all");
        assertEquals(0, flagWins.exitCode(), flagWins.toString());
        Cli.Result linger = run("produce", "producer-props", "--file", input.toString(), "--producer-property",
                "linger.ms=5");
        assertEquals(ExitCodes.USAGE, linger.exitCode(), linger.toString());
        assertTrue(linger.err().contains("producer property 'linger.ms' is not supported"), linger.toString());
    }

    @Test
    void shouldReadBackCompressedBatches() throws Exception {
        createTopic("compressed", 1);
        Path input = dir.resolve("many.txt");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            lines.append("line-").append(i).append('\n');
        }
        Files.writeString(input, lines);
        for (String codec : List.of("gzip", "snappy", "lz4", "zstd")) {
            Cli.Result produced = run("produce", "compressed", "--file", input.toString(), "--compression-codec",
                    codec);
            assertEquals(0, produced.exitCode(), produced.toString());
        }
        Cli.Result consumed = run("consume", "compressed", "--from-beginning", "--exit-at-end");
        assertEquals(0, consumed.exitCode(), consumed.toString());
        assertEquals(4000, consumed.out().lines().count());
        assertEquals(lines.toString().repeat(4), consumed.out());
        assertEquals(4000, readAll("compressed", 4000).size());
    }

    @Test
    void shouldLimitTheRateAndPrintProgressOnLongRuns() throws Exception {
        createTopic("paced", 1);
        Path input = dir.resolve("paced.txt");
        Files.writeString(input, "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n");
        long start = System.nanoTime();
        Cli.Result produced = run("produce", "paced", "--file", input.toString(), "--rate", "4");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(0, produced.exitCode(), produced.toString());
        assertTrue(millis >= 2000, "10 records at 4/s take at least 2.25 s, took " + millis + " ms");
        assertTrue(produced.err().contains("produced 10 records in "), produced.err());
        assertEquals(10, readAll("paced", 10).size());
    }

    @Test
    void shouldReadEveryTopicMatchingIncludeAsAPatternSubscriptionDoes() throws Exception {
        createTopic("inc-a", 1);
        createTopic("inc-b", 2);
        createTopic("other-inc", 1);
        produceWithKafka("inc-a", List.of(new ProducerRecord<>("inc-a", 0, null, "a0")));
        produceWithKafka("inc-b", List.of(new ProducerRecord<>("inc-b", 1, null, "b1"),
                new ProducerRecord<>("other-inc", 0, null, "o0")));
        Cli.Result json = run("consume", "--include", "inc-.*", "--from-beginning", "--exit-at-end",
                "--output", "json");
        assertEquals(0, json.exitCode(), json.toString());
        java.util.Set<String> read = new java.util.TreeSet<>();
        for (String line : json.out().lines().toList()) {
            JsonNode record = JSON.readTree(line);
            read.add(record.get("topic").asText() + "/" + record.get("partition").asInt() + "/"
                    + record.get("value").asText());
        }
        assertEquals(java.util.Set.of("inc-a/0/a0", "inc-b/1/b1"), read, json.toString());
        assertEquals("Processed a total of 2 messages\n", json.err());

        assertEquals(ExitCodes.USAGE, run("consume", "inc-a", "--include", "inc-.*").exitCode());
        assertEquals(ExitCodes.USAGE, run("consume", "--include", "inc-.*", "--partition", "0").exitCode());
        Cli.Result badPattern = run("consume", "--include", "inc-(");
        assertEquals(ExitCodes.USAGE, badPattern.exitCode(), badPattern.toString());
        assertTrue(badPattern.err().contains("--include 'inc-(' is not a regular expression"), badPattern.err());
        Cli.Result none = run("consume", "--include", "nothing-.*");
        assertEquals(ExitCodes.ERROR, none.exitCode(), none.toString());
        assertEquals("error: no topic matches --include 'nothing-.*'\n", none.err());
    }

    @Test
    void shouldLeaveOutAbortedAndOpenTransactionsUnderReadCommittedAsKafkasConsumerDoes() throws Exception {
        createTopic("txn-read", 1);
        produceWithKafka("txn-read", List.of(new ProducerRecord<>("txn-read", 0, null, "plain-0")));
        try (KafkaProducer<String, String> a = transactional("cli-txn-a");
             KafkaProducer<String, String> b = transactional("cli-txn-b")) {
            // A's aborted records interleave with B's committed one: only A's are left out.
            a.beginTransaction();
            a.send(new ProducerRecord<>("txn-read", 0, null, "aborted-1")).get();
            b.beginTransaction();
            b.send(new ProducerRecord<>("txn-read", 0, null, "committed-1")).get();
            a.send(new ProducerRecord<>("txn-read", 0, null, "aborted-2")).get();
            a.abortTransaction();
            b.commitTransaction();
            // An open transaction holds the last stable offset back, and the plain record after it with it.
            a.beginTransaction();
            a.send(new ProducerRecord<>("txn-read", 0, null, "open-1")).get();
            produceWithKafka("txn-read", List.of(new ProducerRecord<>("txn-read", 0, null, "plain-after")));

            Cli.Result all = run("consume", "txn-read", "--from-beginning", "--exit-at-end");
            assertEquals("plain-0\naborted-1\ncommitted-1\naborted-2\nopen-1\nplain-after\n", all.out(),
                    all.toString());
            Cli.Result committed = run("consume", "txn-read", "--from-beginning", "--exit-at-end",
                    "--isolation-level", "read_committed");
            assertEquals(0, committed.exitCode(), committed.toString());
            assertEquals("plain-0\ncommitted-1\n", committed.out(), committed.toString());
            assertEquals(List.of("plain-0", "committed-1"), readCommittedWithKafka("txn-read", 2));

            a.abortTransaction();
        }
        Cli.Result afterAbort = run("consume", "txn-read", "--from-beginning", "--exit-at-end",
                "--isolation-level", "read_committed", "--output", "json");
        assertEquals(0, afterAbort.exitCode(), afterAbort.toString());
        List<String> values = afterAbort.out().lines().map(line -> {
            try {
                return JSON.readTree(line).get("value").asText();
            } catch (Exception e) {
                throw new AssertionError(line, e);
            }
        }).toList();
        assertEquals(List.of("plain-0", "committed-1", "plain-after"), values);
        assertEquals(values, readCommittedWithKafka("txn-read", 3));

        Cli.Result bad = run("consume", "txn-read", "--isolation-level", "committed");
        assertEquals(ExitCodes.USAGE, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("--isolation-level must be read_committed or read_uncommitted, not"
                + " 'committed'"), bad.err());
    }

    private static KafkaProducer<String, String> transactional(String id) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer());
        producer.initTransactions();
        return producer;
    }

    /** What Kafka's own consumer reads at read_committed from the beginning of partition 0. */
    private static List<String> readCommittedWithKafka(String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.currentTimeMillis() + 20_000;
            while (values.size() < expected && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> values.add(r.value()));
            }
            // Nothing more within one more poll: the last stable offset holds the rest back.
            consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
        }
        return values;
    }

    @Test
    void shouldFailClearlyForUnknownTopicsBadLinesAndUnreachableBrokers() throws Exception {
        Path input = dir.resolve("x.txt");
        Files.writeString(input, "a:b\nno separator\n");
        Cli.Result unknown = run("produce", "nowhere", "--file", input.toString());
        assertEquals(ExitCodes.ERROR, unknown.exitCode());
        assertEquals("error: topic 'nowhere' does not exist\n", unknown.err());
        assertEquals(ExitCodes.ERROR, run("consume", "nowhere").exitCode());

        createTopic("strict", 1);
        Cli.Result badLine = run("produce", "strict", "--file", input.toString(), "--key-separator", ":");
        assertEquals(ExitCodes.ERROR, badLine.exitCode());
        assertEquals("error: no key separator found on line 2\n", badLine.err());
        assertEquals(ExitCodes.USAGE, run("produce", "strict", "--property", "parse.keys=true").exitCode());
        assertEquals(ExitCodes.USAGE, run("produce", "strict", "--acks", "0").exitCode());

        int port = Cli.closedPort();
        Cli.Result unreachable = Cli.run("consume", "strict", "--bootstrap-server", "127.0.0.1:" + port);
        assertEquals(ExitCodes.UNREACHABLE, unreachable.exitCode(), unreachable.toString());
    }
}
