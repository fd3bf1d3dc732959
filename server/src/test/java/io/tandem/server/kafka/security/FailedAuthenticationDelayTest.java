package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.network.ListenerLimits;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * connection.failed.authentication.delay.ms as Kafka's Selector applies it: a failed SASL authentication's answer
 * and the close after it wait out the delay (a real Java client sees Kafka's error no earlier), other clients on the
 * same event loop are served meanwhile, held connections count against max.connections.per.ip, 0 closes at once, a
 * delay not below connections.max.idle.ms is refused as Kafka refuses it, and DescribeConfigs reports the key.
 */
class FailedAuthenticationDelayTest {
    private static final int DELAY_MS = 2000;
    /** Scheduling is never early, but the client's clock starts a little after the broker's decision. */
    private static final long CLOCK_SLACK_MS = 50;
    private static final String PLAIN_USERS = JaasLoginModule.PLAIN_LOGIN_MODULE
            + " required user_alice=\"alice-secret\";";

    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(config(dir.resolve("delayed"), DELAY_MS)
                // One event loop: a held connection must not hold up the others on it.
                .set("num.network.threads", "1"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
    }

    private static TandemConfig config(Path data, int delayMs) {
        return TandemConfig.forTests(data)
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN")
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS)
                .set("connection.failed.authentication.delay.ms", Integer.toString(delayMs));
    }

    private static byte[] plain(String user, String password) {
        return ("\u0000" + user + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }

    /** Sends a v1 PLAIN handshake and a SaslAuthenticate with these credentials; returns its correlation id. */
    private static int sendLogin(RawKafkaConnection c, String password) throws Exception {
        SaslHandshakeResponse handshake = c.roundTrip(ApiKey.SASL_HANDSHAKE, (short) 1, (short) 0,
                new SaslHandshakeRequest().setMechanism("PLAIN"), SaslHandshakeResponse::read);
        assertEquals(Errors.NONE.code(), handshake.errorCode);
        return c.send(ApiKey.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequest().setAuthBytes(plain("alice",
                password)));
    }

    private static SaslAuthenticateResponse authenticateAnswer(RawKafkaConnection c, int id) throws Exception {
        return c.receive(id, (short) 1, (short) 2, SaslAuthenticateResponse::read);
    }

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    @Test
    void shouldHoldTheFailureAnswerAndTheCloseForTheDelayWhileServingOthers() throws Exception {
        int port = tandem.kafkaPort("SASL_PLAINTEXT");
        try (RawKafkaConnection guesser = new RawKafkaConnection(port);
             RawKafkaConnection user = new RawKafkaConnection(port)) {
            guesser.setTimeout(30_000);
            int id = sendLogin(guesser, "wrong");
            long failedAt = System.nanoTime();
            // Meanwhile another client on the same (only) event loop logs in and is served.
            SaslAuthenticateResponse ok = authenticateAnswer(user, sendLogin(user, "alice-secret"));
            assertEquals(Errors.NONE.code(), ok.errorCode);
            MetadataResponse metadata = user.roundTrip(ApiKey.METADATA, (short) 1, (short) 0,
                    new MetadataRequest().setTopics(null), MetadataResponse::read);
            assertEquals(1, metadata.brokers.size());
            long servedAfterMs = millisSince(failedAt);

            SaslAuthenticateResponse failed = authenticateAnswer(guesser, id);
            long answeredAfterMs = millisSince(failedAt);
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), failed.errorCode);
            assertEquals("Authentication failed: Invalid username or password", failed.errorMessage);
            assertTrue(answeredAfterMs >= DELAY_MS - CLOCK_SLACK_MS, "answered after " + answeredAfterMs + " ms");
            assertTrue(servedAfterMs < answeredAfterMs, "the other client was served (after " + servedAfterMs
                    + " ms) before the held answer went (" + answeredAfterMs + " ms)");
            assertTrue(guesser.closedWithin(10_000), "closed right after the held answer");
        }
    }

    @Test
    void shouldGiveTheJavaClientKafkasErrorNoEarlierThanTheDelay() throws Exception {
        long start = System.nanoTime();
        try (Admin admin = admin(tandem.kafkaPort("SASL_PLAINTEXT"), "wrong")) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, e.getCause());
            assertEquals("Authentication failed: Invalid username or password", e.getCause().getMessage());
        }
        long elapsedMs = millisSince(start);
        assertTrue(elapsedMs >= DELAY_MS - CLOCK_SLACK_MS, "failed after " + elapsedMs + " ms");
    }

    @Test
    void shouldHoldAnUnsupportedMechanismsAnswerAndARefusedRequestAsAuthenticationFailures() throws Exception {
        int port = tandem.kafkaPort("SASL_PLAINTEXT");
        try (RawKafkaConnection c = new RawKafkaConnection(port)) {
            c.setTimeout(30_000);
            long start = System.nanoTime();
            SaslHandshakeResponse refused = c.roundTrip(ApiKey.SASL_HANDSHAKE, (short) 1, (short) 0,
                    new SaslHandshakeRequest().setMechanism("SCRAM-SHA-512"), SaslHandshakeResponse::read);
            assertEquals(Errors.UNSUPPORTED_SASL_MECHANISM.code(), refused.errorCode);
            assertEquals(List.of("PLAIN"), refused.mechanisms);
            assertTrue(millisSince(start) >= DELAY_MS - CLOCK_SLACK_MS, "answered after " + millisSince(start) + " ms");
            assertTrue(c.closedWithin(10_000));
        }
        // Kafka: a request other than SaslAuthenticate once the exchange began is an IllegalSaslStateException,
        // answered with the request's own error response (held for the delay), then closed.
        try (RawKafkaConnection c = new RawKafkaConnection(port)) {
            c.setTimeout(30_000);
            c.roundTrip(ApiKey.SASL_HANDSHAKE, (short) 1, (short) 0, new SaslHandshakeRequest().setMechanism("PLAIN"),
                    SaslHandshakeResponse::read);
            long start = System.nanoTime();
            int id = c.send(ApiKey.METADATA, (short) 1, new MetadataRequest().setTopics(List.of(
                    new MetadataRequest.MetadataRequestTopic().setName("some-topic"))));
            assertFalse(c.closedWithin(DELAY_MS / 2), "still held half-way through the delay");
            MetadataResponse refused = c.receive(id, (short) 0, (short) 1, MetadataResponse::read);
            assertTrue(millisSince(start) >= DELAY_MS - CLOCK_SLACK_MS, "answered after " + millisSince(start) + " ms");
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), refused.topics.get(0).errorCode);
            assertTrue(c.closedWithin(10_000), "closed right after the answer");
        }
        // A request before the handshake is an invalid request in Kafka, closed at once.
        try (RawKafkaConnection c = new RawKafkaConnection(port)) {
            c.send(ApiKey.METADATA, (short) 1, new MetadataRequest().setTopics(null));
            assertTrue(c.closedWithin(DELAY_MS / 2), "closed before the delay");
        }
    }

    @Test
    void shouldCountHeldConnectionsAgainstTheConnectionsPerAddress() throws Exception {
        try (Tandem limited = Tandem.start(config(dir.resolve("limited"), DELAY_MS)
                .set("max.connections.per.ip", "2"))) {
            int port = limited.kafkaPort("SASL_PLAINTEXT");
            try (RawKafkaConnection first = new RawKafkaConnection(port);
                 RawKafkaConnection second = new RawKafkaConnection(port)) {
                first.setTimeout(30_000);
                second.setTimeout(30_000);
                int firstId = sendLogin(first, "wrong");
                int secondId = sendLogin(second, "wrong");
                long heldAt = System.nanoTime();
                try (RawKafkaConnection third = new RawKafkaConnection(port)) {
                    assertTrue(third.closedWithin(DELAY_MS / 2), "refused while two failed connections are held");
                }
                assertTrue(millisSince(heldAt) < DELAY_MS, "checked within the delay, else the test proves nothing");
                assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), authenticateAnswer(first, firstId).errorCode);
                assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), authenticateAnswer(second, secondId).errorCode);
                assertTrue(first.closedWithin(10_000));
                assertTrue(second.closedWithin(10_000));
            }
            awaitServed(port);
        }
    }

    @Test
    void shouldAnswerAndCloseAtOnceWithNoDelay() throws Exception {
        try (Tandem immediate = Tandem.start(config(dir.resolve("immediate"), 0))) {
            try (RawKafkaConnection c = new RawKafkaConnection(immediate.kafkaPort("SASL_PLAINTEXT"))) {
                long start = System.nanoTime();
                SaslAuthenticateResponse failed = authenticateAnswer(c, sendLogin(c, "wrong"));
                assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), failed.errorCode);
                assertTrue(c.closedWithin(DELAY_MS / 2));
                assertTrue(millisSince(start) < DELAY_MS, "closed after " + millisSince(start) + " ms");
            }
        }
    }

    @Test
    void shouldRefuseADelayNotBelowTheIdleTimeoutAsKafkaDoes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ListenerLimits(1 << 20, 1, 10, 10, 1000, -1, 1000));
        assertEquals("connection.failed.authentication.delay.ms=1000 should always be less than "
                + "connections.max.idle.ms=1000 to prevent failed authentication responses from timing out",
                e.getMessage());
        // Idle connections never closed: any delay.
        new ListenerLimits(1 << 20, 1, 10, 10, -1, -1, 1000);
        assertThrows(IllegalArgumentException.class, () -> new ListenerLimits(1 << 20, 1, 10, 10, -1, -1, -1));
    }

    @Test
    void shouldDescribeTheDelayAsAStaticReadOnlyKey() throws Exception {
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Config config = admin.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
            ConfigEntry entry = config.get("connection.failed.authentication.delay.ms");
            assertEquals(Integer.toString(DELAY_MS), entry.value());
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, entry.source());
            assertTrue(entry.isReadOnly());
            assertFalse(entry.isSensitive());
            assertEquals(ConfigEntry.ConfigType.INT, entry.type());
        }
    }

    private static Admin admin(int port, String password) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
                CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT", SaslConfigs.SASL_MECHANISM, "PLAIN",
                SaslConfigs.SASL_JAAS_CONFIG, JaasLoginModule.PLAIN_LOGIN_MODULE + " required username=\"alice\" "
                        + "password=\"" + password + "\";",
                CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    /** Once the held connections closed, the address's slots are free again: a login is served. */
    private static void awaitServed(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (RawKafkaConnection c = new RawKafkaConnection(port)) {
                if (authenticateAnswer(c, sendLogin(c, "alice-secret")).errorCode == Errors.NONE.code()) return;
            } catch (java.io.IOException closedMeanwhile) {
                // a slot not freed yet
            }
            Thread.sleep(100);
        }
        fail("no login was served after the held connections closed");
    }
}
