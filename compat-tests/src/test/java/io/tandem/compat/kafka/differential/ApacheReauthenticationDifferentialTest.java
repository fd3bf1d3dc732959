package io.tandem.compat.kafka.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-authentication (KIP-368) as another principal, on Apache Kafka 4.4 (KRaft, the version of the kafka-clients in
 * test scope) and on Tandem with the same SASL_PLAINTEXT PLAIN listener, side by side on the wire: a connection
 * authenticates as alice, serves a request, then sends SaslHandshake again and authenticates as bob. Kafka's
 * SaslServerAuthenticator.ReauthInfo refuses to change the principal: the re-authentication's handshake and
 * SaslAuthenticate answers (error code, message, session lifetime, bytes), what the connection does after (closed, or
 * still serving), and a re-authentication as the same principal, are compared with Apache's.
 */
class ApacheReauthenticationDifferentialTest {
    private static final String LOGINS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\" "
            + "user_bob=\"bob-secret\";";

    @TempDir
    static Path dir;
    static ApacheBroker apache;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        Map<String, String> settings = new HashMap<>(Differential.SETTINGS);
        settings.putAll(Map.of(
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                "listener.name.plaintext.plain.sasl.jaas.config", LOGINS,
                "connections.max.reauth.ms", "60000"));
        Map<String, String> apacheSettings = new HashMap<>(settings);
        // KRaft's controller listener stays plaintext; the client listener is SASL on both.
        apacheSettings.put("listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
        apache = ApacheBroker.kraftMode(ApacheKafkaLauncher.clientsVersion(), dir.resolve("apache"), apacheSettings);
        TandemConfig config = TandemConfig.forTests(dir.resolve("tandem"));
        settings.forEach(config::set);
        config.set("listener.security.protocol.map", "PLAINTEXT:SASL_PLAINTEXT");
        tandem = Tandem.start(config);
        awaitReady(apache.port());
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) tandem.close();
        if (apache != null) apache.close();
    }

    private static String side(int port) {
        return port == apache.port() ? "Apache Kafka " + apache.version() : "Tandem";
    }

    private static byte[] plain(String user) {
        return ("\u0000" + user + "\u0000" + user + "-secret").getBytes(StandardCharsets.UTF_8);
    }

    private static SaslAuthenticateResponseData login(WireClient c, String user) throws Exception {
        SaslHandshakeResponseData handshake = (SaslHandshakeResponseData) c.call(ApiKeys.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequestData().setMechanism("PLAIN"));
        if (handshake.errorCode() != 0) throw new AssertionError("handshake refused: " + handshake);
        return (SaslAuthenticateResponseData) c.call(ApiKeys.SASL_AUTHENTICATE, (short) 2,
                new SaslAuthenticateRequestData().setAuthBytes(plain(user)));
    }

    private static String metadata(WireClient c) throws Exception {
        MetadataResponseData answer = (MetadataResponseData) c.call(ApiKeys.METADATA, (short) 12,
                new MetadataRequestData().setTopics(List.of()));
        return "brokers " + answer.brokers().size();
    }

    @Test
    void shouldRefuseAReauthenticationAsAnotherPrincipalAsApacheKafkaDoes() throws Exception {
        List<String> answers = new ArrayList<>();
        for (int port : List.of(apache.port(), tandem.kafkaPort())) {
            try (WireClient c = new WireClient(port)) {
                SaslAuthenticateResponseData first = login(c, "alice");
                assertEquals(0, first.errorCode(), side(port) + ": " + first);
                assertEquals("brokers 1", metadata(c), side(port));
                SaslHandshakeResponseData handshake = (SaslHandshakeResponseData) c.call(ApiKeys.SASL_HANDSHAKE,
                        (short) 1, new SaslHandshakeRequestData().setMechanism("PLAIN"));
                SaslAuthenticateResponseData refused = (SaslAuthenticateResponseData) c.call(
                        ApiKeys.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequestData().setAuthBytes(plain("bob")));
                int closed = c.bytesUntilClosed(5_000);
                answers.add("handshake " + handshake + "\nauthenticate " + refused + "\nbytes until closed " + closed);
            }
        }
        assertEquals(answers.get(0), answers.get(1), "Apache's answers first");
        // What Apache answers (so two identical wrong answers cannot pass): SASL_AUTHENTICATION_FAILED (58) with
        // ReauthInfo's message, then the connection closes.
        assertTrue(answers.get(0).contains("errorCode=58, errorMessage='Cannot change principals during "
                + "re-authentication from User.alice: User.bob'"), answers.get(0));
        assertTrue(answers.get(0).endsWith("bytes until closed 0"), answers.get(0));
    }

    @Test
    void shouldReauthenticateAsTheSamePrincipalAsApacheKafkaDoes() throws Exception {
        List<String> answers = new ArrayList<>();
        for (int port : List.of(apache.port(), tandem.kafkaPort())) {
            try (WireClient c = new WireClient(port)) {
                assertEquals(0, login(c, "alice").errorCode(), side(port));
                SaslAuthenticateResponseData again = login(c, "alice");
                answers.add("authenticate " + again + "\n" + metadata(c));
            }
        }
        assertEquals(answers.get(0), answers.get(1), "Apache's answers first");
    }

    /** Waits until Apache's broker authenticates a client and answers Metadata with itself. */
    private static void awaitReady(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        String last = "";
        while (System.nanoTime() < deadline) {
            if (!apache.alive()) fail("Apache Kafka exited:\n" + apache.logTail());
            try (WireClient c = new WireClient(port)) {
                if (login(c, "alice").errorCode() == 0 && metadata(c).equals("brokers 1")) return;
            } catch (Exception | AssertionError notYet) {
                last = notYet.toString();
            }
            Thread.sleep(500);
        }
        fail("Apache Kafka did not get ready (" + last + "):\n" + apache.logTail());
    }
}
