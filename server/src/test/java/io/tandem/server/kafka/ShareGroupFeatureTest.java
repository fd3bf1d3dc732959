package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code share.version} in ApiVersions as Apache Kafka 4.4 lists it on a freshly formatted cluster (bench/kafka/
 * run-share-compare.sh shows Apache's with kafka-features.sh): supported 0-2, finalized at 2, since Tandem serves
 * share groups at Kafka 4.4's versions. Asked as the Java 4.4 Admin asks (ApiVersions v4: from v4 on, a feature whose
 * lowest supported level is 0 is listed, KIP-1022).
 */
class ShareGroupFeatureTest {
    @TempDir
    Path dir;

    @Test
    void apiVersionsShouldListShareVersionAsKafka44() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     tandem.bootstrapServers()))) {
            ApiVersionsResponse raw = c.call(new ApiVersionsRequest.Builder().build((short) 4));
            ApiVersionsResponseData.SupportedFeatureKey supported =
                    raw.data().supportedFeatures().find("share.version");
            assertNotNull(supported, "share.version supported: " + raw.data().supportedFeatures());
            assertEquals(0, supported.minVersion());
            assertEquals(2, supported.maxVersion());
            ApiVersionsResponseData.FinalizedFeatureKey finalized =
                    raw.data().finalizedFeatures().find("share.version");
            assertNotNull(finalized, "share.version finalized: " + raw.data().finalizedFeatures());
            assertEquals(2, finalized.minVersionLevel());
            assertEquals(2, finalized.maxVersionLevel());

            FeatureMetadata features = admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
            assertEquals(0, features.supportedFeatures().get("share.version").minVersion());
            assertEquals(2, features.supportedFeatures().get("share.version").maxVersion());
            assertEquals(2, features.finalizedFeatures().get("share.version").maxVersionLevel());
        }
    }
}
