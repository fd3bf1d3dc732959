package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteGroupsResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.Map;

/**
 * DeleteGroups: only empty groups (classic, consumer or share); their offsets or share state go with them. A group
 * whose offsets partition is not led or not loaded here is NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS.
 */
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
        Map<String, Short> results = new java.util.concurrent.ConcurrentHashMap<>();
        // As Kafka 4.x's coordinator runtime, per group: one whose offsets partition is not led here, or still loads,
        // is NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS, whatever its kind (a share group's state here may be
        // a former coordinator's).
        allowed.removeIf(groupId -> {
            short notHere = broker.groups().coordinatorError(groupId);
            if (notHere != io.tandem.server.kafka.ErrorCodes.NONE) results.put(groupId, notHere);
            return notHere != io.tandem.server.kafka.ErrorCodes.NONE;
        });
        // Share groups (KIP-932) live apart from the classic and consumer groups; the rest go to the coordinator.
        java.util.List<java.util.concurrent.CompletableFuture<Void>> shareDeletions = new java.util.ArrayList<>();
        long now = System.currentTimeMillis();
        allowed.removeIf(groupId -> {
            if (!broker.shareGroups().isShareGroup(groupId)) return false;
            java.util.concurrent.CompletableFuture<Short> deleted;
            try {
                // Its tombstones go to __consumer_offsets; NOT_COORDINATOR if this broker does not lead its partition.
                deleted = broker.shareGroups().deleteGroupAsync(groupId, now);
            } catch (io.tandem.server.kafka.ApiException e) {
                deleted = java.util.concurrent.CompletableFuture.failedFuture(e);
            }
            // Its state goes at its share coordinators first: the answer waits for them, no thread does.
            shareDeletions.add(deleted.handle((error, failure) -> {
                results.put(groupId, failure == null ? error : ShareAcknowledgements.failureOf(failure).error());
                return null;
            }));
            return true;
        });
        results.putAll(broker.groups().deleteGroups(allowed));
        java.util.concurrent.CompletableFuture.allOf(shareDeletions.toArray(
                new java.util.concurrent.CompletableFuture<?>[0])).whenComplete((v, e) -> {
                    for (String groupId : request.groupsNames) {
                        DeleteGroupsResponse.DeletableGroupResult result = new DeleteGroupsResponse.DeletableGroupResult();
                        result.groupId = groupId;
                        result.errorCode = results.getOrDefault(groupId,
                                io.tandem.server.kafka.ErrorCodes.GROUP_AUTHORIZATION_FAILED);
                        response.results.add(result);
                    }
                    responder.send(response);
                });
    }
}
