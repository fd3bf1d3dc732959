package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.OffsetForLeaderEpochRequest;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

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
                try {
                    Partition partition = !allowed || topic == null || !topic.replicas().containsKey(p.partition)
                            ? null : broker.leaderPartition(topic, p.partition);
                    if (!allowed) {
                        result.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    } else if (partition == null) {
                        result.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                    } else if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch < partition.leaderEpoch()) {
                        result.errorCode = FENCED_LEADER_EPOCH;
                    } else if (p.currentLeaderEpoch > partition.leaderEpoch()) {
                        result.errorCode = UNKNOWN_LEADER_EPOCH;
                    } else {
                        long[] end = partition.log().leaderEpochs().endOffsetFor(p.leaderEpoch,
                                partition.logEndOffset());
                        result.leaderEpoch = (int) end[0];
                        result.endOffset = end[1];
                    }
                } catch (ApiException e) {
                    result.errorCode = e.error();
                }
                topicResult.partitions.add(result);
            }
            response.topics.add(topicResult);
        }
        responder.send(response);
    }
}
