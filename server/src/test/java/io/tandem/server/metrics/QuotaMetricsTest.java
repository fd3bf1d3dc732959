package io.tandem.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.errors.ThrottlingQuotaExceededException;
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
            assertEquals(0, before.value("tandem_kafka_server_produce_queue_size"), before.text());
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

    /**
     * Kafka's ControllerMutation group (KIP-599): a client id over its controller_mutation_rate shows the partitions
     * it created per second, the tokens its bucket is in debt and the throttle time of its refused CreateTopics.
     */
    @Test
    void shouldShowTheMutationRateTokensAndThrottleTimeOfTheControllerMutationQuota() throws Exception {
        String mutation = "tandem_kafka_server_controllermutation_";
        String client = "client_id=\"mutator\"";
        // Two windows of 1 s at 1 partition per second: a burst of 2 permits.
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("metrics.port", "0")
                .set("controller.quota.window.num", "2").set("controller.quota.window.size.seconds", "1"))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                        new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "mutator")),
                        List.of(new ClientQuotaAlteration.Op("controller_mutation_rate", 1.0))))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            assertFalse(Scrape.of(tandem.metricsPort()).has(mutation + "mutation_rate", client));
            try (Admin mutator = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers(), AdminClientConfig.CLIENT_ID_CONFIG, "mutator"))) {
                // A bucket that is not in debt admits the whole topic: 10 permits leave it 8 in debt, 8 s to refill.
                mutator.createTopics(List.of(new NewTopic("ten", 10, (short) 1))).all().get(30, TimeUnit.SECONDS);
                assertTrue(Double.isNaN(Scrape.of(tandem.metricsPort()).value(mutation + "throttle_time", client)),
                        "the request that went into debt was not throttled");
                // The next is refused THROTTLING_QUOTA_EXCEEDED with the time to refill the debt.
                ExecutionException refused = assertThrows(ExecutionException.class, () -> mutator.createTopics(
                        List.of(new NewTopic("one", 1, (short) 1)), new CreateTopicsOptions()
                                .retryOnQuotaViolation(false)).all().get(30, TimeUnit.SECONDS));
                assertInstanceOf(ThrottlingQuotaExceededException.class, refused.getCause());
                Scrape after = Scrape.of(tandem.metricsPort());
                assertTrue(after.value(mutation + "mutation_rate", client, "user=\"\"") > 0, after.text());
                double tokens = after.value(mutation + "tokens", client);
                assertTrue(tokens < -5 && tokens >= -8, "about 8 permits in debt: " + tokens);
                double throttle = after.value(mutation + "throttle_time", client);
                assertTrue(throttle > 5_000 && throttle <= 8_000, "about 8000 ms: " + throttle);
                // Kafka's queue-size: the refusing answer's connection is held for its ~8 s throttle by this quota
                // alone (the request quota, which has no quota here, throttles nothing).
                assertEquals(1, after.value(mutation + "queue_size"), after.text());
                assertEquals(0, after.value("tandem_kafka_server_request_queue_size"));
            }
        }
    }

    /**
     * Kafka's socket-server-metrics of the connection creation rates (KIP-612) on a node with two listeners:
     * EXTERNAL's own max.connection.creation.rate of 1 makes its acceptor wait for a second connection
     * ({@code connection-accept-throttle-time}), INTERNAL has no rate and never waits, and a connection refused by
     * its IP's connection_creation_rate shows as {@code ip-connection-accept-throttle-time} of the listener it came
     * to, beside the address's own {@code connection-accept-rate}.
     */
    @Test
    void shouldShowTheConnectionAcceptRatesAndThrottleTimesPerListener() throws Exception {
        String socket = "tandem_kafka_server_socket_server_metrics_";
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("metrics.port", "0")
                .set("quota.window.num", "2").set("quota.window.size.seconds", "1")
                .set("listeners", "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0")
                .set("listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT")
                .set("inter.broker.listener.name", "INTERNAL")
                .set("listener.name.external.max.connection.creation.rate", "1"))) {
            int external = tandem.kafkaPort("EXTERNAL");
            try (RawKafkaConnection first = new RawKafkaConnection(external);
                 RawKafkaConnection second = new RawKafkaConnection(external)) {
                second.setTimeout(10_000);
                first.apiVersions();
                second.apiVersions();
            }
            Scrape waited = Scrape.of(tandem.metricsPort());
            // Two connections in a young one-second window at 1 per second: the second waits about (2 - 1) / 1 s.
            double throttle = waited.value(socket + "connection_accept_throttle_time", "listener=\"EXTERNAL\"");
            assertTrue(throttle > 500 && throttle <= 1000, "about 1000 ms: " + throttle);
            assertTrue(waited.value(socket + "connection_accept_rate", "listener=\"EXTERNAL\"") > 0, waited.text());
            assertTrue(waited.value(socket + "broker_connection_accept_rate") > 0, waited.text());
            assertTrue(Double.isNaN(waited.value(socket + "ip_connection_accept_throttle_time",
                    "listener=\"EXTERNAL\"")), "no IP quota yet");

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + tandem.kafkaPort("INTERNAL")))) {
                admin.alterClientQuotas(List.of(new ClientQuotaAlteration(
                        new ClientQuotaEntity(Map.of(ClientQuotaEntity.IP, "127.0.0.1")),
                        List.of(new ClientQuotaAlteration.Op("connection_creation_rate", 1.0))))).all()
                        .get(30, TimeUnit.SECONDS);
            }
            int internal = tandem.kafkaPort("INTERNAL");
            try (RawKafkaConnection within = new RawKafkaConnection(internal);
                 RawKafkaConnection refused = new RawKafkaConnection(internal)) {
                refused.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
                assertTrue(refused.closedWithin(5_000), "a connection over its IP rate was kept or answered");
            }
            Scrape refusedScrape = Scrape.of(tandem.metricsPort());
            double ipThrottle = refusedScrape.value(socket + "ip_connection_accept_throttle_time",
                    "listener=\"INTERNAL\"");
            assertTrue(ipThrottle > 500 && ipThrottle <= 1000, "about 1000 ms: " + ipThrottle);
            assertTrue(refusedScrape.value(socket + "connection_accept_rate", "ip=\"127.0.0.1\"") > 0,
                    refusedScrape.text());
            assertTrue(Double.isNaN(refusedScrape.value(socket + "connection_accept_throttle_time",
                    "listener=\"INTERNAL\"")), "INTERNAL has no rate of its own: " + refusedScrape.text());
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
