package io.tandem.server.kafka.security;

import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The broker's client side of the inter-broker listener on its own: which endpoint of a peer it dials. TLS against a
 * broker that requires client certificates is {@link InterBrokerClientSecurityTest}'s.
 */
class InterBrokerSecurityTest {
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
}
