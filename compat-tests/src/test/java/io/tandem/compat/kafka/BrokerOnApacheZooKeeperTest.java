package io.tandem.compat.kafka;

import static io.tandem.compat.kafka.KafkaCompat.consumer;
import static io.tandem.compat.kafka.KafkaCompat.pollUntil;
import static io.tandem.compat.kafka.KafkaCompat.producer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.compat.zookeeper.ApacheZkTarget;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker alone ({@code --roles kafka}) keeping its metadata in a real Apache ZooKeeper 3.9.5 named by
 * {@code zookeeper.connect}, exactly as a Kafka 3.x broker in ZooKeeper mode does: clients work, and the znodes it
 * writes are Kafka 3.9's layout, read back with the official ZooKeeper client.
 */
class BrokerOnApacheZooKeeperTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shouldServeClientsAndWriteKafkasLayoutIntoApacheZooKeeper() throws Exception {
        Path zkDir = Files.createDirectories(dir.resolve("apache-zk"));
        try (ApacheZkTarget zookeeper = new ApacheZkTarget(zkDir);
             Tandem broker = Tandem.start(KafkaCompat.config(dir.resolve("broker"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                     .set("zookeeper.connect", zookeeper.connectString()));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            assertEquals(-1, broker.zookeeperPort(), "no ZooKeeper of our own runs");
            admin.createTopics(List.of(new NewTopic("on-apache-zk", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            try (KafkaProducer<String, String> producer = producer(broker, Map.of())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("on-apache-zk", "k" + i, "v" + i)).get(30, TimeUnit.SECONDS);
                }
            }
            try (KafkaConsumer<String, String> consumer = consumer(broker, null, Map.of())) {
                consumer.assign(admin.describeTopics(List.of("on-apache-zk")).allTopicNames().get()
                        .get("on-apache-zk").partitions().stream()
                        .map(p -> new org.apache.kafka.common.TopicPartition("on-apache-zk", p.partition())).toList());
                consumer.seekToBeginning(consumer.assignment());
                List<ConsumerRecord<String, String>> got = pollUntil(consumer, r -> r.size() >= 10, Duration.ofSeconds(30));
                assertEquals(10, got.size());
            }

            ZooKeeper zk = connect(zookeeper.connectString());
            try {
                List<String> brokers = zk.getChildren("/brokers/ids", false);
                assertEquals(1, brokers.size(), "one registered broker: " + brokers);
                JsonNode registration = json(zk, "/brokers/ids/" + brokers.get(0));
                assertTrue(registration.get("endpoints").toString().contains(":" + broker.kafkaPort()),
                        "the registration names the broker's endpoint: " + registration);
                assertTrue(zk.exists("/brokers/ids/" + brokers.get(0), false).getEphemeralOwner() != 0,
                        "the registration is ephemeral");
                assertEquals(Integer.parseInt(brokers.get(0)), json(zk, "/controller").get("brokerid").asInt());
                JsonNode topic = json(zk, "/brokers/topics/on-apache-zk");
                assertEquals(2, topic.get("partitions").size());
                assertNotNull(topic.get("topic_id"));
                JsonNode state = json(zk, "/brokers/topics/on-apache-zk/partitions/0/state");
                assertEquals(Integer.parseInt(brokers.get(0)), state.get("leader").asInt());
                assertNotNull(json(zk, "/cluster/id").get("id"));
            } finally {
                zk.close();
            }
        }
    }

    private static JsonNode json(ZooKeeper zk, String path) throws Exception {
        return JSON.readTree(zk.getData(path, false, null));
    }

    private static ZooKeeper connect(String connectString) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connectString, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS), "connected to Apache ZooKeeper");
        return zk;
    }
}
