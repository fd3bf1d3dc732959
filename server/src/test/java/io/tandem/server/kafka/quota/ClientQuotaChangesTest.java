package io.tandem.server.kafka.quota;

import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.MetadataWait;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A quota written straight to ZooKeeper, as Kafka's {@code kafka-configs.sh --zookeeper} writes it (the entity's
 * config znode, then a change notification), reaches a live connection on a broker that did not write it: every
 * broker follows {@code /config/changes}. Two brokers; the topic's only replica is on broker 2.
 */
class ClientQuotaChangesTest {
    private static TandemCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TandemCluster.start(2, c -> c.set("quota.window.num", "2").set("quota.window.size.seconds", "1"));
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("changes-topic", Map.of(0, List.of(2))))).all()
                    .get(30, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, "changes-topic", 1);
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private static double throttleMax(KafkaProducer<byte[], byte[]> producer) {
        for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
            if (e.getKey().group().equals("producer-metrics") && e.getKey().name().equals("produce-throttle-time-max")) {
                Object v = e.getValue().metricValue();
                return v instanceof Double d && !d.isNaN() ? d : 0;
            }
        }
        throw new AssertionError("no produce-throttle-time-max metric");
    }

    @Test
    void shouldApplyAQuotaWrittenToZooKeeperToALiveConnection() throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "zk-written-producer");
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 60_000);
        byte[] value = new byte[10 * 1024];
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("changes-topic", value)).get();
            ZooKeeper zk = new ZooKeeper(cluster.zookeeperConnect(), 10_000, event -> { });
            try {
                zk.create("/config/clients/zk-written-producer",
                        "{\"version\":1,\"config\":{\"producer_byte_rate\":\"524288\"}}".getBytes(StandardCharsets.UTF_8),
                        ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create("/config/changes/config_change_",
                        "{\"version\":2,\"entity_path\":\"clients/zk-written-producer\"}".getBytes(StandardCharsets.UTF_8),
                        ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            } finally {
                zk.close();
            }
            // Described from the store; enforcing it needs broker 2 to follow the notification.
            try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                    cluster.bootstrapServers()))) {
                assertEquals(Map.of("producer_byte_rate", 524288.0), admin.describeClientQuotas(ClientQuotaFilter.all())
                        .entities().get().get(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID,
                                "zk-written-producer"))));
            }
            long start = System.nanoTime();
            // 3 MiB: at least 5 s at 512 KiB/s once the quota is in force, so a notification followed a little late
            // still leaves the 2 s asserted.
            for (int i = 0; i < 300; i++) producer.send(new ProducerRecord<>("changes-topic", value));
            producer.flush();
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(throttleMax(producer) > 0, "no throttle time reported to the producer");
            assertTrue(elapsedMs >= 2_000, "3 MiB at 512 KiB/s took only " + elapsedMs + " ms");
        }
    }
}
