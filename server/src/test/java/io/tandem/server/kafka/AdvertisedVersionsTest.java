package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * For every key Tandem serves, ApiVersions advertises exactly the union of the stable versions Apache Kafka 4.x
 * serves (the kafka-clients on the test class path) and those Apache Kafka 3.9 served (kafka-clients 3.9 loaded
 * in isolation from the jar the build copied to target/kafka-old), derived from both ApiKeys, never typed by hand.
 */
class AdvertisedVersionsTest {
    @TempDir
    Path dir;

    private record Range(int min, int max) {
        /**
         * The union; an empty range (max below min) adds nothing: kafka-clients 3.9 declares the early-access share
         * APIs with only an unstable v0, so its stable range there is 0..-1, versions no 3.9 broker served.
         */
        Range union(Range other) {
            return other == null || other.max < other.min ? this
                    : new Range(Math.min(min, other.min), Math.max(max, other.max));
        }
    }

    /**
     * Keys whose newest versions belong to a feature Tandem does not implement, so it does not advertise them
     * (nothing advertised that is not done): none at present (transaction version 2 brought EndTxn v5,
     * WriteTxnMarkers v2 and TxnOffsetCommit v5-6).
     */
    private static final Map<ApiKeys, Short> SHORT_OF_APACHE = Map.of();

    /** kafka-clients 3.9's stable range per API key id, read through reflection from an isolated loader. */
    private static Map<Integer, Range> kafka39Ranges() throws Exception {
        Path jar = Path.of(System.getProperty("server.oldClientsJar", "target/kafka-old/kafka-clients-old.jar"));
        Path slf4j = jar.resolveSibling("slf4j-api.jar");
        assertTrue(Files.exists(jar), "the build should have copied kafka-clients 3.9 to " + jar);
        Map<Integer, Range> ranges = new TreeMap<>();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL(), slf4j.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> apiKeys = loader.loadClass("org.apache.kafka.common.protocol.ApiKeys");
            assertNotSame(ApiKeys.class, apiKeys);
            Method oldest = apiKeys.getMethod("oldestVersion");
            Method latest = apiKeys.getMethod("latestVersion", boolean.class);
            for (Object key : apiKeys.getEnumConstants()) {
                int id = apiKeys.getField("id").getShort(key);
                ranges.put(id, new Range((short) oldest.invoke(key), (short) latest.invoke(key, false)));
            }
        }
        return ranges;
    }

    @Test
    void shouldAdvertiseTheUnionOfKafka4xAndKafka39VersionsForEveryServedKey() throws Exception {
        Map<Integer, Range> kafka39 = kafka39Ranges();
        List<ApiVersionsResponseData.ApiVersion> advertised;
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort())) {
            ApiVersionsResponse response = connection.call(new ApiVersionsRequest.Builder().build((short) 3));
            assertEquals(0, response.data().errorCode());
            advertised = new ArrayList<>(response.data().apiKeys());
        }
        List<String> wrong = new ArrayList<>();
        for (ApiVersionsResponseData.ApiVersion served : advertised) {
            ApiKeys key = ApiKeys.forId(served.apiKey());
            Range expected = new Range(key.oldestVersion(), key.latestVersion(false)).union(kafka39.get((int) key.id));
            Short cap = SHORT_OF_APACHE.get(key);
            if (cap != null) expected = new Range(expected.min(), cap);
            Range actual = new Range(served.minVersion(), served.maxVersion());
            if (!expected.equals(actual)) wrong.add(key + " advertises " + actual + ", Apache serves " + expected);
        }
        assertEquals(List.of(), wrong);
        // The Java 4.x AdminClient's describeTopics needs DescribeTopicPartitions.
        assertTrue(advertised.stream().anyMatch(v -> v.apiKey() == ApiKeys.DESCRIBE_TOPIC_PARTITIONS.id));
    }
}
