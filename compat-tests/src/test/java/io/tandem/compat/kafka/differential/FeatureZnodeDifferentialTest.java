package io.tandem.compat.kafka.differential;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The {@code /feature} znode (Kafka's FeatureZNode, KIP-584) side by side: an Apache Kafka 3.9.1 broker in ZooKeeper
 * mode and a Tandem broker, each alone on its own Tandem ZooKeeper and so each its cluster's first controller, write
 * it at election. The node must be the same byte for byte (Kafka's field order too), with the same ACL and Stat, and
 * the finalized levels a client reads back (DescribeFeatures, answered from ApiVersions) the same at the same epoch,
 * but for {@code transaction.version}, which Kafka 3.9 does not have.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class FeatureZnodeDifferentialTest {
    private static final long WAIT_MS = 60_000;

    @TempDir
    Path dir;

    @Test
    void shouldWriteTheSameFeatureZnodeAsAnApacheKafka39Controller() throws Exception {
        try (Tandem apacheZooKeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk-apache"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             Tandem tandemZooKeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk-tandem"))
                     .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"),
                     apacheZooKeeper.zookeeperConnect(), Differential.SETTINGS);
             Tandem tandem = Tandem.start(applied(TandemConfig.forTests(dir.resolve("tandem"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                     .set("zookeeper.connect", tandemZooKeeper.zookeeperConnect()), Differential.SETTINGS))) {
            Differential.awaitReady(apache).close();
            String fromApache = featureZnode(apacheZooKeeper.zookeeperConnect());
            String fromTandem = featureZnode(tandemZooKeeper.zookeeperConnect());
            System.out.println("/feature by Apache Kafka 3.9.1: " + fromApache + "\n/feature by Tandem: " + fromTandem);
            assertEquals(fromApache, fromTandem, "the bytes of /feature");
            SortedMap<String, String> apacheTree = ZnodeTree.read(apacheZooKeeper.zookeeperConnect(),
                    List.of("/feature"));
            assertEquals(apacheTree, ZnodeTree.read(tandemZooKeeper.zookeeperConnect(), List.of("/feature")),
                    "/feature's ACL and Stat");

            Map<String, String> apacheFeatures = finalized(apache.port());
            Map<String, String> tandemFeatures = finalized(tandem.kafkaPort());
            System.out.println("finalized by Apache Kafka 3.9.1: " + apacheFeatures + "; by Tandem: " + tandemFeatures);
            // The intended differences: transaction.version and share.version, which Kafka 3.9 lacks, are at
            // Tandem's defaults (2 each, as a Kafka 4.4 cluster is formatted) while the node finalizes nothing
            // (FinalizedFeatures).
            assertEquals("2-2", tandemFeatures.remove("transaction.version"), "Tandem's transaction.version");
            assertEquals("2-2", tandemFeatures.remove("share.version"), "Tandem's share.version");
            assertEquals(apacheFeatures, tandemFeatures, "the finalized features and their epoch a client reads");
        }
    }

    /** {@code /feature}'s bytes as they are, once the controller wrote it. */
    private static String featureZnode(String connect) throws Exception {
        ZooKeeper zk = ZnodeTree.connect(connect);
        try {
            long deadline = System.currentTimeMillis() + WAIT_MS;
            while (zk.exists("/feature", false) == null && System.currentTimeMillis() < deadline) Thread.sleep(100);
            byte[] data = zk.getData("/feature", false, null);
            assertNotNull(data, "/feature has data");
            return new String(data, StandardCharsets.UTF_8);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
            return "(no /feature)";
        } finally {
            zk.close();
        }
    }

    /** The finalized levels and their epoch, as Admin#describeFeatures reports them. */
    private static Map<String, String> finalized(int port) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port))) {
            FeatureMetadata features = admin.describeFeatures().featureMetadata().get(WAIT_MS, TimeUnit.MILLISECONDS);
            Map<String, String> seen = new TreeMap<>();
            features.finalizedFeatures().forEach((name, range) -> seen.put(name, range.minVersionLevel() + "-"
                    + range.maxVersionLevel()));
            seen.put("(epoch)", String.valueOf(features.finalizedFeaturesEpoch().orElse(-1L)));
            return seen;
        }
    }

    private static TandemConfig applied(TandemConfig config, Map<String, String> settings) {
        settings.forEach(config::set);
        return config;
    }
}
