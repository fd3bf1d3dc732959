package io.tandem.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus endpoint of a real node, scraped over HTTP while real clients (Kafka's Java client, ZooKeeper's)
 * talk to it: the counters must move with the traffic, and the gauges must say what the node holds.
 */
class MetricsEndpointTest {
    @TempDir
    Path dir;

    @Test
    void shouldCountKafkaAndZooKeeperTrafficAndReportTheNodesState() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("metrics.port", "0"))) {
            assertTrue(tandem.metricsPort() > 0, "the free port is reported");
            Scrape before = Scrape.of(tandem.metricsPort());
            assertTrue(before.contentType().startsWith("text/plain; version=0.0.4"), before.contentType());
            assertEquals(1.0, before.value("tandem_zookeeper_server_state", "state=\"standalone\""));
            assertEquals(0.0, before.value("tandem_zookeeper_server_state", "state=\"leader\""));
            double zkBytesIn = before.value("tandem_zookeeper_network_bytes_total", "direction=\"in\"");
            double znodes = before.value("tandem_zookeeper_znode_count");

            try (ZooKeeper zk = zkClient(tandem)) {
                for (int i = 0; i < 5; i++) {
                    zk.create("/metrics-" + i, "v".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT);
                    zk.getData("/metrics-" + i, false, null);
                }
            }
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("metered", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = producer(tandem)) {
                for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>("metered", 0, null, "r" + i)).get();
            }
            try (KafkaConsumer<String, String> consumer = consumer(tandem)) {
                TopicPartition p0 = new TopicPartition("metered", 0);
                consumer.assign(List.of(p0));
                consumer.seekToBeginning(List.of(p0));
                int read = 0;
                long deadline = System.currentTimeMillis() + 30_000;
                while (read < 10 && System.currentTimeMillis() < deadline) {
                    read += consumer.poll(Duration.ofMillis(200)).count();
                }
                assertEquals(10, read);
                consumer.commitSync(Map.of(p0, new OffsetAndMetadata(4)));
            }

            // The offsets topic is made on the consumer's first FindCoordinator, answered at once as Kafka 3.9 does
            // (COORDINATOR_NOT_AVAILABLE); its other partitions may still be taking their leader role when the group's
            // own partition already serves, so the scrape is repeated until every hosted partition has its role.
            Scrape after = Scrape.of(tandem.metricsPort());
            long settled = System.currentTimeMillis() + 30_000;
            while (after.value("tandem_kafka_partitions") != after.value("tandem_kafka_partitions_leader")
                    && System.currentTimeMillis() < settled) {
                Thread.sleep(50);
                after = Scrape.of(tandem.metricsPort());
            }
            // ZooKeeper: per-op histograms, bytes, and the mntr figures.
            assertTrue(after.value("tandem_zookeeper_request_seconds_count", "op=\"create\"") >= 5, after.text());
            assertTrue(after.value("tandem_zookeeper_request_seconds_count", "op=\"getData\"") >= 5);
            assertTrue(after.has("tandem_zookeeper_request_seconds_bucket", "op=\"create\"", "le=\"+Inf\""),
                    "latency is a histogram");
            assertTrue(after.value("tandem_zookeeper_network_bytes_total", "direction=\"in\"") > zkBytesIn);
            assertTrue(after.value("tandem_zookeeper_network_bytes_total", "direction=\"out\"") > 0);
            assertTrue(after.value("tandem_zookeeper_znode_count") >= znodes + 5, "the five znodes are counted");
            assertTrue(after.value("tandem_zookeeper_packets_received") > 0);
            // Kafka: per-API histograms, bytes, partitions and the group's lag (10 records, 4 committed).
            for (String api : List.of("ApiVersions", "Metadata", "CreateTopics", "Produce", "Fetch",
                    "OffsetCommit", "FindCoordinator")) {
                assertTrue(after.value("tandem_kafka_request_seconds_count", "api=\"" + api + "\"") >= 1, api);
            }
            assertTrue(after.has("tandem_kafka_request_seconds_bucket", "api=\"Produce\"", "le=\"+Inf\""));
            assertTrue(after.value("tandem_kafka_network_bytes_total", "direction=\"in\"") > 10 * 2);
            assertTrue(after.value("tandem_kafka_network_bytes_total", "direction=\"out\"") > 0);
            // 2 partitions of "metered" plus the offsets topic's, all led here, none short of replicas.
            double partitions = after.value("tandem_kafka_partitions");
            assertTrue(partitions >= 3, "partitions: " + partitions);
            assertEquals(partitions, after.value("tandem_kafka_partitions_leader"));
            assertEquals(0.0, after.value("tandem_kafka_partitions_under_replicated"));
            assertEquals(0.0, after.value("tandem_kafka_controller_stuck_events"), "nothing the controller retries");
            assertEquals(6.0, after.value("tandem_kafka_consumer_group_lag_records", "group=\"metered-group\"",
                    "topic=\"metered\"", "partition=\"0\""));
            // The JVM's own.
            assertTrue(after.value("jvm_memory_used_bytes") > 0);
            assertTrue(after.has("jvm_threads_live_threads"));
            assertTrue(after.value("process_uptime_seconds") > 0);
        }
    }

    @Test
    void shouldServeNoEndpointUnlessConfiguredAndRefuseABadPort() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("off"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            assertEquals(-1, tandem.metricsPort());
        }
        ConfigException refused = assertThrows(ConfigException.class, () -> Tandem.start(
                TandemConfig.forTests(dir.resolve("bad")).set("metrics.port", "http")));
        assertTrue(refused.getMessage().contains("metrics.port"), refused.getMessage());
    }

    @Test
    void shouldAnswerOnlyGetAtTheMetricsPath() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("metrics.port", "0"))) {
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + tandem.metricsPort() + "/metrics");
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri)
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            HttpResponse<String> elsewhere = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + tandem.metricsPort() + "/other")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, elsewhere.statusCode());
            // Only the ZooKeeper role runs: no Kafka meters are claimed.
            Scrape scrape = Scrape.of(tandem.metricsPort());
            assertTrue(!scrape.has("tandem_kafka_partitions") && scrape.has("tandem_zookeeper_znode_count"));
        }
    }

    static ZooKeeper zkClient(Tandem tandem) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(tandem.zookeeperConnect(), 10_000, event -> {
            if (event.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
        return zk;
    }

    private static KafkaProducer<String, String> producer(Tandem tandem) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(props);
    }

    private static KafkaConsumer<String, String> consumer(Tandem tandem) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "metered-group");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaConsumer<>(props);
    }
}
