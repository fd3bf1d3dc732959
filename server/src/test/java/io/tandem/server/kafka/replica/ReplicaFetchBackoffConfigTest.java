package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.kafka.BrokerConfigKeys;
import io.tandem.server.kafka.BrokerConfigPolicy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * replica.fetch.backoff.ms is honoured (the followers' fetchers wait that long for a partition in error, see
 * {@link ReplicaFetcherTest}), so it is taken with Kafka's validator (at least 0) and its default, never accepted and
 * ignored.
 */
class ReplicaFetchBackoffConfigTest {
    @Test
    void shouldHonourReplicaFetchBackoffWithKafkasValidatorAndDefault() {
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.fetch.backoff.ms", "250", Map.of()).kind());
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.fetch.backoff.ms", "0", Map.of()).kind());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.backoff.ms", "-1", Map.of()).kind());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.backoff.ms", "soon", Map.of()).kind());
        assertEquals(String.valueOf(ReplicaFetcherConfig.BACKOFF_MS_DEFAULT),
                BrokerConfigKeys.defaultValue("replica.fetch.backoff.ms"));
    }
}
