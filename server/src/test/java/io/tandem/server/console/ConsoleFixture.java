package io.tandem.server.console;

import io.tandem.server.Tandem;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * What the console tests look at, made with Apache's own clients so the console is checked against what any client
 * wrote: topic {@value #TOPIC} (3 partitions: 5, 3 and 0 records; partition 1's log start moved to 1), keyed records
 * with headers, one binary and one oversized value; group {@value #GROUP} with committed offsets 2 and 1 (lag 3 and
 * 2); znodes {@value #ZNODE} (text data, a world-readable ACL) with a child.
 */
final class ConsoleFixture {
    static final String TOPIC = "orders";
    static final String GROUP = "billing";
    static final String ZNODE = "/app/config";
    static final byte[] BINARY = {0, 1, 2, (byte) 0xff};
    /** Offset 4 of partition 0: larger than the shown limit. */
    static final int BIG_VALUE_BYTES = ConsoleLimits.VALUE_BYTES_SHOWN_MAX + 1000;

    private ConsoleFixture() {
    }

    static void create(Tandem tandem) throws Exception {
        String bootstrap = tandem.bootstrapServers();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                for (int i = 0; i < 3; i++) {
                    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(TOPIC, 0, bytes("key-" + i),
                            bytes("{\"order\":" + i + "}"));
                    record.headers().add("source", bytes("web"));
                    producer.send(record).get();
                }
                producer.send(new ProducerRecord<>(TOPIC, 0, null, BINARY)).get();
                producer.send(new ProducerRecord<>(TOPIC, 0, bytes("big"), bytes("x".repeat(BIG_VALUE_BYTES)))).get();
                for (int i = 0; i < 3; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, 1, bytes("k" + i), bytes("p1-" + i))).get();
                }
            }
            admin.deleteRecords(Map.of(new TopicPartition(TOPIC, 1), RecordsToDelete.beforeOffset(1))).all().get();
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.commitSync(Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(2),
                    new TopicPartition(TOPIC, 1), new OffsetAndMetadata(1)), Duration.ofSeconds(30));
        }
        CountDownLatch connected = new CountDownLatch(1);
        try (ZooKeeper zk = new ZooKeeper(tandem.zookeeperConnect(), 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        })) {
            if (!connected.await(30, TimeUnit.SECONDS)) throw new AssertionError("no ZooKeeper session");
            zk.create("/app", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(ZNODE, bytes("mode=fast"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.setData(ZNODE, bytes("mode=faster"), 0);
            zk.create(ZNODE + "/feature", BINARY, ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
