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
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Re-authentication (KIP-368) as Kafka's brokers run it: SaslAuthenticate answers the session lifetime (the
 * listener's connections.max.reauth.ms, or less when the credential expires sooner), the Java client re-authenticates
 * on the same connection and keeps producing, a re-authentication must keep its principal and mechanism, and a
 * session that expired without one is closed on its next request.
 */
class ReauthenticationTest {
    /** The SASL_PLAINTEXT listener's connections.max.reauth.ms (a listener override of the broker-wide one). */
    private static final long SHORT_REAUTH_MS = 2000;
    /** The broker-wide connections.max.reauth.ms, in force on the LONG listener. */
    private static final long LONG_REAUTH_MS = 3_600_000;
    /** The LONG listener's OAUTHBEARER sessions: a per-mechanism override, as Kafka's SaslChannelBuilder reads it. */
    private static final long OAUTH_REAUTH_MS = 1_800_000;
    private static final String PLAIN_USERS = JaasLoginModule.PLAIN_LOGIN_MODULE
            + " required user_alice=\"alice-secret\" user_bob=\"bob-secret\";";

    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir)
                .set("listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,LONG://127.0.0.1:0")
                .set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,"
                        + "LONG:SASL_PLAINTEXT")
                .set("inter.broker.listener.name", "PLAINTEXT")
                .set("sasl.enabled.mechanisms", "PLAIN,OAUTHBEARER")
                .set("connections.max.reauth.ms", Long.toString(LONG_REAUTH_MS))
                .set("listener.name.sasl_plaintext.connections.max.reauth.ms", Long.toString(SHORT_REAUTH_MS))
                .set("listener.name.sasl_plaintext.plain.sasl.jaas.config", PLAIN_USERS)
                .set("listener.name.long.plain.sasl.jaas.config", PLAIN_USERS)
                .set("listener.name.long.oauthbearer.connections.max.reauth.ms", Long.toString(OAUTH_REAUTH_MS))
                .set("offsets.topic.num.partitions", "1"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            admin.createTopics(List.of(new NewTopic("reauth", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (tandem != null) tandem.close();
    }

    private static RawKafkaConnection connect(String listener) throws Exception {
        return new RawKafkaConnection(tandem.kafkaPort(listener));
    }

    private static SaslHandshakeResponse handshake(RawKafkaConnection c, String mechanism) throws Exception {
        return c.roundTrip(ApiKey.SASL_HANDSHAKE, (short) 1, (short) 0, new SaslHandshakeRequest().setMechanism(mechanism),
                SaslHandshakeResponse::read);
    }

    private static SaslAuthenticateResponse authenticate(RawKafkaConnection c, byte[] token) throws Exception {
        return c.roundTrip(ApiKey.SASL_AUTHENTICATE, (short) 2, (short) 1,
                new SaslAuthenticateRequest().setAuthBytes(token), SaslAuthenticateResponse::read);
    }

    /** A full PLAIN exchange; answers the session lifetime. */
    private static long plainLogin(RawKafkaConnection c, String user) throws Exception {
        assertEquals(Errors.NONE.code(), handshake(c, "PLAIN").errorCode);
        SaslAuthenticateResponse response = authenticate(c, plain(user));
        assertEquals(Errors.NONE.code(), response.errorCode, response.errorMessage);
        return response.sessionLifetimeMs;
    }

    private static byte[] plain(String user) {
        return ("\u0000" + user + "\u0000" + user + "-secret").getBytes(StandardCharsets.UTF_8);
    }

    private static MetadataResponse metadata(RawKafkaConnection c) throws Exception {
        return c.roundTrip(ApiKey.METADATA, (short) 1, (short) 0, new MetadataRequest().setTopics(null),
                MetadataResponse::read);
    }

    /** An OAUTHBEARER client first message with an unsecured JWS (what Kafka's unsecured login module sends). */
    private static byte[] unsecuredToken(String subject, long expiryMs) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
        String claims = b64.encodeToString(("{\"sub\":\"" + subject + "\",\"iat\":"
                + (System.currentTimeMillis() / 1000 - 1) + ",\"exp\":" + expiryMs / 1000 + "}")
                .getBytes(StandardCharsets.UTF_8));
        return ("n,,\u0001auth=Bearer " + header + "." + claims + ".\u0001\u0001").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldAnswerTheListenersReauthMsAsTheSessionLifetime() throws Exception {
        try (RawKafkaConnection c = connect("SASL_PLAINTEXT")) {
            assertEquals(SHORT_REAUTH_MS, plainLogin(c, "alice"), "the listener override wins");
        }
        try (RawKafkaConnection c = connect("LONG")) {
            assertEquals(LONG_REAUTH_MS, plainLogin(c, "alice"), "the broker-wide key");
        }
    }

    @Test
    void shouldBoundTheSessionByTheTokensExpiry() throws Exception {
        try (RawKafkaConnection c = connect("LONG")) {
            assertEquals(Errors.NONE.code(), handshake(c, "OAUTHBEARER").errorCode);
            SaslAuthenticateResponse response = authenticate(c,
                    unsecuredToken("alice", System.currentTimeMillis() + 60_000));
            assertEquals(Errors.NONE.code(), response.errorCode, response.errorMessage);
            assertTrue(response.sessionLifetimeMs > 30_000 && response.sessionLifetimeMs <= 60_000,
                    "the token expires in a minute, before connections.max.reauth.ms: " + response.sessionLifetimeMs);
        }
        try (RawKafkaConnection c = connect("LONG")) {
            assertEquals(Errors.NONE.code(), handshake(c, "OAUTHBEARER").errorCode);
            SaslAuthenticateResponse response = authenticate(c,
                    unsecuredToken("alice", System.currentTimeMillis() + 7_200_000));
            assertEquals(OAUTH_REAUTH_MS, response.sessionLifetimeMs, "the mechanism's own key on this listener");
        }
        try (RawKafkaConnection c = connect("SASL_PLAINTEXT")) {
            assertEquals(Errors.NONE.code(), handshake(c, "OAUTHBEARER").errorCode);
            SaslAuthenticateResponse response = authenticate(c,
                    unsecuredToken("alice", System.currentTimeMillis() + 60_000));
            assertEquals(SHORT_REAUTH_MS, response.sessionLifetimeMs, "connections.max.reauth.ms comes first");
        }
    }

    @Test
    void shouldReauthenticateOnTheSameConnectionAtMostOnceASecond() throws Exception {
        try (RawKafkaConnection c = connect("SASL_PLAINTEXT")) {
            plainLogin(c, "alice");
            assertEquals(1, metadata(c).brokers.size());
            assertEquals(SHORT_REAUTH_MS, plainLogin(c, "alice"), "re-authenticated, with a new session");
            assertEquals(1, metadata(c).brokers.size());
            assertEquals(Errors.ILLEGAL_SASL_STATE.code(), handshake(c, "PLAIN").errorCode,
                    "a second re-authentication within a second is not started");
            assertEquals(1, metadata(c).brokers.size());
        }
    }

    @Test
    void shouldRefuseAReauthenticationAsAnotherPrincipal() throws Exception {
        try (RawKafkaConnection c = connect("SASL_PLAINTEXT")) {
            plainLogin(c, "alice");
            assertEquals(Errors.NONE.code(), handshake(c, "PLAIN").errorCode);
            SaslAuthenticateResponse response = authenticate(c, plain("bob"));
            assertEquals(Errors.SASL_AUTHENTICATION_FAILED.code(), response.errorCode);
            assertEquals("Cannot change principals during re-authentication from User.alice: User.bob",
                    response.errorMessage);
            assertTrue(c.closedWithin(5_000));
        }
    }

    @Test
    void shouldCloseAReauthenticationWithAnotherMechanism() throws Exception {
        try (RawKafkaConnection c = connect("SASL_PLAINTEXT")) {
            plainLogin(c, "alice");
            assertEquals(Errors.NONE.code(), handshake(c, "OAUTHBEARER").errorCode, "Kafka accepts the handshake");
            c.send(ApiKey.SASL_AUTHENTICATE, (short) 2,
                    new SaslAuthenticateRequest().setAuthBytes(unsecuredToken("alice", System.currentTimeMillis() + 60_000)));
            assertTrue(c.closedWithin(5_000), "and fails the exchange without an answer");
        }
    }

    @Test
    void shouldCloseAnExpiredSessionOnItsNextRequestButLetItReauthenticate() throws Exception {
        try (RawKafkaConnection expired = connect("SASL_PLAINTEXT");
             RawKafkaConnection renewed = connect("SASL_PLAINTEXT")) {
            plainLogin(expired, "alice");
            plainLogin(renewed, "alice");
            long authenticatedAt = System.nanoTime();
            assertEquals(1, metadata(expired).brokers.size());
            // The sessions must run out: time itself is what is tested here.
            long waitMs = SHORT_REAUTH_MS + 500 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - authenticatedAt);
            if (waitMs > 0) Thread.sleep(waitMs);
            expired.send(ApiKey.METADATA, (short) 1, new MetadataRequest().setTopics(null));
            assertTrue(expired.closedWithin(5_000), "an expired session's request closes the connection");
            assertEquals(SHORT_REAUTH_MS, plainLogin(renewed, "alice"), "a SaslHandshake still re-authenticates");
            assertEquals(1, metadata(renewed).brokers.size());
        }
    }

    @Test
    void shouldLetTheJavaClientReauthenticateAndKeepProducing() throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + tandem.kafkaPort("SASL_PLAINTEXT"));
        props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        props.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        props.put(SaslConfigs.SASL_JAAS_CONFIG, JaasLoginModule.PLAIN_LOGIN_MODULE
                + " required username=\"alice\" password=\"alice-secret\";");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHORT_REAUTH_MS * 4);
            int sent = 0;
            while (System.nanoTime() - until < 0 || metric(producer, "successful-reauthentication-total") < 2) {
                producer.send(new ProducerRecord<>("reauth", "k", "v" + sent++)).get(30, TimeUnit.SECONDS);
                assertTrue(sent < 100_000 && System.nanoTime() - until < TimeUnit.SECONDS.toNanos(60),
                        "the client should have re-authenticated twice by now");
            }
            assertTrue(metric(producer, "successful-reauthentication-total") >= 2);
            assertEquals(0.0, metric(producer, "failed-reauthentication-total"));
            assertEquals(0.0, metric(producer, "failed-authentication-total"));
        }
    }

    /** The sum of a client metric over its tags (one per connection group). */
    private static double metric(KafkaProducer<?, ?> producer, String name) {
        double sum = 0;
        boolean found = false;
        for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
            if (e.getKey().name().equals(name)) {
                sum += ((Number) e.getValue().metricValue()).doubleValue();
                found = true;
            }
        }
        assertTrue(found, "no client metric " + name);
        return sum;
    }

    @Test
    void shouldKeepTheConnectionOfAClientThatReauthenticates() throws Exception {
        // Apache closes what has expired; a connection that re-authenticated in time is never among them.
        try (RawKafkaConnection c = connect("SASL_PLAINTEXT")) {
            plainLogin(c, "alice");
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHORT_REAUTH_MS * 2);
            long lastLogin = System.nanoTime();
            while (System.nanoTime() - deadline < 0) {
                if (System.nanoTime() - lastLogin > TimeUnit.MILLISECONDS.toNanos(SHORT_REAUTH_MS / 2)) {
                    plainLogin(c, "alice");
                    lastLogin = System.nanoTime();
                }
                assertEquals(1, metadata(c).brokers.size());
                assertFalse(c.socket.isClosed());
                Thread.sleep(100); // pacing only: each answer above is what is checked
            }
        }
    }
}
