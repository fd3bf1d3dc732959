package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ShareGroupHeartbeatRequest;
import io.tandem.kafka.wire.message.ShareGroupHeartbeatResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.HeartbeatResult;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ShareGroupHeartbeat (KIP-932): joins, heartbeats and leaves a share group in one request; the answer carries the
 * member's assignment when it changed. Errors come back with Kafka's message and no member id, as Apache answers.
 */
final class ShareGroupHeartbeatHandler implements ApiHandler<ShareGroupHeartbeatRequest> {
    private static final System.Logger LOG = System.getLogger(ShareGroupHeartbeatHandler.class.getName());
    private final KafkaBroker broker;

    ShareGroupHeartbeatHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ShareGroupHeartbeatRequest request, Responder responder) {
        ShareGroupHeartbeatResponse response = new ShareGroupHeartbeatResponse();
        if (!broker.authorization().mayDescribeAll(context, request.subscribedTopicNames)) {
            response.errorCode = TOPIC_AUTHORIZATION_FAILED;
            responder.send(response);
            return;
        }
        java.util.concurrent.CompletableFuture<HeartbeatResult> answered;
        try {
            // The group's own records go to __consumer_offsets, which only FindCoordinator makes: before this
            // broker leads the group's partition the coordinator answers NOT_COORDINATOR (Kafka 4.x's runtime).
            // The share coordinator's topic is created (a ZooKeeper write, outside the coordinators' locks and after
            // the answer, on the initializations' own thread) only once an accepted heartbeat has share-partitions
            // to initialize, where Kafka's persister looks the share coordinator up: a refused heartbeat creates
            // nothing.
            answered = broker.shareGroups().heartbeatAsync(new HeartbeatRequest(request.groupId,
                    request.memberId, request.memberEpoch, request.rackId, request.subscribedTopicNames,
                    context.clientId(), context.clientHost()), System.currentTimeMillis(),
                    () -> broker.shareStateTopic().ensureTopic());
        } catch (RuntimeException e) {
            answered = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        // Answered once the group's own records are written, as Kafka 4.4: the share coordinator initializes the
        // group's new share-partitions afterwards, and a later heartbeat assigns them.
        answered.whenComplete((result, failure) -> {
            if (failure == null) {
                response.memberId = result.memberId();
                response.memberEpoch = result.memberEpoch();
                response.heartbeatIntervalMs = result.heartbeatIntervalMs();
                if (result.assignment() != null) response.assignment = toWire(result.assignment());
            } else {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException
                        && failure.getCause() != null ? failure.getCause() : failure;
                if (cause instanceof ApiException e) {
                    response.errorCode = e.error();
                    response.errorMessage = e.getMessage();
                } else {
                    LOG.log(System.Logger.Level.ERROR, "ShareGroupHeartbeat of group " + request.groupId
                            + " failed", cause);
                    response.errorCode = UNKNOWN_SERVER_ERROR;
                    response.errorMessage = cause.getMessage();
                }
            }
            responder.send(response);
        });
    }

    private static ShareGroupHeartbeatResponse.Assignment toWire(Map<UUID, SortedSet<Integer>> assignment) {
        ShareGroupHeartbeatResponse.Assignment wire = new ShareGroupHeartbeatResponse.Assignment();
        for (Map.Entry<UUID, SortedSet<Integer>> e : assignment.entrySet()) {
            ShareGroupHeartbeatResponse.TopicPartitions tp = new ShareGroupHeartbeatResponse.TopicPartitions();
            tp.topicId = e.getKey();
            tp.partitions = new ArrayList<>(e.getValue());
            wire.topicPartitions.add(tp);
        }
        return wire;
    }
}
