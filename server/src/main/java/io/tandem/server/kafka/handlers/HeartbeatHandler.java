package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.HeartbeatRequest;
import io.tandem.kafka.wire.message.HeartbeatResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** Heartbeat: keeps the member's session and tells it when a rebalance started. */
final class HeartbeatHandler implements ApiHandler<HeartbeatRequest> {
    private final KafkaBroker broker;

    HeartbeatHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, HeartbeatRequest request, Responder responder) {
        HeartbeatResponse response = new HeartbeatResponse();
        response.errorCode = broker.groups().heartbeat(request.groupId, request.memberId, request.groupInstanceId,
                request.generationId, System.currentTimeMillis());
        responder.send(response);
    }
}
