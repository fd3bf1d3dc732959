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
        short refused = ControllerRequestCheck.refusal(broker, request.isKRaftController, request.brokerEpoch);
        if (refused != io.tandem.server.kafka.ErrorCodes.NONE) {
            io.tandem.kafka.wire.message.LeaderAndIsrResponse refusal = new io.tandem.kafka.wire.message.LeaderAndIsrResponse();
            refusal.errorCode = refused;
            responder.send(refusal);
            return;
        }
        responder.send(broker.replicas().becomeLeaderOrFollower(request, context.apiVersion()));
    }
}
