package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code /feature} znode a controller writes at its election, as Kafka 3.9's setupFeatureVersioning: created
 * enabled with nothing finalized, byte for byte Kafka's; an older or disabled node rewritten enabled in version 2
 * (keeping the levels of an enabled one); a node UpdateFeatures wrote left as it is. The cluster's
 * {@code transaction.version} stays at its default (2) while the node is as the controller created it, and follows
 * the node once UpdateFeatures changed it.
 */
class FeatureVersioningTest {
    /** What an Apache Kafka 3.9.1 controller in ZooKeeper mode writes (compat-tests' FeatureZnodeDifferentialTest). */
    private static final String KAFKA_39 = "{\"features\":{},\"version\":2,\"status\":1}";
    private static final String TV = "transaction.version";

    @TempDir
    Path dir;

    @Test
    void shouldCreateTheFeatureZnodeAtElectionAndKeepTheDefaultUntilAnUpdate() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             Tandem broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("zookeeper.connect", zookeeper.zookeeperConnect()));
             ZkZnodeStore store = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + broker.kafkaPort()))) {
            ZnodeStore.Versioned created = store.getVersioned(KafkaZkLayout.FEATURE);
            assertEquals(KAFKA_39, new String(created.data(), StandardCharsets.UTF_8));
            assertEquals(0, created.version());
            FeatureMetadata features = admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
            assertEquals(2, features.finalizedFeatures().get(TV).maxVersionLevel(),
                    "nothing finalized yet: the default level");
            assertEquals(0L, features.finalizedFeaturesEpoch().orElseThrow());

            admin.updateFeatures(Map.of(TV, new FeatureUpdate((short) 0, FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)),
                    new UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS);
            ZnodeStore.Versioned downgraded = store.getVersioned(KafkaZkLayout.FEATURE);
            // share.version, in force at its default (2) and not named by the update, is written as it stands.
            assertEquals("{\"features\":{\"share.version\":{\"max_version_level\":2}},\"version\":2,\"status\":1}",
                    new String(downgraded.data(), StandardCharsets.UTF_8),
                    "level 0 written as the feature's absence, as Kafka's controller does");
            assertEquals(1, downgraded.version());
            long deadline = System.currentTimeMillis() + 30_000;
            do {
                features = admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
            } while (features.finalizedFeatures().containsKey(TV) && System.currentTimeMillis() < deadline);
            assertNull(features.finalizedFeatures().get(TV), "finalized at 0 now: " + features);
            assertEquals(1L, features.finalizedFeaturesEpoch().orElseThrow());

            // A later controller leaves a node UpdateFeatures wrote alone.
            FeatureVersioning.enable(store);
            assertEquals(1, store.getVersioned(KafkaZkLayout.FEATURE).version());
        }
    }

    @Test
    void shouldRewriteAnOlderOrDisabledNodeAsKafkas39ControllerDoes() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            // Version 1, as a controller with inter.broker.protocol.version below 3.3 writes it: levels kept.
            store.create(KafkaZkLayout.FEATURE, ("{\"features\":{\"" + TV + "\":{\"max_version_level\":1,"
                    + "\"min_version_level\":1}},\"version\":1,\"status\":1}").getBytes(StandardCharsets.UTF_8), false);
            FeatureVersioning.enable(store);
            assertEquals("{\"features\":{\"" + TV + "\":{\"max_version_level\":1}},\"version\":2,\"status\":1}",
                    new String(store.getData(KafkaZkLayout.FEATURE), StandardCharsets.UTF_8));
            assertEquals(1, store.getVersioned(KafkaZkLayout.FEATURE).version());
            FeatureVersioning.enable(store);
            assertEquals(1, store.getVersioned(KafkaZkLayout.FEATURE).version(), "an up-to-date node is not rewritten");

            // Disabled (a controller below inter.broker.protocol.version 2.7): enabled, its levels dropped.
            store.setData(KafkaZkLayout.FEATURE, ("{\"features\":{\"" + TV + "\":{\"max_version_level\":2}},"
                    + "\"version\":2,\"status\":0}").getBytes(StandardCharsets.UTF_8));
            FeatureVersioning.enable(store);
            assertEquals(KAFKA_39, new String(store.getData(KafkaZkLayout.FEATURE), StandardCharsets.UTF_8));
        }
    }
}
