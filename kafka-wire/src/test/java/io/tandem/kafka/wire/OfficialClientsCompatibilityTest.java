package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every (message, version) that both our codec and kafka-clients 4.4 (test classpath) know, checked both ways against
 * the official classes: see {@link CompatibilityCheck}.
 */
class OfficialClientsCompatibilityTest {
    private static final long SEED = Long.getLong("kafkawire.seed", 20261125L);

    @Test
    void shouldMatchKafkaClients44ForEveryKeyAndVersion() throws Exception {
        KafkaOracle oracle = new KafkaOracle(OfficialClientsCompatibilityTest.class.getClassLoader());
        CompatibilityCheck check = new CompatibilityCheck(oracle);
        List<String> provenPairs = new ArrayList<>();
        int provenMessages = 0;
        for (KafkaOracle.Pair pair : oracle.pairs()) {
            List<Short> proven = check.check(pair, version -> true, SEED);
            provenMessages += proven.size();
            if (pair.name().endsWith("Request")) {
                for (short version : proven) {
                    provenPairs.add(pair.name().substring(0, pair.name().length() - "Request".length()) + " v" + version);
                }
            }
        }
        // A (key, version) is proven when both its request and its response passed.
        int provenKeyVersions = 0;
        for (KafkaOracle.Pair pair : oracle.pairs()) {
            if (pair.name().endsWith("Response")) {
                String api = pair.name().substring(0, pair.name().length() - "Response".length());
                for (short version = pair.lowest(); version <= pair.highest(); version++) {
                    if (provenPairs.contains(api + " v" + version) && !failedAny(check, api + "Response v" + version)) {
                        provenKeyVersions++;
                    }
                }
            }
        }
        System.out.printf("kafka-wire vs kafka-clients 4.4: %d (key, version) pairs proven, %d message versions, "
                + "%d failures (seed %d)%n", provenKeyVersions, provenMessages, check.failures.size(), SEED);
        assertEquals(List.of(), check.failures.subList(0, Math.min(30, check.failures.size())),
                check.failures.size() + " failures");
        assertTrue(provenKeyVersions >= 300, "suspiciously few (key, version) pairs: " + provenKeyVersions);
        // The share coordinator's keys (83-87) the server serves, at every version Kafka 4.4 has, proven by name.
        for (String required : List.of("InitializeShareGroupState v0", "ReadShareGroupState v0",
                "WriteShareGroupState v0", "WriteShareGroupState v1", "DeleteShareGroupState v0",
                "ReadShareGroupStateSummary v0", "ReadShareGroupStateSummary v1")) {
            assertTrue(provenPairs.contains(required), required + " should be proven against kafka-clients");
        }
    }

    private static boolean failedAny(CompatibilityCheck check, String prefix) {
        for (String failure : check.failures) {
            if (failure.startsWith(prefix + ":") || failure.startsWith(prefix + " ")) {
                return true;
            }
        }
        return false;
    }
}
