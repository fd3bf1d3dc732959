package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.kafka.wire.message.UpdateMetadataResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/** UpdateMetadata (controller to broker): live brokers and every partition's leadership, for Metadata answers. */
final class UpdateMetadataHandler implements ApiHandler<UpdateMetadataRequest> {
    private final KafkaBroker broker;

    UpdateMetadataHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, UpdateMetadataRequest request, Responder responder) {
        if (request.isKRaftController) {
            // A KRaft controller migrating a ZooKeeper cluster: Tandem brokers do not take part in a migration.
            io.tandem.kafka.wire.message.UpdateMetadataResponse refused = new io.tandem.kafka.wire.message.UpdateMetadataResponse();
            refused.errorCode = io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;
            responder.send(refused);
            return;
        }
        UpdateMetadataResponse response = new UpdateMetadataResponse();
        response.errorCode = broker.replicas().updateMetadata(request);
        responder.send(response);
    }
}
