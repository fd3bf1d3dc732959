package io.tandem.server.kafka;

import org.apache.kafka.common.feature.Features;
import org.apache.kafka.common.feature.SupportedVersionRange;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The features ApiVersions reports, by request version, as Kafka 3.9 and 4.x report them (KIP-1022, KAFKA-17011):
 * below v4 a supported feature whose lowest level is 0 is left out, since older clients refuse such a range, while
 * the finalized levels are listed from v3 on. The expected supported list is built by kafka-clients' own
 * ApiVersionsResponse.Builder (setAlterFeatureLevel0, which KafkaApis sets for {@code apiVersion < 4}) from what
 * Tandem supports, so the filter is Kafka's, not a copy of it.
 */
class ApiVersionsFeaturesTest extends OfficialClientBrokerTest {
    private ApiVersionsResponseData call(short version) throws IOException {
        ApiVersionsRequestData data = new ApiVersionsRequestData().setClientSoftwareName("apache-kafka-java")
                .setClientSoftwareVersion("4.4.0");
        ApiVersionsResponse response = connection.call(new ApiVersionsRequest(data, version));
        assertEquals(Errors.NONE.code(), response.data().errorCode());
        return response.data();
    }

    private static Map<String, short[]> supported(ApiVersionsResponseData data) {
        Map<String, short[]> result = new TreeMap<>();
        for (ApiVersionsResponseData.SupportedFeatureKey k : data.supportedFeatures()) {
            result.put(k.name(), new short[] {k.minVersion(), k.maxVersion()});
        }
        return result;
    }

    private static String show(Map<String, short[]> features) {
        StringBuilder b = new StringBuilder();
        features.forEach((name, range) -> b.append(name).append(' ').append(range[0]).append('-').append(range[1])
                .append(';'));
        return b.toString();
    }

    /** What Kafka's own response builder lists as supported at {@code version}, given everything supported. */
    private static Map<String, short[]> kafkaSupported(Map<String, short[]> all, short version) {
        Map<String, SupportedVersionRange> ranges = new TreeMap<>();
        all.forEach((name, range) -> ranges.put(name, new SupportedVersionRange(range[0], range[1])));
        ApiVersionsResponse built = new ApiVersionsResponse.Builder()
                .setApiVersions(new ApiVersionsResponseData.ApiVersionCollection())
                .setSupportedFeatures(Features.supportedFeatures(ranges))
                .setFinalizedFeatures(Map.of())
                .setFinalizedFeaturesEpoch(ApiVersionsResponse.UNKNOWN_FINALIZED_FEATURES_EPOCH)
                .setAlterFeatureLevel0(version < 4)
                .build();
        return supported(built.data());
    }

    @Test
    void belowV4FeaturesSupportedFromLevel0ShouldBeLeftOutAsKafkaDoes() throws IOException {
        ApiVersionsResponseData v4 = call((short) 4);
        ApiVersionsResponseData v3 = call((short) 3);
        Map<String, short[]> all = supported(v4);
        assertTrue(all.containsKey("transaction.version") && all.containsKey("share.version"), show(all));
        assertEquals(0, all.get("share.version")[0]);
        assertEquals(show(kafkaSupported(all, (short) 4)), show(all), "v4 lists every supported feature");
        assertEquals(show(kafkaSupported(all, (short) 3)), show(supported(v3)));
        assertTrue(supported(v3).isEmpty(), "both of Tandem's features start at level 0: " + show(supported(v3)));

        // The finalized levels and their epoch are the same at v3 and v4.
        assertEquals(v4.finalizedFeaturesEpoch(), v3.finalizedFeaturesEpoch());
        assertEquals(2, v3.finalizedFeatures().find("transaction.version").maxVersionLevel());
        assertEquals(2, v3.finalizedFeatures().find("share.version").maxVersionLevel());
        assertEquals(v4.finalizedFeatures(), v3.finalizedFeatures());
    }

    @Test
    void belowV3NoFeaturesShouldBeListed() throws IOException {
        ApiVersionsResponseData v2 = call((short) 2);
        assertTrue(v2.supportedFeatures().isEmpty());
        assertTrue(v2.finalizedFeatures().isEmpty());
        assertFalse(v2.apiKeys().isEmpty());
    }
}
