package io.tandem.server.kafka;

import static io.tandem.server.kafka.ErrorCodes.COORDINATOR_NOT_AVAILABLE;
import static io.tandem.server.kafka.ErrorCodes.NOT_COORDINATOR;

import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;

/**
 * The {@code __consumer_offsets} partitions this broker leads, as the group coordinators and the offset handlers reach
 * them. Neither creates the topic: only FindCoordinator does, as in Kafka, so a group request before it is
 * NOT_COORDINATOR.
 */
final class OffsetsPartitions {
    private final KafkaBroker broker;

    OffsetsPartitions(KafkaBroker broker) {
        this.broker = broker;
    }

    /** The offsets partition that holds the group's commits, led here, or NOT_COORDINATOR (no topic yet too). */
    Partition forGroup(String groupId) {
        TopicInfo offsets = broker.metadata().knownTopic(TopicNames.CONSUMER_OFFSETS);
        if (offsets == null) {
            throw new ApiException(NOT_COORDINATOR, "the offsets topic does not exist yet");
        }
        return led(offsets, OffsetsTopicCodec.partitionFor(groupId, broker.config().offsetsTopicPartitions()));
    }

    /**
     * The led offsets partition of an index, for the group coordinators' writes, made under their locks: it never
     * creates the topic (a ZooKeeper write, kept out of those locks; a topic created then would have no leader to
     * write to anyway). Only FindCoordinator creates it; a write that meets no topic (it was deleted after the
     * coordinator's check) is COORDINATOR_NOT_AVAILABLE.
     */
    Partition existing(int index) {
        TopicInfo offsets = broker.metadata().knownTopic(TopicNames.CONSUMER_OFFSETS);
        if (offsets == null) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "the offsets topic does not exist yet");
        }
        return led(offsets, index);
    }

    private Partition led(TopicInfo offsets, int index) {
        Partition partition = broker.isLeader(offsets, index) ? broker.localPartition(offsets, index) : null;
        if (partition == null) {
            throw new ApiException(NOT_COORDINATOR, "this broker does not lead offsets partition " + index);
        }
        return partition;
    }
}
