package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ShareAcknowledgeRequest;
import io.tandem.kafka.wire.message.ShareAcknowledgeResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.ShareSessions;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ShareAcknowledge (KIP-932): acknowledges records of the member's share session without fetching. The session must
 * exist and the epoch match (epoch 0 cannot acknowledge: INVALID_SHARE_SESSION_EPOCH); epoch -1 closes the session and
 * releases whatever the member still holds.
 */
final class ShareAcknowledgeHandler implements ApiHandler<ShareAcknowledgeRequest> {
    private final KafkaBroker broker;

    ShareAcknowledgeHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ShareAcknowledgeRequest request, Responder responder) {
        ShareAcknowledgeResponse response = new ShareAcknowledgeResponse();
        response.acquisitionLockTimeoutMs = broker.shareGroups().config().recordLockDurationMs();
        long now = System.currentTimeMillis();
        short error = NONE;
        String message = null;
        if (request.groupId == null || request.groupId.isEmpty() || request.memberId == null
                || request.memberId.isEmpty()) {
            error = INVALID_REQUEST;
            message = "GroupId and MemberId must be set.";
        } else if (request.shareSessionEpoch == ShareSessions.INITIAL_EPOCH) {
            error = Errors.INVALID_SHARE_SESSION_EPOCH.code();
        } else if (!ShareAcknowledgements.knownMember(broker, request.groupId, request.memberId)) {
            error = UNKNOWN_MEMBER_ID;
        } else {
            try {
                broker.shareGroups().sessions().advance(request.groupId, request.memberId, request.shareSessionEpoch);
            } catch (ApiException e) {
                error = e.error();
            }
        }
        if (error != NONE) {
            response.errorCode = error;
            response.errorMessage = message != null ? message : Errors.forCode(error).message();
            responder.send(response);
            return;
        }
        // Each partition's answer is due once its write is settled; the response goes from the last completion, on
        // whichever thread that is, with no thread waiting meanwhile.
        List<CompletableFuture<Void>> settled = new ArrayList<>();
        Map<ShareAcknowledgeResponse.PartitionData, java.util.UUID> topicOf = new java.util.IdentityHashMap<>();
        for (ShareAcknowledgeRequest.AcknowledgeTopic t : request.topics) {
            ShareAcknowledgeResponse.ShareAcknowledgeTopicResponse topic =
                    new ShareAcknowledgeResponse.ShareAcknowledgeTopicResponse();
            topic.topicId = t.topicId;
            for (ShareAcknowledgeRequest.AcknowledgePartition p : t.partitions) {
                List<ShareAcknowledgements.Batch> batches = new ArrayList<>();
                for (ShareAcknowledgeRequest.AcknowledgementBatch b : p.acknowledgementBatches) {
                    batches.add(new ShareAcknowledgements.Batch(b.firstOffset, b.lastOffset, b.acknowledgeTypes));
                }
                ShareAcknowledgeResponse.PartitionData data = new ShareAcknowledgeResponse.PartitionData();
                data.partitionIndex = p.partitionIndex;
                data.currentLeader.leaderId = -1;
                data.currentLeader.leaderEpoch = -1;
                topicOf.put(data, t.topicId);
                settled.add(ShareAcknowledgements.acknowledge(broker, context, request.groupId, request.memberId,
                        t.topicId, p.partitionIndex, batches, now).thenAccept(code -> data.errorCode = code));
                topic.partitions.add(data);
            }
            response.responses.add(topic);
        }
        CompletableFuture.allOf(settled.toArray(new CompletableFuture<?>[0])).whenComplete((done, failure) -> {
            try {
                finish(context, request, response, topicOf);
            } catch (RuntimeException e) {
                responder.fail(e);
                return;
            }
            responder.send(response);
        });
    }

    /** Once every partition's write is settled: the leaders of the partitions that moved, and a final close. */
    private void finish(RequestContext context, ShareAcknowledgeRequest request, ShareAcknowledgeResponse response,
                        Map<ShareAcknowledgeResponse.PartitionData, java.util.UUID> topicOf) {
        CurrentLeaders leaders = new CurrentLeaders(broker, context.listenerName());
        for (ShareAcknowledgeResponse.ShareAcknowledgeTopicResponse topic : response.responses) {
            for (ShareAcknowledgeResponse.PartitionData data : topic.partitions) {
                if (CurrentLeaders.sendsLeader(data.errorCode)) {
                    CurrentLeaders.Leader leader = leaders.leader(topicOf.get(data), data.partitionIndex);
                    data.currentLeader.leaderId = leader.leaderId();
                    data.currentLeader.leaderEpoch = leader.leaderEpoch();
                }
            }
        }
        for (CurrentLeaders.Endpoint endpoint : leaders.endpoints()) {
            ShareAcknowledgeResponse.NodeEndpoint node = new ShareAcknowledgeResponse.NodeEndpoint();
            node.nodeId = endpoint.nodeId();
            node.host = endpoint.host();
            node.port = endpoint.port();
            node.rack = endpoint.rack();
            response.nodeEndpoints.add(node);
        }
        if (request.shareSessionEpoch == ShareSessions.FINAL_EPOCH) {
            broker.shareGroups().partitions().closeSession(request.groupId, request.memberId);
        }
    }
}
