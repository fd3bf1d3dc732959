package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.BrokerConfigKeys;
import io.tandem.server.kafka.BrokerConfigPolicy;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * replica.fetch.wait.max.ms, replica.fetch.min.bytes and replica.fetch.response.max.bytes are applied to the
 * followers' fetches (ReplicaFetchWaitTest shows it on the wire), so they are taken with Kafka's validators, its
 * defaults and KafkaConfig's cross-checks, never accepted and ignored.
 */
class ReplicaFetcherConfigTest {
    private static final String LAG_TOO_SHORT = "replica.fetch.wait.max.ms should always be less than or equal to "
            + "replica.lag.time.max.ms to prevent frequent changes in ISR";

    @Test
    void shouldTakeTheFetchKeysWithKafkasValidatorsAndDefaults() {
        for (String key : new String[] {"replica.fetch.wait.max.ms", "replica.fetch.min.bytes",
                "replica.fetch.response.max.bytes", "replica.fetch.max.bytes"}) {
            assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict(key, "2000", Map.of()).kind(), key);
            assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict(key, "lots", Map.of()).kind(), key);
        }
        // Kafka's atLeast(0) on the two byte limits; neither the wait nor min.bytes has a validator in Kafka.
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.response.max.bytes", "-1", Map.of()).kind());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.max.bytes", "-1", Map.of()).kind());
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.fetch.min.bytes", "0", Map.of()).kind());
        // An answer above what the inter-broker client takes could never arrive.
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.response.max.bytes",
                String.valueOf(200 * 1024 * 1024), Map.of()).kind());

        assertEquals(String.valueOf(ReplicaFetcherConfig.WAIT_MAX_MS_DEFAULT),
                BrokerConfigKeys.defaultValue("replica.fetch.wait.max.ms"));
        assertEquals(String.valueOf(ReplicaFetcherConfig.MIN_BYTES_DEFAULT),
                BrokerConfigKeys.defaultValue("replica.fetch.min.bytes"));
        assertEquals(String.valueOf(ReplicaFetcherConfig.RESPONSE_BYTES_MAX_DEFAULT),
                BrokerConfigKeys.defaultValue("replica.fetch.response.max.bytes"));
        assertEquals(String.valueOf(ReplicaFetcherConfig.PARTITION_BYTES_MAX_DEFAULT),
                BrokerConfigKeys.defaultValue("replica.fetch.max.bytes"));
    }

    @Test
    void shouldRefuseAFetchWaitAboveTheReplicaLagTimeAsKafkaConfig() {
        // Against Kafka's replica.lag.time.max.ms default (30 s), and against a value set, from either side.
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.fetch.wait.max.ms", "30000",
                Map.of("replica.socket.timeout.ms", "60000")).kind());
        var refused = BrokerConfigPolicy.verdict("replica.fetch.wait.max.ms", "30001",
                Map.of("replica.socket.timeout.ms", "60000"));
        assertEquals(Kind.REFUSED, refused.kind());
        assertEquals(LAG_TOO_SHORT, refused.reason());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.wait.max.ms", "2000",
                Map.of("replica.lag.time.max.ms", "1000")).kind());
        var fromLag = BrokerConfigPolicy.verdict("replica.lag.time.max.ms", "1000",
                Map.of("replica.fetch.wait.max.ms", "2000"));
        assertEquals(Kind.REFUSED, fromLag.kind());
        assertEquals(LAG_TOO_SHORT, fromLag.reason());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.lag.time.max.ms", "499", Map.of()).kind());
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.lag.time.max.ms", "500", Map.of()).kind());
    }

    @Test
    void shouldReadEveryFetchSettingFromTheConfiguration(@TempDir Path dir) {
        assertEquals(ReplicaFetcherConfig.KAFKA_DEFAULTS, ReplicaFetcherConfig.from(TandemConfig.forTests(dir)));
        ReplicaFetcherConfig set = ReplicaFetcherConfig.from(TandemConfig.forTests(dir)
                .set("replica.fetch.max.bytes", "4096").set("replica.fetch.wait.max.ms", "2000")
                .set("replica.fetch.min.bytes", "64").set("replica.fetch.response.max.bytes", "65536")
                .set("replica.fetch.backoff.ms", "250"));
        assertEquals(new ReplicaFetcherConfig(4096, 2000, 64, 65536, 250), set);
    }
}
