package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Features;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * EndTxn: commits or aborts the producer's transaction; answered once the decision is replicated in
 * {@code __transaction_state} (the markers follow). v5 is transaction version 2 (KIP-890 part 2): the epoch bumps
 * with every commit and abort and the answer carries the producer id and epoch to go on with; v0-4 keep the epoch.
 */
final class EndTxnHandler implements ApiHandler<EndTxnRequest> {
    /** Kafka's EndTxnRequest.LAST_STABLE_VERSION_BEFORE_TRANSACTION_V2. */
    static final short LAST_VERSION_BEFORE_TRANSACTION_V2 = 4;
    private final KafkaBroker broker;

    EndTxnHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, EndTxnRequest request, Responder responder) {
        short version = context.apiVersion();
        short clientVersion = version > LAST_VERSION_BEFORE_TRANSACTION_V2 ? Features.TRANSACTION_VERSION_2
                : Features.TRANSACTION_VERSION_0;
        broker.transactions().coordinator().handleEndTransaction(request.transactionalId, request.producerId,
                request.producerEpoch, request.committed, clientVersion, result -> {
                    EndTxnResponse response = new EndTxnResponse();
                    short error = result.error();
                    response.errorCode = version < 2 && error == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH : error;
                    response.producerId = result.producerId();
                    response.producerEpoch = result.producerEpoch();
                    responder.send(response);
                });
    }
}
