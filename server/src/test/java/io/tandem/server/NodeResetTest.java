package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.junit.TandemExtension;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link Tandem#reset()}: topics, groups and znodes a test made are gone; Kafka's own state keeps working. */
class NodeResetTest {
    @RegisterExtension
    static TandemExtension node = new TandemExtension();

    @Test
    void shouldDeleteTopicsGroupsAndZnodesAndLeaveANodeThatServesAsNew() throws Exception {
        Tandem tandem = node.tandem();
        Set<String> rootBefore;
        try (ZooKeeper zk = connect(tandem);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
            rootBefore = new TreeSet<>(zk.getChildren("/", false));
            admin.createTopics(List.of(new NewTopic("orders", 2, (short) 1), new NewTopic("audit", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
            try (KafkaProducer<String, String> producer = producer(tandem)) {
                producer.send(new ProducerRecord<>("orders", 0, "k", "v")).get(30, TimeUnit.SECONDS);
            }
            admin.alterConsumerGroupOffsets("billing", Map.of(new TopicPartition("orders", 0),
                    new OffsetAndMetadata(1))).all().get(30, TimeUnit.SECONDS);
            zk.create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/app/config", "x".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/app/config/deep", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/lock-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);

            tandem.reset();

            assertEquals(Set.of(), admin.listTopics().names().get(30, TimeUnit.SECONDS), "no topics");
            assertTrue(admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).isEmpty(), "no groups");
            assertEquals(rootBefore, new TreeSet<>(zk.getChildren("/", false)),
                    "only /zookeeper and Kafka's own layout are left");
            assertNull(zk.exists("/app", false));
            assertEquals(List.of("__consumer_offsets"), zk.getChildren("/brokers/topics", false),
                    "the topics' znodes are gone too; Kafka's internal topic stays");

            // The node serves as new: the same names can be made again, from offset 0.
            admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            try (KafkaProducer<String, String> producer = producer(tandem)) {
                assertEquals(0, producer.send(new ProducerRecord<>("orders", 0, "k", "v")).get(30, TimeUnit.SECONDS)
                        .offset());
            }
            assertEquals(1, admin.listOffsets(Map.of(new TopicPartition("orders", 0), OffsetSpec.latest())).all()
                    .get(30, TimeUnit.SECONDS).get(new TopicPartition("orders", 0)).offset());
            zk.create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            tandem.reset();
            assertNull(zk.exists("/app", false), "a second reset works on the kept connections");
        }
    }

    @Test
    void shouldDeleteATopicWithZnodesKafkaDoesNotMakeAndEveryGroup() throws Exception {
        Tandem tandem = node.tandem();
        try (ZooKeeper zk = connect(tandem);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("tooled", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            // Another tool's znode under the topic: the topic's whole subtree goes.
            zk.create("/brokers/topics/tooled/partitions/1/note", "x".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            for (String group : List.of("g1", "g2", "g3")) {
                admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition("tooled", 0),
                        new OffsetAndMetadata(0))).all().get(30, TimeUnit.SECONDS);
            }

            tandem.reset();

            assertEquals(Set.of(), admin.listTopics().names().get(30, TimeUnit.SECONDS), "no topics");
            assertEquals(List.of("__consumer_offsets"), zk.getChildren("/brokers/topics", false),
                    "the topic's znodes are gone, the unexpected one too");
            assertTrue(admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).isEmpty(), "no groups");
        }
    }

    private static KafkaProducer<String, String> producer(Tandem tandem) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static ZooKeeper connect(Tandem tandem) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(tandem.zookeeperConnect(), 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
        return zk;
    }
}
