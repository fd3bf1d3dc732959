package io.tandem.kafka.client;

import java.util.List;
import java.util.UUID;

/** One topic in a Metadata answer, partitions in partition order; {@code topicId} is null from brokers before 2.8. */
public record TopicInfo(String name, UUID topicId, boolean internal, List<PartitionInfo> partitions) {
    public PartitionInfo partition(int partition) {
        for (PartitionInfo info : partitions) {
            if (info.partition() == partition) {
                return info;
            }
        }
        return null;
    }
}
