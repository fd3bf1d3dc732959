package io.tandem.server.kafka.metadata;

import java.util.List;

/**
 * A partition's leadership as stored in {@code /brokers/topics/T/partitions/P/state}, with the znode's version
 * ({@code zkVersion}, Kafka's partition epoch): the controller writes a new state only over the version it read, and
 * a leader's AlterPartition names the version it knows.
 */
public record PartitionState(int leader, int leaderEpoch, int controllerEpoch, List<Integer> isr, int zkVersion) {
    public PartitionState {
        isr = List.copyOf(isr);
    }

    /** As read from JSON alone, before its version is known. */
    public PartitionState(int leader, int leaderEpoch, int controllerEpoch, List<Integer> isr) {
        this(leader, leaderEpoch, controllerEpoch, isr, 0);
    }

    public PartitionState withZkVersion(int version) {
        return new PartitionState(leader, leaderEpoch, controllerEpoch, isr, version);
    }
}
