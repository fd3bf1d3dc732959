package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** kafka-python 2.0.2 (Debian's python3-kafka) scripts from src/test/python/kafka_suite, checked from both sides. */
@ExtendWith(KafkaTargetExtension.class)
class KafkaPythonTest {
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(90);

    @BeforeEach
    void requireKafkaPython() throws Exception {
        ExternalTool.requireKafkaPython();
    }

    @Test
    void theSeedSnippetCreatesMyTopicSendsAndReceivesHelloWorld(KafkaTarget target) throws Exception {
        ExternalTool.Result result = ExternalTool.python("seed_snippet.py", SCRIPT_TIMEOUT, target.bootstrapServers());
        assertEquals(0, result.exitCode(), result.describe());
        assertTrue(result.stdout().contains("created my_topic partitions=3"), result.describe());
        assertTrue(result.stdout().contains("received b'hello world'"), result.describe());
        try (Admin admin = admin(target)) {
            assertEquals(3, get(admin.describeTopics(List.of("my_topic")).allTopicNames()).get("my_topic")
                    .partitions().size());
        }
    }

    @Test
    void aDeletedTopicLeavesAtOnceAndItsNameIsFreeOnceTheControllerIsDone(KafkaTarget target) throws Exception {
        String topic = unique("py-deleted");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                producer.send(new ProducerRecord<>(topic, "old")).get();
            }
        }
        ExternalTool.Result result = ExternalTool.python("delete_topics.py", SCRIPT_TIMEOUT, target.bootstrapServers(),
                topic);
        assertEquals(0, result.exitCode(), result.describe());
        assertTrue(result.stdout().contains("delete error codes=[0]"), result.describe());
        assertTrue(result.stdout().contains("end offset of the new topic=0"), result.describe());
    }

    @Test
    void twoConsumersInAGroupSplitThePartitionsAndCommit(KafkaTarget target) throws Exception {
        String topic = unique("py-group");
        String group = unique("py-group");
        int count = 40;
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 4);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                for (int i = 0; i < count; i++) {
                    producer.send(new ProducerRecord<>(topic, i % 4, null, "r" + i));
                }
            }
            ExternalTool.Result result = ExternalTool.python("group_consumers.py", SCRIPT_TIMEOUT,
                    target.bootstrapServers(), topic, group, String.valueOf(count));
            assertEquals(0, result.exitCode(), result.describe());
            assertTrue(result.stdout().contains("distinct=40 duplicates=0 balanced=True"), result.describe());

            Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata());
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            var ends = get(admin.listOffsets(latest).all());
            for (TopicPartition tp : latest.keySet()) {
                assertEquals(10, ends.get(tp).offset());
                assertEquals(10, committed.get(tp).offset(), "kafka-python's commit of " + tp);
            }
        }
    }

    @Test
    void gzipKeyedRecordsWithHeadersRoundTripAndReadTheSameFromJava(KafkaTarget target) throws Exception {
        String topic = unique("py-gzip");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        ExternalTool.Result result = ExternalTool.python("gzip_round_trip.py", SCRIPT_TIMEOUT,
                target.bootstrapServers(), topic, "100");
        assertEquals(0, result.exitCode(), result.describe());
        assertTrue(result.stdout().contains("read 100 ok"), result.describe());
        TopicPartition tp = new TopicPartition(topic, 0);
        try (var consumer = bytesConsumer(consumerProps(target, null))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            var got = pollExactly(consumer, 100);
            assertEquals(100, got.size());
            for (int i = 0; i < 100; i++) {
                var record = got.get(i);
                assertEquals("k" + i, new String(record.key(), java.nio.charset.StandardCharsets.UTF_8));
                assertEquals(("v" + i + " \u00fc\u2713 ").repeat(20),
                        new String(record.value(), java.nio.charset.StandardCharsets.UTF_8));
                assertEquals(String.valueOf(i), new String(record.headers().lastHeader("h").value(),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void legacyAlterConfigsReplacesTheTopicsOverrides(KafkaTarget target) throws Exception {
        String topic = unique("py-configs");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1, Map.of("retention.ms", "123456"));
        }
        ExternalTool.Result result = ExternalTool.python("admin_configs.py", SCRIPT_TIMEOUT,
                target.bootstrapServers(), topic);
        assertEquals(0, result.exitCode(), result.describe());
        assertTrue(result.stdout().contains("after retention.ms=604800000 max.message.bytes=4000"), result.describe());
    }
}
