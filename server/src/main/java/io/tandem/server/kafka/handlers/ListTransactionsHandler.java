package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ListTransactionsRequest;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** ListTransactions: the transactional ids this broker coordinates, filtered as asked (v1 duration, v2 pattern). */
final class ListTransactionsHandler implements ApiHandler<ListTransactionsRequest> {
    private final KafkaBroker broker;

    ListTransactionsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ListTransactionsRequest request, Responder responder) {
        short version = context.apiVersion();
        io.tandem.kafka.wire.message.ListTransactionsResponse response = broker.transactions().views().list(
                request.stateFilters, request.producerIdFilters, version >= 1 ? request.durationFilter : -1,
                version >= 2 ? request.transactionalIdPattern : null);
        // Kafka lists only the transactional ids the principal may describe.
        response.transactionStates.removeIf(t -> !broker.authorization().transactionalId(context,
                io.tandem.kafka.wire.acl.AclOperation.DESCRIBE, t.transactionalId));
        responder.send(response);
    }
}
