package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.NOT_CONTROLLER;

/** AlterPartition (leader to controller): an ISR change, answered by the controller or NOT_CONTROLLER. */
final class AlterPartitionHandler implements ApiHandler<AlterPartitionRequest> {
    private final KafkaBroker broker;

    AlterPartitionHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, AlterPartitionRequest request, Responder responder) throws Exception {
        if (!broker.controller().isActive()) {
            AlterPartitionResponse refused = new AlterPartitionResponse();
            refused.errorCode = NOT_CONTROLLER;
            responder.send(refused);
            return;
        }
        responder.send(broker.controller().alterPartition(request));
    }
}
