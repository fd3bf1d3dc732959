package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.SyncGroupRequest;
import io.tandem.kafka.wire.message.SyncGroupResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.LinkedHashMap;
import java.util.Map;

/** SyncGroup: followers wait for the leader's assignment; the leader's request completes everyone's. */
final class SyncGroupHandler implements ApiHandler<SyncGroupRequest> {
    private final KafkaBroker broker;

    SyncGroupHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, SyncGroupRequest request, Responder responder) {
        Map<String, byte[]> assignments = new LinkedHashMap<>();
        for (SyncGroupRequest.SyncGroupRequestAssignment a : request.assignments) assignments.put(a.memberId, a.assignment);
        GroupMessages.SyncRequest sync = new GroupMessages.SyncRequest(request.groupId, request.generationId,
                request.memberId, request.groupInstanceId, request.protocolType, request.protocolName, assignments);
        // The coordinator answers once the generation's group record is in the offsets topic's ISR (Kafka's
        // storeGroup, acks=all), so a coordinator that takes over after this answer loads that generation.
        broker.groups().syncGroup(sync, System.currentTimeMillis(), result -> {
            SyncGroupResponse response = new SyncGroupResponse();
            response.errorCode = result.error();
            response.protocolType = result.protocolType();
            response.protocolName = result.protocolName();
            response.assignment = result.assignment() == null ? new byte[0] : result.assignment();
            responder.send(response);
        });
    }
}
