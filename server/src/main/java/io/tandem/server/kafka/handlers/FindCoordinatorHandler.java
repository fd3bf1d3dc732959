package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * FindCoordinator: a group's coordinator is the leader of its {@code __consumer_offsets} partition, as in Kafka;
 * the topic is created on the first lookup. Transaction coordinators are not offered (no transactions yet).
 */
final class FindCoordinatorHandler implements ApiHandler<FindCoordinatorRequest> {
    static final byte KEY_TYPE_GROUP = 0;
    private final KafkaBroker broker;

    FindCoordinatorHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    /** The lookup's outcome; Kafka's answer carries no message of its own (see handle), so neither does this. */
    private record Found(short error, BrokerRegistration node) {
    }

    private Found find(byte keyType, String key) {
        if (keyType != KEY_TYPE_GROUP) {
            // No transaction coordinator: Tandem has no transactions yet.
            return new Found(COORDINATOR_NOT_AVAILABLE, null);
        }
        // An empty group id is found like any other (Kafka hashes it too); JoinGroup is where it is refused.
        if (key == null) return new Found(INVALID_REQUEST, null);
        try {
            TopicInfo offsets = broker.ensureOffsetsTopic();
            int partition = OffsetsTopicCodec.partitionFor(key, offsets.partitionCount());
            PartitionState state = offsets.states().get(partition);
            for (BrokerRegistration b : broker.metadata().liveBrokers()) {
                if (state != null && b.brokerId() == state.leader()) return new Found(NONE, b);
            }
            return new Found(COORDINATOR_NOT_AVAILABLE, null);
        } catch (ApiException e) {
            return new Found(e.error(), null);
        }
    }

    @Override
    public void handle(RequestContext context, FindCoordinatorRequest request, Responder responder) {
        FindCoordinatorResponse response = new FindCoordinatorResponse();
        if (context.apiVersion() < 4) {
            Found found = find(request.keyType, request.key);
            response.errorCode = found.error();
            // Kafka answers v0-3 with the code's default text, "NONE" on success, whatever went wrong.
            response.errorMessage = Errors.forCode(found.error()).message();
            response.nodeId = found.node() == null ? -1 : found.node().brokerId();
            response.host = found.node() == null ? "" : found.node().host();
            response.port = found.node() == null ? -1 : found.node().port();
        } else {
            for (String key : request.coordinatorKeys) {
                Found found = find(request.keyType, key);
                FindCoordinatorResponse.Coordinator c = new FindCoordinatorResponse.Coordinator();
                c.key = key;
                c.errorCode = found.error();
                // Kafka 3.9 leaves a v4+ coordinator's message at "", on success and on error alike.
                c.errorMessage = "";
                c.nodeId = found.node() == null ? -1 : found.node().brokerId();
                c.host = found.node() == null ? "" : found.node().host();
                c.port = found.node() == null ? -1 : found.node().port();
                response.coordinators.add(c);
            }
        }
        responder.send(response);
    }

}
