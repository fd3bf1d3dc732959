package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ControlledShutdownRequest;
import io.tandem.kafka.wire.message.ControlledShutdownResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.NOT_CONTROLLER;

/** ControlledShutdown (broker to controller): move the stopping broker's leaderships away first. */
final class ControlledShutdownHandler implements ApiHandler<ControlledShutdownRequest> {
    private final KafkaBroker broker;

    ControlledShutdownHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ControlledShutdownRequest request, Responder responder) throws Exception {
        if (!broker.controller().isActive()) {
            ControlledShutdownResponse refused = new ControlledShutdownResponse();
            refused.errorCode = NOT_CONTROLLER;
            responder.send(refused);
            return;
        }
        responder.send(broker.controller().controlledShutdown(request.brokerId, request.brokerEpoch));
    }
}
