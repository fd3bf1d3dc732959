package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.GroupConfigs;
import io.tandem.server.kafka.group.share.SharePartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.RequestContext;

import java.util.List;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * What ShareFetch and ShareAcknowledge share: resolving a share-partition a member names, and applying its
 * acknowledgement batches (ACCEPT, RELEASE, REJECT, GAP, RENEW) to it, answering per partition as Kafka does.
 */
final class ShareAcknowledgements {
    /** One acknowledgement batch, independent of the two requests' wire classes. */
    record Batch(long firstOffset, long lastOffset, List<Byte> types) {
    }

    private ShareAcknowledgements() {
    }

    /** The topic, checked: null topic means UNKNOWN_TOPIC_ID; else the error to answer, NONE when readable. */
    static short check(KafkaBroker broker, RequestContext context, TopicInfo topic, int partition) {
        if (topic == null) return UNKNOWN_TOPIC_ID;
        if (!broker.authorization().topic(context, AclOperation.READ, topic.name())) return TOPIC_AUTHORIZATION_FAILED;
        if (!topic.replicas().containsKey(partition)) return UNKNOWN_TOPIC_OR_PARTITION;
        try {
            broker.leaderPartition(topic, partition);
        } catch (ApiException e) {
            return e.error();
        }
        return NONE;
    }

    /**
     * The share-partition of a group's member; a new one starts where the group's share.auto.offset.reset says: the
     * high watermark (latest, Kafka's default), the log start (earliest), or the first record at or after now minus
     * the duration (by_duration; the high watermark when there is none).
     */
    static SharePartition sharePartition(KafkaBroker broker, String groupId, TopicInfo topic, int partition) {
        // A new share-partition is recorded in __consumer_offsets (ShareGroupStatePartitionMetadata): that topic is
        // created here, outside the share coordinator's lock, since becoming its leader loads into that coordinator.
        broker.topics().ensureOffsetsTopic();
        return broker.shareGroups().partition(groupId, topic.id(), partition, () -> {
            Partition log = broker.leaderPartition(topic, partition);
            String reset = broker.groupConfigs().autoOffsetReset(groupId);
            if (reset.equals("earliest")) return log.logStartOffset();
            java.time.Duration duration = GroupConfigs.autoOffsetResetDuration(reset);
            if (duration != null) {
                try {
                    var found = log.log().offsetForTimestamp(System.currentTimeMillis() - duration.toMillis());
                    if (found.isPresent() && found.get().offset() < log.highWatermark()) return found.get().offset();
                } catch (java.io.IOException e) {
                    throw new ApiException(KAFKA_STORAGE_ERROR, "cannot look up " + topic.name() + "-" + partition
                            + " by time: " + e.getMessage());
                }
            }
            return log.highWatermark();
        });
    }

    /** Applies the batches; the first failing batch's error is the partition's (the batches before it stand). */
    static short acknowledge(KafkaBroker broker, RequestContext context, String groupId, String memberId,
                             UUID topicId, int partition, List<Batch> batches, long nowMs) {
        TopicInfo topic = broker.metadata().topicById(topicId);
        short error = check(broker, context, topic, partition);
        if (error != NONE) return error;
        try {
            SharePartition sp = sharePartition(broker, groupId, topic, partition);
            if (sp == null) return GROUP_ID_NOT_FOUND;
            for (Batch b : batches) sp.acknowledge(memberId, b.firstOffset(), b.lastOffset(), b.types(), nowMs);
        } catch (ApiException e) {
            return e.error();
        }
        return NONE;
    }
}
