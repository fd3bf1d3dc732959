package io.tandem.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's per-entity quota metrics (groups Produce, Fetch, Request; tags user and client-id) on the Prometheus
 * endpoint of a real node: a client id over its producer_byte_rate shows its byte rate and a throttle time, a client
 * id without a quota of its own is measured under the default entity's tags, and nothing is shown for a quota type
 * that has no quota, as Kafka records nothing then.
 */
class QuotaMetricsTest {
    @TempDir
    Path dir;

    @Test
    void shouldShowTheByteRateAndThrottleTimeOfEachQuotaEntity() throws Exception {
        // Two windows of 1 s: a young sensor is measured over one second, so 3 kB at 1000 B/s is throttled ~2 s.
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("metrics.port", "0")
                .set("quota.window.num", "2"))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("quoted", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                        new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "slow")),
                        List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1000.0))))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            Scrape before = Scrape.of(tandem.metricsPort());
            assertFalse(before.has("tandem_kafka_server_produce_byte_rate", "client_id=\"slow\""), before.text());
            assertFalse(before.has("tandem_kafka_server_fetch_byte_rate"), "no fetch quota, nothing measured");

            RecordMetadata sent = produce(tandem, "slow", 3000);
            Scrape after = Scrape.of(tandem.metricsPort());
            double rate = after.value("tandem_kafka_server_produce_byte_rate", "client_id=\"slow\"", "user=\"\"");
            assertTrue(rate > 3000 / 2.0 && rate < 3000 * 2, "a 3 kB request in a one-second window: " + rate);
            double throttle = after.value("tandem_kafka_server_produce_throttle_time", "client_id=\"slow\"",
                    "user=\"\"");
            assertTrue(throttle > 1000 && throttle < 3000, "(3000 - 1000) / 1000 x 1 s, about 2000 ms: " + throttle);
            assertEquals(0, sent.offset());
            assertFalse(after.has("tandem_kafka_server_fetch_byte_rate"), after.text());
        }
    }

    private static RecordMetadata produce(Tandem tandem, String clientId, int bytes) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            RecordMetadata metadata = producer.send(new ProducerRecord<>("quoted", new byte[bytes])).get(30,
                    TimeUnit.SECONDS);
            producer.close(Duration.ZERO);
            return metadata;
        }
    }
}
