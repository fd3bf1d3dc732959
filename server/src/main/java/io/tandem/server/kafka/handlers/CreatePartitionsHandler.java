package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.server.kafka.ApiException;
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
                if (t.assignments != null && !t.assignments.isEmpty()) {
                    throw new ApiException(INVALID_REPLICA_ASSIGNMENT, "Tandem does not support manual partition assignments yet.");
                }
                TopicInfo updated = broker.metadata().createPartitions(t.name, t.count, request.validateOnly);
                if (!request.validateOnly) broker.awaitLeaders(updated);
            } catch (ApiException e) {
                result.errorCode = e.error();
                result.errorMessage = e.getMessage();
            } catch (Exception e) {
                result.errorCode = UNKNOWN_SERVER_ERROR;
                result.errorMessage = e.toString();
            }
            response.results.add(result);
        }
        responder.send(response);
    }
}
