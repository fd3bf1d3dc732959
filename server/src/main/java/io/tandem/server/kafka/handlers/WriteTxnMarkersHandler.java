package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.TransactionConfig;

/**
 * WriteTxnMarkers, from a transaction coordinator on another broker: the markers go to the partitions this broker
 * leads ({@link io.tandem.server.kafka.txn.TransactionMarkerWriter}); answered when each is replicated. v2 names
 * the transaction version of each marker: a version 2 marker must carry an epoch newer than the producer's (Kafka
 * 4.4's check), else INVALID_PRODUCER_EPOCH. Tandem's own coordinator sends v1 (the bumped epoch is newer anyway), so
 * it works with brokers that stop at v1.
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
