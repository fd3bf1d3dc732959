package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.TransactionConfig;

/**
 * WriteTxnMarkers, from a transaction coordinator on another broker: the markers go to the partitions this broker
 * leads ({@link io.tandem.server.kafka.txn.TransactionMarkerWriter}); answered when each is replicated.
 */
final class WriteTxnMarkersHandler implements ApiHandler<WriteTxnMarkersRequest> {
    private final KafkaBroker broker;

    WriteTxnMarkersHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, WriteTxnMarkersRequest request, Responder responder) {
        broker.transactions().markerWriter().write(request, TransactionConfig.REQUEST_TIMEOUT_MS, responder::send);
    }
}
