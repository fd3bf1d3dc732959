package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.AllocateProducerIdsRequest;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** AllocateProducerIds (broker to controller): a producer id block, answered by the controller or NOT_CONTROLLER. */
final class AllocateProducerIdsHandler implements ApiHandler<AllocateProducerIdsRequest> {
    private final KafkaBroker broker;

    AllocateProducerIdsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, AllocateProducerIdsRequest request, Responder responder) throws Exception {
        responder.send(broker.controller().allocateProducerIds(request));
    }
}
