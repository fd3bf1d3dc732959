package io.tandem.server.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.MetadataWait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TandemClusterExtensionTest {
    @RegisterExtension
    static TandemClusterExtension kafka = TandemClusterExtension.brokers(3);

    @Test
    void shouldKeepEveryAcknowledgedRecordWhenTheLeaderStopsAndCatchItUpWhenItReturns(TandemCluster cluster)
            throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("orders", 3, (short) 3))).all().get(30, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, "orders", 3);
            List<String> sent = new ArrayList<>();
            try (KafkaProducer<String, String> producer = producer(cluster)) {
                sent.addAll(produce(producer, 0, 300));
                int leader = describe(admin).partitions().get(0).leader().id();
                cluster.stopBroker(leader);
                // When the stopped broker was also the controller, the next one loads the state and tells the
                // brokers; meanwhile a broker may list partition 0 without a live leader (Kafka's
                // LEADER_NOT_AVAILABLE, no leader node), as a client sees it and retries.
                long elected = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                Node now = describe(admin).partitions().get(0).leader();
                while (now == null && System.nanoTime() - elected < 0) {
                    Thread.sleep(50);
                    now = describe(admin).partitions().get(0).leader();
                }
                assertNotNull(now, "partition 0 never got a leader again");
                assertNotEquals(leader, now.id(), "an in-sync replica took over partition 0");
                // Two of three replicas are left: acks=all still succeeds (min.insync.replicas is 1 by default).
                sent.addAll(produce(producer, 300, 600));
                assertEquals(sent, consumeAll(cluster).stream().sorted().toList(),
                        "every acknowledged record once, the stopped leader's included");
                cluster.restartBroker(leader);
            }
            MetadataWait.propagated(cluster, "orders", 3);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!describe(admin).partitions().stream().allMatch(p -> p.isr().size() == 3)) {
                assertTrue(System.nanoTime() - deadline < 0, "the restarted broker never caught up: "
                        + describe(admin).partitions().stream().map(TopicPartitionInfo::toString).toList());
                Thread.sleep(100);
            }
        }
    }

    @Test
    void shouldHandTheSameClusterToTheRegisteredFieldAndToParameters(TandemCluster cluster) {
        assertSame(kafka.cluster(), cluster);
        assertEquals(3, cluster.size());
    }

    private static KafkaProducer<String, String> producer(TandemCluster cluster) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** Sends {@code from..to-1} (zero-padded, so they sort as numbers) and waits for every acknowledgement. */
    private static List<String> produce(KafkaProducer<String, String> producer, int from, int to) throws Exception {
        List<String> values = new ArrayList<>();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (int i = from; i < to; i++) {
            String value = String.format("%06d", i);
            values.add(value);
            acks.add(producer.send(new ProducerRecord<>("orders", i % 3, null, value)));
        }
        for (Future<RecordMetadata> ack : acks) ack.get(60, TimeUnit.SECONDS);
        return values;
    }

    private static List<String> consumeAll(TandemCluster cluster) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<TopicPartition> partitions = List.of(new TopicPartition("orders", 0), new TopicPartition("orders", 1),
                new TopicPartition("orders", 2));
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertTrue(System.nanoTime() - deadline < 0, "could not read up to " + end);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of("orders")).allTopicNames().get(30, TimeUnit.SECONDS).get("orders");
    }
}
