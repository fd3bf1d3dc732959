package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** LeaderAndIsr (controller to broker): which hosted partitions this broker leads and which it follows. */
final class LeaderAndIsrHandler implements ApiHandler<LeaderAndIsrRequest> {
    private final KafkaBroker broker;

    LeaderAndIsrHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, LeaderAndIsrRequest request, Responder responder) {
        if (request.isKRaftController) {
            // A KRaft controller migrating a ZooKeeper cluster: Tandem brokers do not take part in a migration.
            io.tandem.kafka.wire.message.LeaderAndIsrResponse refused = new io.tandem.kafka.wire.message.LeaderAndIsrResponse();
            refused.errorCode = io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;
            responder.send(refused);
            return;
        }
        responder.send(broker.replicas().becomeLeaderOrFollower(request, context.apiVersion()));
    }
}
