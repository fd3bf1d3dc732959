package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The versions Kafka 4.x removed (KIP-896: Produce 0-2, Fetch 0-3, ...) and the inter-broker keys it dropped
 * (LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown), checked against kafka-clients 3.9 loaded in an
 * isolated class loader (the build copies its jar into target/kafka-old). Versions 4.4 also knows are covered by
 * {@link OfficialClientsCompatibilityTest}.
 */
class OldClientsCompatibilityTest {
    private static final long SEED = Long.getLong("kafkawire.seed", 20261125L);

    @Test
    void shouldMatchKafkaClients39ForVersionsKafka4Removed() throws Exception {
        Path jar = Path.of(System.getProperty("kafkawire.oldClientsJar", "target/kafka-old/kafka-clients-old.jar"));
        assertTrue(Files.exists(jar), "the build should have copied the old kafka-clients jar to " + jar);
        KafkaOracle current = new KafkaOracle(OldClientsCompatibilityTest.class.getClassLoader());
        Map<String, KafkaOracle.Pair> currentPairs = new HashMap<>();
        for (KafkaOracle.Pair pair : current.pairs()) {
            currentPairs.put(pair.name(), pair);
        }
        // Parent: the platform loader, so that nothing of kafka-clients 4.4 on the test classpath leaks in.
        URL slf4j = jar.resolveSibling("slf4j-api.jar").toUri().toURL();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL(), slf4j},
                ClassLoader.getPlatformClassLoader())) {
            KafkaOracle old = new KafkaOracle(loader);
            CompatibilityCheck check = new CompatibilityCheck(old);
            int provenMessageVersions = 0;
            int provenRequests = 0;
            for (KafkaOracle.Pair pair : old.pairs()) {
                KafkaOracle.Pair newer = currentPairs.get(pair.name());
                List<Short> proven = check.check(pair,
                        version -> newer == null || version < newer.lowest() || version > newer.highest(), SEED);
                provenMessageVersions += proven.size();
                if (pair.name().endsWith("Request")) {
                    provenRequests += proven.size();
                }
            }
            System.out.printf("kafka-wire vs kafka-clients %s (versions 4.x removed): %d message versions proven "
                    + "(%d request versions), %d failures%n", System.getProperty("kafkawire.oldClientsVersion", "3.9"),
                    provenMessageVersions, provenRequests, check.failures.size());
            assertEquals(List.of(), check.failures.subList(0, Math.min(30, check.failures.size())),
                    check.failures.size() + " failures");
            assertTrue(provenRequests >= 40, "suspiciously few old versions checked: " + provenRequests);
        }
    }
}
