package io.tandem.server.kafka;

import static io.tandem.server.kafka.ErrorCodes.COORDINATOR_NOT_AVAILABLE;
import static io.tandem.server.kafka.ErrorCodes.NOT_COORDINATOR;

import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;

/**
 * The {@code __consumer_offsets} partitions this broker leads, as the group coordinators and the offset handlers reach
 * them: the handlers' lookup creates the topic on first use, the coordinators' never does.
 */
final class OffsetsPartitions {
    private final KafkaBroker broker;

    OffsetsPartitions(KafkaBroker broker) {
        this.broker = broker;
    }

    /** The offsets partition that holds the group's commits, led here (creating the topic first), or NOT_COORDINATOR. */
    Partition forGroup(String groupId) {
        TopicInfo offsets = broker.topics().ensureOffsetsTopic();
        return led(offsets, OffsetsTopicCodec.partitionFor(groupId, broker.config().offsetsTopicPartitions()));
    }

    /**
     * The led offsets partition of an index, for the group coordinators' writes, made under their locks: it never
     * creates the topic (a ZooKeeper write, kept out of those locks; a topic created then would have no leader to
     * write to anyway). Handlers create it before they enter a coordinator; until it exists a write is
     * COORDINATOR_NOT_AVAILABLE.
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
