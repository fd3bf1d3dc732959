package io.tandem.server.kafka.quota;

import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.kafka.BrokerConfigPolicy;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The quota window keys are honoured with Kafka's checks; a custom quota callback is refused, never ignored. */
class QuotaConfigKeysTest {
    @Test
    void shouldHonourTheQuotaWindowKeysWithKafkasBounds() {
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("quota.window.num", "2", Map.of()).kind());
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("quota.window.size.seconds", "5", Map.of()).kind());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("quota.window.num", "0", Map.of()).kind());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("quota.window.size.seconds", "x", Map.of()).kind());
        assertEquals(new QuotaWindow(2, 5000),
                ClientQuotas.window(Map.of("quota.window.num", "2", "quota.window.size.seconds", "5")));
        assertEquals(QuotaWindow.DEFAULT, ClientQuotas.window(Map.of()));
    }

    @Test
    void shouldRefuseACustomQuotaCallback() {
        assertEquals(Kind.REFUSED,
                BrokerConfigPolicy.verdict("client.quota.callback.class", "com.example.Callback", Map.of()).kind());
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("client.quota.callback.class", "", Map.of()).kind());
    }
}
