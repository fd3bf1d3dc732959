package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** kcat (librdkafka): metadata listing, keyed produce and consume with each codec, byte-exact payloads. */
@ExtendWith(KafkaTargetExtension.class)
class KcatTest {
    private static final Duration KCAT_TIMEOUT = Duration.ofSeconds(60);

    @BeforeEach
    void requireKcat() {
        ExternalTool.requireKcat();
    }

    @Test
    void metadataListingShowsTheBrokerAndTheTopicsPartitions(KafkaTarget target) throws Exception {
        String topic = unique("kcat-meta");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 3);
        }
        ExternalTool.Result result = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                target.bootstrapServers(), "-L", "-t", topic, "-m", "30"), null, KCAT_TIMEOUT);
        assertEquals(0, result.exitCode(), result.describe());
        String out = result.stdout();
        assertTrue(out.contains("1 brokers:"), result.describe());
        assertTrue(out.contains(" at " + target.bootstrapServers()), result.describe());
        assertTrue(out.contains("topic \"" + topic + "\" with 3 partitions:"), result.describe());
        for (int p = 0; p < 3; p++) {
            assertTrue(out.contains("partition " + p + ", leader "), result.describe());
        }
    }

    @Test
    void aKcatGroupConsumerReadsEveryPartitionAndCommitsOnExit(KafkaTarget target) throws Exception {
        String topic = unique("kcat-group");
        String group = unique("kcat-group");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 2);
            try (var producer = stringProducer(target)) {
                for (int i = 0; i < 20; i++) {
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, i % 2, null, "g" + i));
                }
            }
            ExternalTool.Result consumed = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                    target.bootstrapServers(), "-G", group, "-X", "auto.offset.reset=earliest", "-e",
                    "-f", "%p:%o:%s\\n", topic), null, KCAT_TIMEOUT);
            assertEquals(0, consumed.exitCode(), consumed.describe());
            List<String> lines = consumed.stdout().lines().sorted().toList();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                expected.add((i % 2) + ":" + (i / 2) + ":g" + i);
            }
            assertEquals(expected.stream().sorted().toList(), lines, consumed.describe());
            var committed = get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
            assertEquals(10, committed.get(new TopicPartition(topic, 0)).offset(), "kcat's commit on close");
            assertEquals(10, committed.get(new TopicPartition(topic, 1)).offset(), "kcat's commit on close");
        }
    }

    @Test
    void kcatsIdempotentProducerWithHeadersIsAccepted(KafkaTarget target) throws Exception {
        String topic = unique("kcat-idempotent");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            input.append("m").append(i).append('\n');
        }
        // librdkafka's idempotent producer: InitProducerId, then Produce with producer id and sequence numbers.
        ExternalTool.Result produced = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                target.bootstrapServers(), "-P", "-t", topic, "-p", "0", "-z", "zstd", "-H", "origin=kcat",
                "-H", "n=1", "-X", "enable.idempotence=true"), input.toString().getBytes(StandardCharsets.UTF_8),
                KCAT_TIMEOUT);
        assertEquals(0, produced.exitCode(), produced.describe());
        try (KafkaConsumer<byte[], byte[]> consumer = bytesConsumer(consumerProps(target, null))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> got = pollExactly(consumer, 30);
            assertEquals(30, got.size());
            for (int i = 0; i < 30; i++) {
                assertEquals("m" + i, new String(got.get(i).value(), StandardCharsets.UTF_8));
                assertEquals("kcat", new String(got.get(i).headers().lastHeader("origin").value(),
                        StandardCharsets.UTF_8));
                assertEquals("1", new String(got.get(i).headers().lastHeader("n").value(), StandardCharsets.UTF_8));
            }
        }
        ExternalTool.Result consumed = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                target.bootstrapServers(), "-C", "-t", topic, "-p", "0", "-o", "-1", "-e", "-f", "%h|%s\\n"),
                null, KCAT_TIMEOUT);
        assertEquals(0, consumed.exitCode(), consumed.describe());
        assertEquals("origin=kcat,n=1|m29\n", consumed.stdout(), "kcat reads its headers back (offset -1 = last)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void keyedRecordsProducedByKcatComeBackByteForByte(String codec, KafkaTarget target) throws Exception {
        String topic = unique("kcat-" + codec);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        List<String> keys = new ArrayList<>();
        List<String> values = new ArrayList<>();
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            String key = "key-" + i;
            String value = "value " + i + " ü✓ " + "abc".repeat(i);
            keys.add(key);
            values.add(value);
            input.append(key).append('\t').append(value).append('\n');
        }
        ExternalTool.Result produced = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                target.bootstrapServers(), "-P", "-t", topic, "-p", "0", "-K", "\t", "-z", codec, "-X",
                "linger.ms=50"), input.toString().getBytes(StandardCharsets.UTF_8), KCAT_TIMEOUT);
        assertEquals(0, produced.exitCode(), produced.describe());

        // The Java consumer sees exactly the bytes kcat sent.
        try (KafkaConsumer<byte[], byte[]> consumer = bytesConsumer(consumerProps(target, null))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> got = pollExactly(consumer, 50);
            assertEquals(50, got.size());
            for (int i = 0; i < 50; i++) {
                assertArrayEquals(keys.get(i).getBytes(StandardCharsets.UTF_8), got.get(i).key());
                assertArrayEquals(values.get(i).getBytes(StandardCharsets.UTF_8), got.get(i).value());
            }
        }

        // And kcat reads them back identically, with offsets.
        ExternalTool.Result consumed = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                target.bootstrapServers(), "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-c", "50",
                "-f", "%o|%k|%s\\n"), null, KCAT_TIMEOUT);
        assertEquals(0, consumed.exitCode(), consumed.describe());
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            expected.append(i).append('|').append(keys.get(i)).append('|').append(values.get(i)).append('\n');
        }
        assertEquals(expected.toString(), consumed.stdout());
    }
}
