package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TandemCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.ZooKeeper;

/** The clients the replication tests use on their cluster: a producer, a consumer that reads a topic, ZooKeeper. */
final class ReplicationClients {
    private ReplicationClients() {
    }

    /** Every record of {@code topic} (all partitions, from the start) until {@code expected} came or 30 s passed. */
    static List<String> consumeAll(TandemCluster cluster, Admin admin, String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.runningBootstrapServers());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(admin.describeTopics(List.of(topic)).allTopicNames().toCompletionStage().toCompletableFuture()
                    .join().get(topic).partitions().stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList());
            long deadline = System.currentTimeMillis() + 30_000;
            while (values.size() < expected && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }

    static KafkaProducer<String, String> producer(TandemCluster cluster, String acks, String idempotent) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.runningBootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, acks);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
        // Without retries a refused write fails at once instead of retrying until the delivery timeout.
        if (idempotent.equals("false")) props.put(ProducerConfig.RETRIES_CONFIG, "0");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    static ZooKeeper zkClient(String zookeeperConnect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(zookeeperConnect, 10_000, e -> connected.countDown());
        assertTrue(connected.await(10, TimeUnit.SECONDS), "ZooKeeper session");
        return zk;
    }
}
