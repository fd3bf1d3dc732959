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
        short refused = ControllerRequestCheck.refusal(broker, request.isKRaftController, request.brokerEpoch);
        if (refused != io.tandem.server.kafka.ErrorCodes.NONE) {
            io.tandem.kafka.wire.message.UpdateMetadataResponse refusal = new io.tandem.kafka.wire.message.UpdateMetadataResponse();
            refusal.errorCode = refused;
            responder.send(refusal);
            return;
        }
        UpdateMetadataResponse response = new UpdateMetadataResponse();
        response.errorCode = broker.replicas().updateMetadata(request);
        responder.send(response);
    }
}
