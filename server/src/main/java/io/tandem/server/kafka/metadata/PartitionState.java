package io.tandem.server.kafka.metadata;

import java.util.List;

/** A partition's leadership as stored in {@code /brokers/topics/T/partitions/P/state}. */
public record PartitionState(int leader, int leaderEpoch, int controllerEpoch, List<Integer> isr) {
    public PartitionState {
        isr = List.copyOf(isr);
    }
}
