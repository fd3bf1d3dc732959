package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client quotas live, side by side: an Apache Kafka 3.9.1 broker in ZooKeeper mode and a Tandem broker, each on its
 * own Tandem ZooKeeper, get the same quotas and the same workload from Kafka's Java client, and must hand out the
 * same throttle_time_ms (as the client's own throttle metrics read them from the answers) and make the client behave
 * the same (it holds its next request back for the throttle time, KIP-219). Two quota windows of one second, so
 * a young sensor is measured over one second and every figure is a few seconds at most:
 * <ul>
 *   <li>producer_byte_rate 1000 and one 3 kB record: about (3100 - 1000) / 1000 x 1 s of throttle, and the next
 *   send waits for it;</li>
 *   <li>consumer_byte_rate 1000 and a 1.8 kB record to read: the broker answers a fetch over the quota without its
 *   records, throttled for about 0.9 s (Kafka takes the bytes back), so the first record comes after the throttle.
 *   A record of twice the quota or more would never come with two windows: the rate is measured over two seconds
 *   at most, and taking the bytes back leaves every later fetch as far over the quota as the first (Apache 3.9.1
 *   never delivered a 3 kB record so in 30 s);</li>
 *   <li>request_percentage 0.001 (10 µs of handler time a second): every request is over it and its throttle is
 *   capped at one quota window, exactly 1000 ms on both.</li>
 * </ul>
 * Times vary with the machine; the tolerance is wide enough for a loaded CI machine, narrow enough to catch a throttle
 * computed over the wrong window or not at all.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClientQuotaDifferentialTest {
    private static final Map<String, String> SETTINGS;

    static {
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.put("quota.window.num", "2");
        settings.put("quota.window.size.seconds", "1");
        SETTINGS = Map.copyOf(settings);
    }

    /** The most two throttle times or waits may differ by: about a third of the two-second figures. */
    private static final long TOLERANCE_MS = 700;

    @TempDir
    Path dir;

    /** What one broker did with the workload, in ms. */
    record Figures(double produceThrottleMs, long nextSendWaitMs, double fetchThrottleMs, long firstRecordMs,
                   double requestThrottleMs) {
    }

    @Test
    void shouldThrottleTheJavaClientsAsApacheKafka39Does() throws Exception {
        Figures apacheFigures;
        Figures tandemFigures;
        try (Tandem apacheZooKeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk-apache"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"),
                     apacheZooKeeper.zookeeperConnect(), SETTINGS)) {
            Differential.awaitReady(apache).close();
            apacheFigures = run("127.0.0.1:" + apache.port());
            System.out.println("Apache Kafka 3.9.1: " + apacheFigures);
        }
        TandemConfig config = TandemConfig.forTests(dir.resolve("tandem"));
        SETTINGS.forEach(config::set);
        try (Tandem tandem = Tandem.start(config)) {
            tandemFigures = run(tandem.bootstrapServers());
        }
        System.out.println("Tandem:             " + tandemFigures);
        assertTrue(apacheFigures.produceThrottleMs() > 1000, "Apache throttled the producer: " + apacheFigures);
        assertClose("produce throttle_time_ms", apacheFigures.produceThrottleMs(), tandemFigures.produceThrottleMs());
        assertClose("the wait of the producer's next send", apacheFigures.nextSendWaitMs(),
                tandemFigures.nextSendWaitMs());
        assertTrue(apacheFigures.fetchThrottleMs() > 500, "Apache throttled the consumer: " + apacheFigures);
        assertClose("fetch throttle_time_ms", apacheFigures.fetchThrottleMs(), tandemFigures.fetchThrottleMs());
        assertClose("the consumer's wait for its first record", apacheFigures.firstRecordMs(),
                tandemFigures.firstRecordMs());
        assertEquals(1000.0, apacheFigures.requestThrottleMs(), "Apache caps a request throttle at one window");
        assertEquals(apacheFigures.requestThrottleMs(), tandemFigures.requestThrottleMs(), "request throttle_time_ms");
    }

    private static void assertClose(String what, double apache, double tandem) {
        assertTrue(Math.abs(apache - tandem) <= TOLERANCE_MS, what + ": Apache " + apache + ", Tandem " + tandem);
    }

    private static Figures run(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic("quoted", 1, (short) 1), new NewTopic("reads", 1, (short) 1),
                    new NewTopic("busy", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            admin.alterClientQuotas(List.of(
                    quota("slow-producer", "producer_byte_rate", 1000),
                    quota("slow-consumer", "consumer_byte_rate", 1000),
                    quota("busy-producer", "request_percentage", 0.001))).all().get(60, TimeUnit.SECONDS);
        }
        // Apache applies a quota when its change notification reaches the broker; give both the same head start.
        Thread.sleep(1500);
        try (KafkaProducer<byte[], byte[]> writer = producer(bootstrap, "writer")) {
            writer.send(new ProducerRecord<>("reads", new byte[1800])).get(60, TimeUnit.SECONDS);
        }
        double produceThrottle;
        long nextSendWait;
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, "slow-producer")) {
            producer.send(new ProducerRecord<>("quoted", new byte[3000])).get(60, TimeUnit.SECONDS);
            produceThrottle = metric(producer.metrics(), "producer-metrics", "produce-throttle-time-max");
            long before = System.nanoTime();
            producer.send(new ProducerRecord<>("quoted", new byte[10])).get(60, TimeUnit.SECONDS);
            nextSendWait = (System.nanoTime() - before) / 1_000_000;
        }
        double fetchThrottle;
        long firstRecord;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "slow-consumer");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition("reads", 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            consumer.position(partition);
            long before = System.nanoTime();
            ConsumerRecords<byte[], byte[]> records = ConsumerRecords.empty();
            while (records.isEmpty() && System.nanoTime() - before < 30_000_000_000L) {
                records = consumer.poll(Duration.ofMillis(100));
            }
            firstRecord = (System.nanoTime() - before) / 1_000_000;
            assertTrue(!records.isEmpty(), "the consumer read the record in 30 s");
            fetchThrottle = metric(consumer.metrics(), "consumer-fetch-manager-metrics", "fetch-throttle-time-max");
        }
        double requestThrottle;
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, "busy-producer")) {
            for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("busy", new byte[10])).get(60,
                    TimeUnit.SECONDS);
            requestThrottle = metric(producer.metrics(), "producer-metrics", "produce-throttle-time-max");
        }
        return new Figures(produceThrottle, nextSendWait, fetchThrottle, firstRecord, requestThrottle);
    }

    private static ClientQuotaAlteration quota(String clientId, String key, double value) {
        return new ClientQuotaAlteration(new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, clientId)),
                List.of(new ClientQuotaAlteration.Op(key, value)));
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap, String clientId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static double metric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        for (Map.Entry<MetricName, ? extends Metric> entry : metrics.entrySet()) {
            if (entry.getKey().group().equals(group) && entry.getKey().name().equals(name)) {
                Object value = entry.getValue().metricValue();
                return value instanceof Number number ? number.doubleValue() : Double.NaN;
            }
        }
        throw new AssertionError("no client metric " + group + "/" + name);
    }
}
