package io.tandem.server.kafka.group.share.state;

import io.tandem.server.TandemConfig;

/**
 * The share coordinator's settings, Kafka 4.4's {@code share.coordinator.*} keys. The state topic's replication factor
 * and min ISR default to 1 in Tandem (Kafka's 3 and 2 would refuse to create or write the topic on one node), as for
 * the other internal topics.
 *
 * @param stateTopicPartitions       share.coordinator.state.topic.num.partitions
 * @param stateTopicReplicationFactor share.coordinator.state.topic.replication.factor
 * @param stateTopicMinIsr           share.coordinator.state.topic.min.isr
 * @param stateTopicSegmentBytes     share.coordinator.state.topic.segment.bytes
 * @param updatesPerSnapshot         share.coordinator.snapshot.update.records.per.snapshot: ShareUpdate records
 *                                   written for a share-partition before the next write is a full ShareSnapshot
 * @param writeTimeoutMs             share.coordinator.write.timeout.ms: how long an answer waits for its records to
 *                                   reach the state partition's ISR before COORDINATOR_NOT_AVAILABLE
 */
public record ShareCoordinatorConfig(int stateTopicPartitions, short stateTopicReplicationFactor, short stateTopicMinIsr,
                                     int stateTopicSegmentBytes, int updatesPerSnapshot, int writeTimeoutMs) {
    /** Kafka's share.coordinator.write.timeout.ms default. */
    public static final int WRITE_TIMEOUT_MS_DEFAULT = 5000;

    public ShareCoordinatorConfig {
        // Kafka's validators: partitions, replication factor and min ISR at least 1, segment bytes at least 1, updates
        // per snapshot between 0 and 500, write timeout at least 1.
        atLeast("share.coordinator.state.topic.num.partitions", stateTopicPartitions, 1);
        atLeast("share.coordinator.state.topic.replication.factor", stateTopicReplicationFactor, 1);
        atLeast("share.coordinator.state.topic.min.isr", stateTopicMinIsr, 1);
        atLeast("share.coordinator.state.topic.segment.bytes", stateTopicSegmentBytes, 1);
        atLeast("share.coordinator.snapshot.update.records.per.snapshot", updatesPerSnapshot, 0);
        atLeast("share.coordinator.write.timeout.ms", writeTimeoutMs, 1);
        if (updatesPerSnapshot > 500) {
            throw new IllegalArgumentException("Invalid value " + updatesPerSnapshot
                    + " for configuration share.coordinator.snapshot.update.records.per.snapshot: Value must be no more"
                    + " than 500");
        }
    }

    public static ShareCoordinatorConfig from(TandemConfig config) {
        return new ShareCoordinatorConfig(config.getInt("share.coordinator.state.topic.num.partitions", 50),
                (short) config.getInt("share.coordinator.state.topic.replication.factor", 1),
                (short) config.getInt("share.coordinator.state.topic.min.isr", 1),
                config.getInt("share.coordinator.state.topic.segment.bytes", 104_857_600),
                config.getInt("share.coordinator.snapshot.update.records.per.snapshot", 500),
                config.getInt("share.coordinator.write.timeout.ms", WRITE_TIMEOUT_MS_DEFAULT));
    }

    private static void atLeast(String key, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException("Invalid value " + value + " for configuration " + key
                    + ": Value must be at least " + min);
        }
    }
}
