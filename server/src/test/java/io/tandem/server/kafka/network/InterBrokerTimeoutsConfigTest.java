package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.BrokerConfig;
import io.tandem.server.kafka.BrokerConfigKeys;
import io.tandem.server.kafka.BrokerConfigPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * replica.socket.timeout.ms, controller.socket.timeout.ms, socket.connection.setup.timeout.ms and its max are applied
 * to the inter-broker clients Kafka 3.9 applies each to, so they are taken with their defaults, never accepted and
 * ignored; replica.socket.timeout.ms below replica.fetch.wait.max.ms is refused as KafkaConfig refuses it.
 */
class InterBrokerTimeoutsConfigTest {
    private static final String TOO_SHORT = "replica.socket.timeout.ms should always be at least "
            + "replica.fetch.wait.max.ms to prevent unnecessary socket timeouts";

    @Test
    void shouldTakeEachKeyWithItsDefaultAndRefuseWhatCannotWork() {
        for (String key : new String[] {"replica.socket.timeout.ms", "controller.socket.timeout.ms",
                "socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms"}) {
            assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict(key, "2500", Map.of()).kind(), key);
            assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict(key, "0", Map.of()).kind(), key);
            assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict(key, "soon", Map.of()).kind(), key);
        }
        assertEquals("30000", BrokerConfigKeys.defaultValue("replica.socket.timeout.ms"));
        assertEquals("30000", BrokerConfigKeys.defaultValue("controller.socket.timeout.ms"));
        assertEquals("10000", BrokerConfigKeys.defaultValue("socket.connection.setup.timeout.ms"));
        assertEquals("30000", BrokerConfigKeys.defaultValue("socket.connection.setup.timeout.max.ms"));
        assertEquals(new InterBrokerTimeouts(30_000, 30_000, 10_000, 30_000), InterBrokerTimeouts.KAFKA_DEFAULTS);
    }

    @Test
    void shouldRefuseAReplicaSocketTimeoutShorterThanTheFetchWaitAsKafkaConfig() {
        // Against Kafka's replica.fetch.wait.max.ms default (500 ms), and against a value set.
        assertEquals(Kind.IMPLEMENTED, BrokerConfigPolicy.verdict("replica.socket.timeout.ms", "500", Map.of()).kind());
        var refused = BrokerConfigPolicy.verdict("replica.socket.timeout.ms", "499", Map.of());
        assertEquals(Kind.REFUSED, refused.kind());
        assertEquals(TOO_SHORT, refused.reason());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.socket.timeout.ms", "900",
                Map.of("replica.fetch.wait.max.ms", "1000")).kind());
        // The same pair refused from the fetch wait's side, whichever key the check meets first.
        var fromWait = BrokerConfigPolicy.verdict("replica.fetch.wait.max.ms", "1000",
                Map.of("replica.socket.timeout.ms", "900"));
        assertEquals(Kind.REFUSED, fromWait.kind());
        assertEquals(TOO_SHORT, fromWait.reason());
        assertEquals(Kind.REFUSED, BrokerConfigPolicy.verdict("replica.fetch.wait.max.ms", "30001", Map.of()).kind());
    }

    @Test
    void shouldGiveEachInterBrokerClientItsKafkaTimeouts(@TempDir Path dir) {
        TandemConfig config = TandemConfig.forTests(dir).set("replica.socket.timeout.ms", "1500")
                .set("controller.socket.timeout.ms", "2500").set("socket.connection.setup.timeout.ms", "700")
                .set("socket.connection.setup.timeout.max.ms", "4000");
        InterBrokerTimeouts timeouts = BrokerConfig.from(config).interBrokerTimeouts();
        assertEquals(new InterBrokerTimeouts(1500, 2500, 700, 4000), timeouts);

        InterBrokerClient.Settings fetcher = timeouts.replicaFetcher("fetcher");
        assertEquals(1500, fetcher.requestTimeoutMs());
        assertEquals(0, fetcher.reconnectBackoffMs());
        InterBrokerClient.Settings toBroker = timeouts.controllerToBroker("controller");
        assertEquals(2500, toBroker.requestTimeoutMs());
        assertEquals(0, toBroker.reconnectBackoffMs());
        InterBrokerClient.Settings toController = timeouts.brokerToController("to-controller");
        assertEquals(2500, toController.requestTimeoutMs());
        // A request.timeout.ms channel (transaction markers, ...) keeps its own request timeout.
        InterBrokerClient.Settings markers = timeouts.setUp(InterBrokerClient.Settings.kafka("markers", 1, 30_000));
        assertEquals(30_000, markers.requestTimeoutMs());
        for (InterBrokerClient.Settings s : List.of(fetcher, toBroker, toController, markers)) {
            assertEquals(700, s.connectionSetupTimeoutMs(), s.clientId());
            assertEquals(4000, s.connectionSetupTimeoutMaxMs(), s.clientId());
        }
    }
}
