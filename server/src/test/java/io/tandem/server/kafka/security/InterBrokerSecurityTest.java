package io.tandem.server.kafka.security;

import io.tandem.server.tls.TestCertificates;
import io.tandem.kafka.client.KafkaAuthenticationException;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.network.BrokerChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.security.InterBrokerTestSettings.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The broker's client side of the inter-broker listener on its own: which endpoint of a peer it dials, and TLS
 * against a broker that requires client certificates (this broker's key store is its certificate; without one the
 * handshake fails as an authentication failure, never as a plaintext fallback).
 */
class InterBrokerSecurityTest {
    @TempDir
    Path dir;

    @Test
    void shouldDialThePeersEndpointOnTheInterBrokerListenerAndNeverAnotherOneWhenSecure() {
        BrokerRegistration peer = new BrokerRegistration(2, "10.0.0.2", 9092, "PLAINTEXT", null, 0, List.of(
                new ListenerEndpoint("PLAINTEXT", "PLAINTEXT", "10.0.0.2", 9092),
                new ListenerEndpoint("INTERNAL", "SASL_SSL", "10.0.1.2", 9094)));
        Map<String, String> settings = Map.of("sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                "listener.name.internal.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule"
                        + " required username=\"broker\" password=\"broker-secret\" user_broker=\"broker-secret\";",
                "ssl.endpoint.identification.algorithm", "");
        InterBrokerSecurity internal = InterBrokerSecurity.build("INTERNAL", "SASL_SSL", settings);
        assertEquals(new ListenerEndpoint("INTERNAL", "SASL_SSL", "10.0.1.2", 9094), internal.endpoint(peer));
        assertEquals("broker", internal.saslUser());
        BrokerRegistration plaintextOnly = new BrokerRegistration(3, "10.0.0.3", 9092, "PLAINTEXT", null, 0);
        assertNull(internal.endpoint(plaintextOnly), "a peer without the secure listener is not dialled in plaintext");
        InterBrokerSecurity plain = InterBrokerSecurity.build("REPLICATION", "PLAINTEXT", Map.of());
        assertEquals(9092, plain.endpoint(plaintextOnly).port(), "plaintext both ways may use the peer's first endpoint");
    }

    @Test
    void shouldPresentTheKeyStoreToABrokerRequiringClientCertificatesAndFailAsAuthenticationWithoutOne()
            throws Exception {
        TestCertificates certificates = TestCertificates.create(dir);
        Map<String, String> tls = presentingClientCertificate(certificates);
        try (Tandem broker = startRequiringClientCertificates(dir.resolve("broker"), certificates)) {
            BrokerRegistration peer = peer(broker, "SSL");
            try (BrokerChannel channel = new BrokerChannel(peer, InterBrokerSecurity.build("SSL", "SSL", tls),
                    "test", 10_000)) {
                MetadataResponse answer = (MetadataResponse) channel.send(ApiKey.METADATA, (short) 9,
                        new MetadataRequest());
                assertEquals(1, answer.brokers.size(), "TLS with the client certificate works");
            }
            Map<String, String> noKeyStore = new HashMap<>(tls);
            noKeyStore.keySet().removeIf(k -> k.startsWith("ssl.keystore."));
            try (BrokerChannel channel = new BrokerChannel(peer, InterBrokerSecurity.build("SSL", "SSL", noKeyStore),
                    "test", 10_000)) {
                IOException e = assertThrows(IOException.class, () -> channel.send(ApiKey.METADATA, (short) 9,
                        new MetadataRequest()));
                assertInstanceOf(KafkaAuthenticationException.class, e.getCause(), e.toString());
            }
            Map<String, String> untrusting = new HashMap<>(tls);
            untrusting.put("ssl.truststore.location", certificates.serverTrustStore.toString());
            try (BrokerChannel channel = new BrokerChannel(peer, InterBrokerSecurity.build("SSL", "SSL", untrusting),
                    "test", 10_000)) {
                IOException e = assertThrows(IOException.class, () -> channel.send(ApiKey.METADATA, (short) 9,
                        new MetadataRequest()));
                assertInstanceOf(KafkaAuthenticationException.class, e.getCause(), "a broker whose certificate "
                        + "this one does not trust is refused: " + e);
            }
        }
    }
}
