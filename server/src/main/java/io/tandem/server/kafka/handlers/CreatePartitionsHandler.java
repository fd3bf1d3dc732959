package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.HashSet;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/** CreatePartitions: a result per topic; manual assignments are not supported and say so. */
final class CreatePartitionsHandler implements ApiHandler<CreatePartitionsRequest> {
    private final KafkaBroker broker;

    CreatePartitionsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, CreatePartitionsRequest request, Responder responder) {
        CreatePartitionsResponse response = new CreatePartitionsResponse();
        Set<String> seen = new HashSet<>();
        for (CreatePartitionsRequest.CreatePartitionsTopic t : request.topics) {
            CreatePartitionsResponse.CreatePartitionsTopicResult result = new CreatePartitionsResponse.CreatePartitionsTopicResult();
            result.name = t.name;
            try {
                if (!seen.add(t.name)) throw new ApiException(INVALID_REQUEST, "Duplicate topic in request.");
                if (!broker.authorization().topic(context, AclOperation.ALTER, t.name)) {
                    throw new ApiException(TOPIC_AUTHORIZATION_FAILED, null);
                }
                checkAssignments(t);
                TopicInfo updated = broker.metadata().createPartitions(t.name, t.count, request.validateOnly);
                if (!request.validateOnly) broker.topics().awaitLeaders(updated);
            } catch (Exception e) {
                ApiError error = ApiError.of(e);
                result.errorCode = error.code();
                result.errorMessage = error.message();
            }
            response.results.add(result);
        }
        responder.send(response);
    }

    /**
     * A request with assignments (even an empty list, which is not the same as none) must give one per new
     * partition, as Kafka checks; a valid count still fails, because manual assignments are not supported. A
     * missing topic or a count that adds nothing fails later with Kafka's own errors for those.
     */
    private void checkAssignments(CreatePartitionsRequest.CreatePartitionsTopic t) {
        if (t.assignments == null) return;
        TopicInfo topic = broker.metadata().topic(t.name);
        if (topic == null || t.count <= topic.partitionCount()) return;
        int increase = t.count - topic.partitionCount();
        if (t.assignments.size() != increase) {
            throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Increasing the number of partitions by " + increase
                    + " but " + t.assignments.size() + " assignments provided.");
        }
        throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Tandem does not support manual partition assignments yet.");
    }
}
