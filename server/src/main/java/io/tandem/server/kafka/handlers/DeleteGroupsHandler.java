package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteGroupsResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.Map;

/** DeleteGroups: only empty groups; their offsets go with them. */
final class DeleteGroupsHandler implements ApiHandler<DeleteGroupsRequest> {
    private final KafkaBroker broker;

    DeleteGroupsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DeleteGroupsRequest request, Responder responder) {
        DeleteGroupsResponse response = new DeleteGroupsResponse();
        Map<String, Short> results = broker.groups().deleteGroups(request.groupsNames);
        for (String groupId : request.groupsNames) {
            DeleteGroupsResponse.DeletableGroupResult result = new DeleteGroupsResponse.DeletableGroupResult();
            result.groupId = groupId;
            result.errorCode = results.get(groupId);
            response.results.add(result);
        }
        responder.send(response);
    }
}
