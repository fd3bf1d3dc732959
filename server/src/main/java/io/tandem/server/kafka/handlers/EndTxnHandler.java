package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * EndTxn: commits or aborts the producer's transaction; answered once the decision is replicated in
 * {@code __transaction_state} (the markers follow). Served up to v4: v5 means transaction version 2 (an epoch bump
 * per transaction), which Tandem does not implement and does not advertise as a feature.
 */
final class EndTxnHandler implements ApiHandler<EndTxnRequest> {
    private final KafkaBroker broker;

    EndTxnHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, EndTxnRequest request, Responder responder) {
        short version = context.apiVersion();
        broker.transactions().coordinator().handleEndTransaction(request.transactionalId, request.producerId,
                request.producerEpoch, request.committed, error -> {
                    EndTxnResponse response = new EndTxnResponse();
                    response.errorCode = version < 2 && error == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH : error;
                    responder.send(response);
                });
    }
}
