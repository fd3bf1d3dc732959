package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.OffsetDeleteRequest;
import io.tandem.kafka.wire.message.OffsetDeleteResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;

/** OffsetDelete: refuses partitions of topics the live group still subscribes to. */
final class OffsetDeleteHandler implements ApiHandler<OffsetDeleteRequest> {
    private final KafkaBroker broker;

    OffsetDeleteHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, OffsetDeleteRequest request, Responder responder) {
        List<TopicPartition> partitions = new ArrayList<>();
        // DELETE on the group is ApiAuthorization's; a topic the principal may not READ keeps its offsets.
        java.util.Set<String> refused = new java.util.HashSet<>();
        for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : request.topics) {
            if (!broker.authorization().topic(context, io.tandem.kafka.wire.acl.AclOperation.READ, t.name)) {
                refused.add(t.name);
                continue;
            }
            for (OffsetDeleteRequest.OffsetDeleteRequestPartition p : t.partitions) {
                partitions.add(new TopicPartition(t.name, p.partitionIndex));
            }
        }
        GroupCoordinator.OffsetDeleteResult result = broker.groups().deleteOffsets(request.groupId, partitions);
        OffsetDeleteResponse response = new OffsetDeleteResponse();
        response.errorCode = result.error();
        if (result.error() == NONE) {
            for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : request.topics) {
                OffsetDeleteResponse.OffsetDeleteResponseTopic topic = new OffsetDeleteResponse.OffsetDeleteResponseTopic();
                topic.name = t.name;
                boolean known = broker.metadata().knownTopic(t.name) != null;
                for (OffsetDeleteRequest.OffsetDeleteRequestPartition p : t.partitions) {
                    OffsetDeleteResponse.OffsetDeleteResponsePartition partition =
                            new OffsetDeleteResponse.OffsetDeleteResponsePartition();
                    partition.partitionIndex = p.partitionIndex;
                    partition.errorCode = refused.contains(t.name) ? TOPIC_AUTHORIZATION_FAILED
                            : !known ? UNKNOWN_TOPIC_OR_PARTITION
                            : result.partitions().getOrDefault(new TopicPartition(t.name, p.partitionIndex), NONE);
                    topic.partitions.add(partition);
                }
                response.topics.add(topic);
            }
        }
        responder.send(response);
    }
}
