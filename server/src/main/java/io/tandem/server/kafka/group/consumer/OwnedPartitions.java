package io.tandem.server.kafka.group.consumer;

import java.util.List;
import java.util.UUID;

/** Partitions a member reports owning in a heartbeat (ConsumerGroupHeartbeat's TopicPartitions). */
public record OwnedPartitions(UUID topicId, List<Integer> partitions) {
}
