package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.UpdateFeaturesRequest;
import io.tandem.kafka.wire.message.UpdateFeaturesResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.FinalizedFeatures;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * UpdateFeatures (57, v0-2): what {@code kafka-features.sh upgrade/downgrade} and Admin#updateFeatures send, here to
 * change the cluster's finalized {@code transaction.version} ({@link FinalizedFeatures}, the {@code /feature} znode
 * every broker watches, as in Kafka 3.9's ZooKeeper mode). Only the active controller's broker takes it, as in Kafka
 * 3.9's ZooKeeper mode: another answers NOT_CONTROLLER, and the Admin client asks the controller (a Kafka 4.x broker
 * forwards it there itself). ALTER on the cluster is checked before (ApiAuthorization). The answer is Kafka 4.4's
 * (UpdateFeaturesResponse.createWithErrors): the first failing update's error at the top and, below v2, a NONE
 * result per feature only when all passed. v0's AllowDowngrade reads as a safe downgrade, as in Kafka.
 */
final class UpdateFeaturesHandler implements ApiHandler<UpdateFeaturesRequest> {
    private final KafkaBroker broker;

    UpdateFeaturesHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, UpdateFeaturesRequest request, Responder responder) throws Exception {
        short version = context.apiVersion();
        if (!broker.controller().isActive()) {
            // Kafka 3.9 in ZooKeeper mode (KafkaApis.handleUpdateFeatures): after the authorization, only the active
            // controller's broker takes it; the Admin client asks the controller instead.
            responder.send(new UpdateFeaturesResponse().setErrorCode(Errors.NOT_CONTROLLER.code())
                    .setErrorMessage(Errors.NOT_CONTROLLER.message()).setResults(new ArrayList<>()));
            return;
        }
        List<FinalizedFeatures.Update> updates = new ArrayList<>();
        for (UpdateFeaturesRequest.FeatureUpdateKey u : request.featureUpdates) {
            byte type = version == 0
                    ? (u.allowDowngrade ? FinalizedFeatures.SAFE_DOWNGRADE : FinalizedFeatures.UPGRADE)
                    : u.upgradeType;
            updates.add(new FinalizedFeatures.Update(u.feature, u.maxVersionLevel, type));
        }
        FinalizedFeatures.Result result = broker.transactions().features().update(updates,
                version >= 1 && request.validateOnly);
        UpdateFeaturesResponse response = new UpdateFeaturesResponse()
                .setErrorCode(result.error()).setErrorMessage(result.message());
        List<UpdateFeaturesResponse.UpdatableFeatureResult> results = new ArrayList<>();
        if (result.error() == NONE && version < 2) {
            for (FinalizedFeatures.Update u : updates) {
                results.add(new UpdateFeaturesResponse.UpdatableFeatureResult().setFeature(u.feature())
                        .setErrorCode(NONE).setErrorMessage(null));
            }
        }
        responder.send(response.setResults(results));
    }
}
