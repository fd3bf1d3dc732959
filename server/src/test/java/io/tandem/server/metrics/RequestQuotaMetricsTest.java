package io.tandem.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request quota figures Kafka shows beside the per-entity ones, on the Prometheus endpoint of a real node:
 * the throttle time of each API's answers as sent (Kafka's RequestMetrics ThrottleTimeMs), the handler time of
 * requests exempt from the request quota (Kafka's exempt-request-time: here acks=0 produce requests, measured once a
 * request quota exists), and the requests waiting for a handler thread (Kafka's RequestQueueSize).
 */
class RequestQuotaMetricsTest {
    @TempDir
    Path dir;

    @Test
    void shouldShowThrottleTimesPerApiExemptRequestTimeAndTheRequestQueue() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("metrics.port", "0")
                .set("quota.window.num", "2").set("quota.window.size.seconds", "1"))) {
            Scrape idle = Scrape.of(tandem.metricsPort());
            assertEquals(0.0, idle.value("tandem_kafka_network_requestchannel_request_queue_size"),
                    "nothing waits for a handler thread on an idle broker");
            assertEquals(0.0, idle.value("tandem_kafka_server_request_exempt_request_time"),
                    "no request quota yet: nothing is measured");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("quoted", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                // 10 µs of handler time a second: every request of "busy" is over it, throttled one window (1 s).
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                        new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "busy")),
                        List.of(new ClientQuotaAlteration.Op("request_percentage", 0.001))))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<byte[], byte[]> busy = producer(tandem, "busy", "1")) {
                busy.send(new ProducerRecord<>("quoted", new byte[10])).get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<byte[], byte[]> fireAndForget = producer(tandem, "exempt", "0")) {
                for (int i = 0; i < 20; i++) fireAndForget.send(new ProducerRecord<>("quoted", new byte[10]));
                fireAndForget.flush();
            }
            Scrape after = Scrape.of(tandem.metricsPort());
            double maxProduceThrottle = after.value("tandem_kafka_request_throttle_time_milliseconds_max",
                    "api=\"Produce\"");
            assertEquals(1000.0, maxProduceThrottle, "a request over its quota is throttled one window, capped");
            assertTrue(after.value("tandem_kafka_request_throttle_time_milliseconds_count", "api=\"Produce\"") >= 2,
                    "the acks=0 requests, without an answer, are counted too: " + after.text());
            assertTrue(after.value("tandem_kafka_server_request_exempt_request_time") > 0,
                    "acks=0 produce requests are exempt, and their handler time is measured: " + after.text());
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(Tandem tandem, String clientId, String acks) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, clientId, ProducerConfig.ACKS_CONFIG, acks,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false"),
                new ByteArraySerializer(), new ByteArraySerializer());
    }
}
