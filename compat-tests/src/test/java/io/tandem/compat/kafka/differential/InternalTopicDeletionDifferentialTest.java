package io.tandem.compat.kafka.differential;

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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Deleting {@code __consumer_offsets} with the Java Admin client, side by side on Apache Kafka 3.9.1 (ZooKeeper
 * mode, on a Tandem ZooKeeper) and on Tandem: both delete it, the group's committed offset goes with it, and the
 * group works again once a FindCoordinator has made the topic again (a member reads from the start and commits).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class InternalTopicDeletionDifferentialTest {
    private static final long WAIT_MS = 60_000;
    private static final String TOPIC = "events";

    @TempDir
    Path dir;

    @Test
    void deletingTheOffsetsTopicGoesThroughAndGroupsWorkAgainAsOnApacheKafka39() throws Exception {
        TandemConfig zookeeperConfig = TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER));
        TandemConfig kafkaConfig = TandemConfig.forTests(dir.resolve("tandem")).roles(EnumSet.of(TandemConfig.Role.KAFKA));
        Differential.SETTINGS.forEach(kafkaConfig::set);
        List<String> apache;
        try (Tandem zookeeper = Tandem.start(zookeeperConfig);
             ApacheBroker broker = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Differential.SETTINGS)) {
            Differential.awaitReady(broker).close();
            apache = scenario("127.0.0.1:" + broker.port());
        }
        List<String> tandem;
        try (Tandem node = Tandem.start(kafkaConfig)) {
            tandem = scenario(node.bootstrapServers());
        }
        assertEquals(List.of("committed 3", "deleted", "read again [v0, v1, v2]", "committed 2"), apache,
                "Apache Kafka 3.9.1");
        assertEquals(apache, tandem, "Tandem as Apache Kafka 3.9.1");
    }

    /** What a client sees, step by step. */
    private static List<String> scenario(String bootstrap) throws Exception {
        List<String> seen = new ArrayList<>();
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) WAIT_MS))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 3; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, "v" + i)).get(WAIT_MS, TimeUnit.MILLISECONDS);
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
                pollAll(consumer, 3);
                consumer.commitSync(Duration.ofMillis(WAIT_MS));
            }
            seen.add("committed " + committed(admin, tp));
            try {
                admin.deleteTopics(List.of("__consumer_offsets")).all().get(WAIT_MS, TimeUnit.MILLISECONDS);
                seen.add("deleted");
            } catch (ExecutionException e) {
                seen.add("refused " + e.getCause().getClass().getSimpleName());
                return seen;
            }
            try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
                seen.add("read again " + pollAll(consumer, 3).stream().map(ConsumerRecord::value).toList());
                consumer.commitSync(Map.of(tp, new OffsetAndMetadata(2)), Duration.ofMillis(WAIT_MS));
            }
            seen.add("committed " + committed(admin, tp));
        }
        return seen;
    }

    private static long committed(Admin admin, TopicPartition tp) throws Exception {
        OffsetAndMetadata offset = admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata()
                .get(WAIT_MS, TimeUnit.MILLISECONDS).get(tp);
        return offset == null ? -1 : offset.offset();
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "g1");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer());
        consumer.subscribe(List.of(TOPIC));
        return consumer;
    }

    private static List<ConsumerRecord<String, String>> pollAll(KafkaConsumer<String, String> consumer, int count) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (records.size() < count && System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }
}
