package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.metadata.FeatureZnode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.Map;

/**
 * What a newly elected Kafka 3.9 controller does first in ZooKeeper mode (KafkaController.setupFeatureVersioning,
 * with inter.broker.protocol.version 3.9, which enables versioning): {@code /feature} is created enabled with the
 * controller's default finalized features, which for a 3.9 broker in ZooKeeper mode are none
 * ({@code {"features":{},"version":2,"status":1}}, what compat-tests' FeatureZnodeDifferentialTest reads from an
 * Apache controller); an existing node keeps its levels (none if it was disabled) and is rewritten only when it is
 * not already an enabled version 2 node. So a tree Tandem controllers wrote is the one Apache ones would have, and an
 * Apache broker that becomes controller later finds the node it expects. The ACL is the store's for the path (Kafka's
 * defaultAcls under zookeeper.set.acl).
 *
 * <p>A store without versions (a local directory, one broker) is left alone: nobody else reads it, and the finalized
 * levels ({@code FinalizedFeatures}) tell a node as created here from one an UpdateFeatures wrote by its version.
 */
final class FeatureVersioning {
    /** Kafka 3.9's BrokerFeatures.defaultFinalizedFeatures in ZooKeeper mode: nothing finalized. */
    private static final Map<String, Short> DEFAULT_FINALIZED = Map.of();

    private FeatureVersioning() {
    }

    static void enable(ZnodeStore store) throws Exception {
        if (!store.keepsVersions()) return;
        ZnodeStore.Versioned read = store.getVersioned(KafkaZkLayout.FEATURE);
        if (read == null) {
            // false: another controller created it meanwhile; it wrote the same.
            store.create(KafkaZkLayout.FEATURE, FeatureZnode.enabled(DEFAULT_FINALIZED).encode(), false);
            return;
        }
        FeatureZnode existing = FeatureZnode.decode(read.data());
        FeatureZnode wanted = FeatureZnode.enabled(existing.status() == FeatureZnode.STATUS_ENABLED
                ? existing.features() : Map.of());
        // Compare-and-set: a node changed meanwhile was changed by UpdateFeatures, which writes an enabled node.
        if (!wanted.equals(existing)) store.setDataIfVersion(KafkaZkLayout.FEATURE, wanted.encode(), read.version());
    }
}
