package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ConsumerGroupHeartbeatRequest;
import io.tandem.kafka.wire.message.ConsumerGroupHeartbeatResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.consumer.Assignment;
import io.tandem.server.kafka.group.consumer.OwnedPartitions;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ConsumerGroupHeartbeat (KIP-848): joins, heartbeats, reconciles and leaves a consumer group in one request. Errors
 * come back with Kafka's message and no member id, as Apache answers them.
 */
final class ConsumerGroupHeartbeatHandler implements ApiHandler<ConsumerGroupHeartbeatRequest> {
    private static final System.Logger LOG = System.getLogger(ConsumerGroupHeartbeatHandler.class.getName());
    private final KafkaBroker broker;

    ConsumerGroupHeartbeatHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ConsumerGroupHeartbeatRequest request, Responder responder) {
        ConsumerGroupHeartbeatResponse response = new ConsumerGroupHeartbeatResponse();
        if (!broker.authorization().mayDescribeAll(context, request.subscribedTopicNames)) {
            response.errorCode = io.tandem.server.kafka.ErrorCodes.TOPIC_AUTHORIZATION_FAILED;
            responder.send(response);
            return;
        }
        if (broker.shareGroups().isShareGroup(request.groupId)) {
            // A group id is of one kind at a time (Kafka's answer to a share group's id).
            response.errorCode = GROUP_ID_NOT_FOUND;
            response.errorMessage = "Group " + request.groupId + " is not a consumer group.";
            responder.send(response);
            return;
        }
        try {
            // NOT_COORDINATOR until this broker leads the group's offsets partition: a heartbeat makes no topic.
            HeartbeatResult result = broker.consumerGroups().heartbeat(toRequest(context, request),
                    System.currentTimeMillis());
            response.memberId = result.memberId();
            response.memberEpoch = result.memberEpoch();
            response.heartbeatIntervalMs = result.heartbeatIntervalMs();
            if (result.assignment() != null) response.assignment = toWire(result.assignment());
        } catch (ApiException e) {
            response.errorCode = e.error();
            response.errorMessage = e.getMessage();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "ConsumerGroupHeartbeat of group " + request.groupId + " failed", e);
            response.errorCode = UNKNOWN_SERVER_ERROR;
            response.errorMessage = e.getMessage();
        }
        responder.send(response);
    }

    private static HeartbeatRequest toRequest(RequestContext context, ConsumerGroupHeartbeatRequest request) {
        List<OwnedPartitions> owned = null;
        if (request.topicPartitions != null) {
            owned = new ArrayList<>();
            for (ConsumerGroupHeartbeatRequest.TopicPartitions tp : request.topicPartitions) {
                owned.add(new OwnedPartitions(tp.topicId, tp.partitions));
            }
        }
        return new HeartbeatRequest(request.groupId, request.memberId, request.memberEpoch, request.instanceId,
                request.rackId, request.rebalanceTimeoutMs, request.subscribedTopicNames,
                request.subscribedTopicRegex, request.serverAssignor, owned, context.clientId(),
                context.clientHost(), context.apiVersion());
    }

    private static ConsumerGroupHeartbeatResponse.Assignment toWire(Assignment assignment) {
        ConsumerGroupHeartbeatResponse.Assignment wire = new ConsumerGroupHeartbeatResponse.Assignment();
        for (Map.Entry<UUID, SortedSet<Integer>> e : assignment.partitions().entrySet()) {
            ConsumerGroupHeartbeatResponse.TopicPartitions tp = new ConsumerGroupHeartbeatResponse.TopicPartitions();
            tp.topicId = e.getKey();
            tp.partitions = new ArrayList<>(e.getValue());
            wire.topicPartitions.add(tp);
        }
        return wire;
    }
}
