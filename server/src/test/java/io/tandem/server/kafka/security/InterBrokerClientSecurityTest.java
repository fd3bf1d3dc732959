package io.tandem.server.kafka.security;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.tls.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.security.InterBrokerTestSettings.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The non-blocking inter-broker client with the inter-broker listener's security, against a real broker: TLS with a
 * client certificate required (without one, or with a broker it does not trust, an authentication failure, never a
 * plaintext fallback; passed on as INVALID_CONFIG, Kafka 4.x's error for an SslAuthenticationException), and
 * SASL_SSL with PLAIN (TLS, ApiVersions, SaslHandshake, SaslAuthenticate; a wrong password is
 * SASL_AUTHENTICATION_FAILED), each carrying several requests at once once it is up.
 */
class InterBrokerClientSecurityTest {
    private static final String LISTENER_PLAIN_JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule"
            + " required username=\"broker\" password=\"%s\" user_broker=\"broker-secret\";";
    @TempDir
    Path dir;

    private static InterBrokerClient client(InterBrokerSecurity security) {
        return new InterBrokerClient(InterBrokerClient.Settings.kafka("test-inter-broker", 4, 10_000), security);
    }

    private static MetadataResponse metadata(InterBrokerClient client, BrokerRegistration peer) throws Exception {
        return (MetadataResponse) client.send(peer, ApiKey.METADATA, (short) 9, new MetadataRequest())
                .get(30, TimeUnit.SECONDS);
    }

    /** Several requests at once on the secured connection, each answered. */
    private static void assertSeveralAnswered(InterBrokerClient client, BrokerRegistration peer) throws Exception {
        List<CompletableFuture<ApiMessage>> answers = new ArrayList<>();
        for (int i = 0; i < 8; i++) answers.add(client.send(peer, ApiKey.METADATA, (short) 9, new MetadataRequest()));
        for (CompletableFuture<ApiMessage> a : answers) {
            assertEquals(1, ((MetadataResponse) a.get(30, TimeUnit.SECONDS)).brokers.size());
        }
    }

    /** {@code error}: the Kafka error the failure is passed on as (Kafka's Errors.forException of it). */
    private static void assertAuthenticationFails(InterBrokerClient client, BrokerRegistration peer, String says,
                                                  Errors error) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> metadata(client, peer));
        assertInstanceOf(InterBrokerClient.AuthenticationFailure.class, e.getCause(), e.toString());
        assertTrue(e.getCause().getMessage().contains(says), e.getCause().getMessage());
        assertEquals(error.code(), ((InterBrokerClient.AuthenticationFailure) e.getCause()).error());
    }

    @Test
    void shouldTalkTlsWithTheClientCertificateAndFailAsAuthenticationWithoutOne() throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        Map<String, String> tls = presentingClientCertificate(certificates);
        try (Tandem broker = startRequiringClientCertificates(dir.resolve("broker"), certificates)) {
            BrokerRegistration peer = peer(broker, "SSL");
            try (InterBrokerClient client = client(InterBrokerSecurity.build("SSL", "SSL", tls))) {
                assertEquals(1, metadata(client, peer).brokers.size(), "TLS with the client certificate works");
                assertSeveralAnswered(client, peer);
            }
            Map<String, String> noKeyStore = new HashMap<>(tls);
            noKeyStore.keySet().removeIf(k -> k.startsWith("ssl.keystore."));
            try (InterBrokerClient client = client(InterBrokerSecurity.build("SSL", "SSL", noKeyStore))) {
                assertAuthenticationFails(client, peer, "TLS", Errors.INVALID_CONFIG);
            }
            Map<String, String> untrusting = new HashMap<>(tls);
            untrusting.put("ssl.truststore.location", certificates.serverTrustStore.toString());
            try (InterBrokerClient client = client(InterBrokerSecurity.build("SSL", "SSL", untrusting))) {
                assertAuthenticationFails(client, peer, "TLS", Errors.INVALID_CONFIG);
            }
        }
    }

    @Test
    void shouldAuthenticateWithSaslOverTlsAndRefuseAWrongPassword() throws Exception {
        Map<String, String> settings = saslSsl(TestCertificates.create(dir), "PLAIN",
                String.format(LISTENER_PLAIN_JAAS, "broker-secret"));
        TandemConfig config = broker(dir.resolve("broker"), settings);
        try (Tandem broker = Tandem.start(config)) {
            BrokerRegistration peer = peer(broker, "SASL_SSL");
            try (InterBrokerClient client = client(InterBrokerSecurity.build("SASL_SSL", "SASL_SSL", settings))) {
                assertEquals(1, metadata(client, peer).brokers.size(), "SASL PLAIN over TLS works");
                assertSeveralAnswered(client, peer);
            }
            Map<String, String> wrong = new HashMap<>(settings);
            wrong.put("listener.name.sasl_ssl.plain.sasl.jaas.config", String.format(LISTENER_PLAIN_JAAS,
                    "not-the-password"));
            try (InterBrokerClient client = client(InterBrokerSecurity.build("SASL_SSL", "SASL_SSL", wrong))) {
                assertAuthenticationFails(client, peer, "SASL_AUTHENTICATION_FAILED",
                        Errors.SASL_AUTHENTICATION_FAILED);
            }
        }
    }
}
