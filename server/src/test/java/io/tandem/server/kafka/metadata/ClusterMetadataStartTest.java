package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.Tandem;
import io.tandem.server.kafka.replica.ReplicaManager;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker's batched start-up writes leave Kafka's layout exactly as the one-by-one sequence did, and the first
 * broker's controller wins the election at epoch one.
 */
class ClusterMetadataStartTest {

    private static ZkZnodeStore connect(Tandem zookeeper) throws Exception {
        return ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    private static BrokerRegistration broker(int id) {
        return new BrokerRegistration(id, "127.0.0.1", 9092 + id, "PLAINTEXT", null, System.currentTimeMillis());
    }

    @Test
    void firstBrokerCreatesLayoutAndBecomesControllerAtEpochOneWhileSecondJoinsItsCluster(@TempDir Path dir)
            throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ClusterMetadata first = new ClusterMetadata(connect(zookeeper), broker(0));
             ClusterMetadata second = new ClusterMetadata(connect(zookeeper), broker(1));
             ZkZnodeStore reader = connect(zookeeper)) {
            first.start();
            second.start();
            // The first broker's controller tells its own broker through a ReplicaManager, as a broker's ControllerLink
            // does; its requests to the second go over the wire to a port nobody listens on, so they never arrive.
            ReplicaManager firstReplicas = new ReplicaManager(0, first, (topic, partition) -> null, tp -> { },
                    10_000, 1 << 20);
            KafkaController firstController = new KafkaController(0, first.store(), first, (key, version, request) -> {
                if (key == ApiKey.UPDATE_METADATA) firstReplicas.updateMetadata((UpdateMetadataRequest) request);
                return null;
            });
            KafkaController secondController = new KafkaController(1, second.store(), second, (key, version, request) -> null);
            firstController.start();
            secondController.start();
            assertTrue(firstController.isActive());
            assertFalse(secondController.isActive());
            firstController.close();
            secondController.close();

            firstReplicas.close();
            // Each cache names the controller its UpdateMetadata named, as Kafka's ZkMetadataCache: the first broker
            // applied its own controller's; none reached the second, which knows of no controller yet (its own
            // lost election, which once told it, is not where Kafka's cache learns it).
            assertEquals(0, first.controllerId());
            assertEquals(-1, second.controllerId());
            assertEquals(first.clusterId(), second.clusterId());
            assertEquals(first.clusterId(), KafkaZkLayout.decodeClusterId(reader.getData(KafkaZkLayout.CLUSTER_ID)));
            assertEquals(1, KafkaZkLayout.decodeControllerEpoch(reader.getData(KafkaZkLayout.CONTROLLER_EPOCH)));
            assertEquals(0, KafkaZkLayout.decodeControllerId(reader.getData(KafkaZkLayout.CONTROLLER)));
            for (String path : KafkaZkLayout.PERSISTENT_PATHS) assertNotNull(reader.getData(path), path);
            assertEquals(java.util.List.of("0", "1"), reader.getChildren(KafkaZkLayout.BROKER_IDS));
            assertEquals(2, first.liveBrokers().size());
            // The live brokers too come from UpdateMetadata only: the second broker, told nothing, knows of none (it
            // once read /brokers/ids into its cache when it registered).
            assertEquals(java.util.List.of(), second.liveBrokers());
        }
    }

    @Test
    void createAllReportsWhichNodesItCreatedAndMakesMissingParents(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = connect(zookeeper)) {
            assertTrue(store.create("/existing", new byte[] {1}, false));
            LinkedHashMap<String, byte[]> nodes = new LinkedHashMap<>();
            nodes.put("/existing", new byte[] {2});
            nodes.put("/fresh", "f".getBytes(StandardCharsets.UTF_8));
            nodes.put("/missing/parent/child", "c".getBytes(StandardCharsets.UTF_8));

            Map<String, Boolean> created = store.createAll(nodes, true);

            assertFalse(created.get("/existing"));
            assertTrue(created.get("/fresh"));
            assertTrue(created.get("/missing/parent/child"));
            assertArrayEquals(new byte[] {1}, store.getData("/existing"));
            assertArrayEquals("c".getBytes(StandardCharsets.UTF_8), store.getData("/missing/parent/child"));
        }
    }
}
