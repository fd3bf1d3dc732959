package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
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
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The official Java client against an embedded Tandem node: the first thing that must work. */
class KafkaBrokerEndToEndTest {
    @TempDir
    Path dir;

    static TandemConfig config(Path dir) {
        return TandemConfig.forTests(dir).set("group.initial.rebalance.delay.ms", "0")
                .set("offsets.topic.num.partitions", "3");
    }

    static KafkaProducer<String, String> producer(Tandem tandem) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(Tandem tandem, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    @Test
    void shouldProduceAndConsumeThroughAGroupAndKeepCommittedOffsetsAcrossRestart() throws Exception {
        List<String> sent = new ArrayList<>();
        try (Tandem tandem = Tandem.start(config(dir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
                assertTrue(admin.listTopics().names().get().contains("orders"));
            }
            try (KafkaProducer<String, String> producer = producer(tandem)) {
                for (int i = 0; i < 30; i++) {
                    String value = "order-" + i;
                    RecordMetadata md = producer.send(new ProducerRecord<>("orders", "key-" + i, value)).get();
                    assertTrue(md.offset() >= 0);
                    sent.add(value);
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem, "billing")) {
                consumer.subscribe(List.of("orders"));
                List<String> received = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 30_000;
                while (received.size() < sent.size() && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) received.add(r.value());
                }
                assertEquals(Set.copyOf(sent), Set.copyOf(received));
                assertEquals(sent.size(), received.size(), "nothing duplicated");
                consumer.commitSync();
            }
        }
        try (Tandem tandem = Tandem.start(config(dir))) {
            try (KafkaConsumer<String, String> consumer = consumer(tandem, "billing")) {
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(
                        new TopicPartition("orders", 0), new TopicPartition("orders", 1), new TopicPartition("orders", 2)));
                long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
                assertEquals(sent.size(), total, "committed offsets survive the restart");
            }
        }
    }
}
