package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.OffsetForLeaderEpochRequest;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.replica.LeaderFetch;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * OffsetForLeaderEpoch: where an epoch ended, from the log's leader-epoch cache. Consumers use it after a leader
 * change to detect truncation, so the current-epoch check matters: an older one is fenced, a newer one unknown.
 * The answer is the log's {@link io.tandem.storage.log.LeaderEpochCache#endOffsetFor}, the same rule a leader applies
 * to a follower's fetch.
 */
final class OffsetForLeaderEpochHandler implements ApiHandler<OffsetForLeaderEpochRequest> {
    private final KafkaBroker broker;

    OffsetForLeaderEpochHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, OffsetForLeaderEpochRequest request, Responder responder) {
        OffsetForLeaderEpochResponse response = new OffsetForLeaderEpochResponse();
        // One snapshot for every topic of the request, as for Metadata.
        io.tandem.server.kafka.metadata.MetadataCache.Snapshot view = broker.metadata().snapshot();
        // Kafka: CLUSTER_ACTION (a follower) answers for every topic, else DESCRIBE on each.
        boolean everyTopic = broker.authorization().allowedOnCluster(context, AclOperation.CLUSTER_ACTION);
        for (OffsetForLeaderEpochRequest.OffsetForLeaderTopic t : request.topics) {
            boolean allowed = everyTopic || broker.authorization().topic(context, AclOperation.DESCRIBE, t.topic);
            OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult topicResult =
                    new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult();
            topicResult.topic = t.topic;
            TopicInfo topic = view.topic(t.topic);
            for (OffsetForLeaderEpochRequest.OffsetForLeaderPartition p : t.partitions) {
                OffsetForLeaderEpochResponse.EpochEndOffset result =
                        new OffsetForLeaderEpochResponse.EpochEndOffset();
                result.partition = p.partition;
                // As Kafka's ReplicaManager.lastOffsetForLeaderEpoch: a hosted replica answers through
                // Partition.lastOffsetForLeaderEpoch with fetchOnlyFromLeader, so the client's epoch is checked
                // first (-1 asks for no check: FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH) and the leadership then
                // (NOT_LEADER_OR_FOLLOWER on a follower); a partition this broker does not host is
                // NOT_LEADER_OR_FOLLOWER when its cache knows it, else UNKNOWN_TOPIC_OR_PARTITION.
                boolean known = topic != null && topic.replicas().containsKey(p.partition);
                Partition partition = allowed && known ? CurrentLeaders.hostedReplica(broker, topic, p.partition) : null;
                if (!allowed) {
                    result.errorCode = TOPIC_AUTHORIZATION_FAILED;
                } else if (!known) {
                    result.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else if (partition == null) {
                    result.errorCode = NOT_LEADER_OR_FOLLOWER;
                } else {
                    result.errorCode = LeaderFetch.requestEpochError(partition, p.currentLeaderEpoch, true);
                    if (result.errorCode == NONE) {
                        long[] end = partition.log().leaderEpochs().endOffsetFor(p.leaderEpoch,
                                partition.logEndOffset());
                        result.leaderEpoch = (int) end[0];
                        result.endOffset = end[1];
                    }
                }
                topicResult.partitions.add(result);
            }
            response.topics.add(topicResult);
        }
        responder.send(response);
    }
}
