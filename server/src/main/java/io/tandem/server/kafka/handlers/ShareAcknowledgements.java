package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.SharePartition;
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

    /** The share-partition of a group's member, created at the log's high watermark (share.auto.offset.reset=latest). */
    static SharePartition sharePartition(KafkaBroker broker, String groupId, TopicInfo topic, int partition) {
        return broker.shareGroups().partition(groupId, topic.id(), partition,
                () -> broker.leaderPartition(topic, partition).highWatermark());
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
