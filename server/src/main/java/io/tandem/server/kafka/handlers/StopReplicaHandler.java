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
        if (request.isKRaftController) {
            // A KRaft controller migrating a ZooKeeper cluster: Tandem brokers do not take part in a migration.
            io.tandem.kafka.wire.message.StopReplicaResponse refused = new io.tandem.kafka.wire.message.StopReplicaResponse();
            refused.errorCode = io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;
            responder.send(refused);
            return;
        }
        responder.send(broker.controllerLink().stopReplicas(request, context.apiVersion()));
    }
}
