package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.StopReplicaRequest;
import io.tandem.kafka.wire.message.StopReplicaResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** StopReplica (controller to broker): stop following partitions, deleting their logs when the topic is deleted. */
final class StopReplicaHandler implements ApiHandler<StopReplicaRequest> {
    private final KafkaBroker broker;

    StopReplicaHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, StopReplicaRequest request, Responder responder) {
        short refused = ControllerRequestCheck.refusal(broker, request.isKRaftController, request.brokerEpoch);
        if (refused != io.tandem.server.kafka.ErrorCodes.NONE) {
            io.tandem.kafka.wire.message.StopReplicaResponse refusal = new io.tandem.kafka.wire.message.StopReplicaResponse();
            refusal.errorCode = refused;
            responder.send(refusal);
            return;
        }
        responder.send(broker.controllerLink().stopReplicas(request, context.apiVersion()));
    }
}
