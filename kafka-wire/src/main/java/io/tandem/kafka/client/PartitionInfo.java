package io.tandem.kafka.client;

import java.util.List;

/** One partition in a Metadata answer: leader -1 when it has none; {@code error} is null unless the broker sent one. */
public record PartitionInfo(int partition, int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr,
                            List<Integer> offlineReplicas, String error) {
}
