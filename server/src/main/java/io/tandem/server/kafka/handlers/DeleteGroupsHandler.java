package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteGroupsResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.Map;

/** DeleteGroups: only empty groups (classic, consumer or share); their offsets or share state go with them. */
final class DeleteGroupsHandler implements ApiHandler<DeleteGroupsRequest> {
    private final KafkaBroker broker;

    DeleteGroupsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DeleteGroupsRequest request, Responder responder) {
        DeleteGroupsResponse response = new DeleteGroupsResponse();
        // Kafka: DELETE on each group; the refused ones are answered without being looked at.
        java.util.List<String> allowed = new java.util.ArrayList<>();
        for (String groupId : request.groupsNames) {
            if (broker.authorization().group(context, AclOperation.DELETE, groupId)) allowed.add(groupId);
        }
        // Share groups (KIP-932) live apart from the classic and consumer groups; the rest go to the coordinator.
        Map<String, Short> results = new java.util.HashMap<>();
        long now = System.currentTimeMillis();
        allowed.removeIf(groupId -> {
            if (!broker.shareGroups().isShareGroup(groupId)) return false;
            try {
                // Its tombstones go to __consumer_offsets, created outside the share coordinator's lock.
                broker.topics().ensureOffsetsTopic();
                results.put(groupId, broker.shareGroups().deleteGroup(groupId, now));
            } catch (io.tandem.server.kafka.ApiException e) {
                results.put(groupId, e.error());
            }
            return true;
        });
        results.putAll(broker.groups().deleteGroups(allowed));
        for (String groupId : request.groupsNames) {
            DeleteGroupsResponse.DeletableGroupResult result = new DeleteGroupsResponse.DeletableGroupResult();
            result.groupId = groupId;
            result.errorCode = results.getOrDefault(groupId, io.tandem.server.kafka.ErrorCodes.GROUP_AUTHORIZATION_FAILED);
            response.results.add(result);
        }
        responder.send(response);
    }
}
