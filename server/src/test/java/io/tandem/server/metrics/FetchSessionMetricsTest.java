package io.tandem.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's FetchSessionCache meters (kafka.server:type=FetchSessionCache: NumIncrementalFetchSessions,
 * NumIncrementalFetchPartitionsCached, IncrementalFetchSessionEvictionsPerSec) on the Prometheus endpoint, while
 * real Java consumers hold incremental fetch sessions and then close them.
 */
class FetchSessionMetricsTest {
    private static final String SESSIONS = "tandem_kafka_server_fetchsessioncache_numincrementalfetchsessions";
    private static final String PARTITIONS =
            "tandem_kafka_server_fetchsessioncache_numincrementalfetchpartitionscached";
    private static final String EVICTIONS =
            "tandem_kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total";

    @TempDir
    Path dir;

    @Test
    void shouldCountTheSessionsAndPartitionsOfIncrementalFetchers() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("metrics.port", "0"))) {
            Scrape idle = Scrape.of(tandem.metricsPort());
            assertEquals(0.0, idle.value(SESSIONS), idle.text());
            assertEquals(0.0, idle.value(PARTITIONS));
            assertEquals(0.0, idle.value(EVICTIONS));
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("sessions", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> producer = producer(tandem)) {
                for (int p = 0; p < 3; p++) producer.send(new ProducerRecord<>("sessions", p, null, "r" + p)).get();
            }
            List<KafkaConsumer<String, String>> consumers = new ArrayList<>();
            try {
                // One consumer on all three partitions, one on partition 0: two sessions, four partitions cached.
                consumers.add(reading(tandem, 3, 0, 1, 2));
                consumers.add(reading(tandem, 1, 0));
                // Incremental fetches keep both sessions in use.
                for (KafkaConsumer<String, String> c : consumers) c.poll(Duration.ofMillis(300));
                Scrape busy = Scrape.of(tandem.metricsPort());
                assertEquals(2.0, busy.value(SESSIONS), busy.text());
                assertEquals(4.0, busy.value(PARTITIONS));
                assertEquals(0.0, busy.value(EVICTIONS), "the cache had room: nothing was evicted");
                assertTrue(busy.text().contains("# TYPE " + EVICTIONS + " counter"), "a counter, rate() for per-sec");
                // The records were just written: their fetches are tail reads, sent without a page-cache check.
                assertTrue(busy.value("tandem_kafka_fetch_page_cache_slices_total", "outcome=\"tail\"") >= 1,
                        busy.text());
                assertEquals(0.0, busy.value("tandem_kafka_fetch_page_cache_slices_total", "outcome=\"warmed\""));
                assertEquals(0.0, busy.value("tandem_kafka_fetch_page_cache_warmed_bytes_total"));
            } finally {
                for (KafkaConsumer<String, String> c : consumers) c.close(Duration.ofSeconds(10));
            }
            // A closing consumer ends its session (a final-epoch fetch): the cache empties.
            long deadline = System.currentTimeMillis() + 10_000;
            Scrape closed = Scrape.of(tandem.metricsPort());
            while (closed.value(SESSIONS) != 0.0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
                closed = Scrape.of(tandem.metricsPort());
            }
            assertEquals(0.0, closed.value(SESSIONS), closed.text());
            assertEquals(0.0, closed.value(PARTITIONS));
        }
    }

    /** A consumer assigned {@code partitions} of "sessions" that has read {@code records} from their start. */
    private static KafkaConsumer<String, String> reading(Tandem tandem, int records, int... partitions) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props);
        List<TopicPartition> assigned = new ArrayList<>();
        for (int p : partitions) assigned.add(new TopicPartition("sessions", p));
        consumer.assign(assigned);
        consumer.seekToBeginning(assigned);
        int read = 0;
        long deadline = System.currentTimeMillis() + 30_000;
        while (read < records && System.currentTimeMillis() < deadline) {
            read += consumer.poll(Duration.ofMillis(200)).count();
        }
        assertEquals(records, read);
        return consumer;
    }

    private static KafkaProducer<String, String> producer(Tandem tandem) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(props);
    }
}
