package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * InitProducerId for idempotent producers: a fresh producer id with epoch 0 every time (Kafka does the same when
 * there is no transactional id). Transactional producers are refused: Tandem has no transaction coordinator yet.
 */
final class InitProducerIdHandler implements ApiHandler<InitProducerIdRequest> {
    private final KafkaBroker broker;

    InitProducerIdHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, InitProducerIdRequest request, Responder responder) throws Exception {
        InitProducerIdResponse response = new InitProducerIdResponse();
        if (request.transactionalId != null) {
            response.errorCode = COORDINATOR_NOT_AVAILABLE;
            response.producerId = -1;
            response.producerEpoch = -1;
        } else {
            response.producerId = broker.producerIds().nextProducerId();
            response.producerEpoch = 0;
        }
        responder.send(response);
    }
}
