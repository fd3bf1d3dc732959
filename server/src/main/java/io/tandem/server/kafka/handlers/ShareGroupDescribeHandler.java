package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.acl.ResourceType;
import io.tandem.kafka.wire.message.ShareGroupDescribeRequest;
import io.tandem.kafka.wire.message.ShareGroupDescribeResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.Description;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.MemberDescription;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.security.Authorization;

import java.util.ArrayList;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.GROUP_AUTHORIZATION_FAILED;
import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * ShareGroupDescribe (KIP-932): epochs, assignor and every member's subscription and assignment, with topic names
 * beside the ids. An unknown id, or a classic or consumer group's, is GROUP_ID_NOT_FOUND with Kafka's message; a group
 * whose offsets partition is not led or not loaded here NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS.
 */
final class ShareGroupDescribeHandler implements ApiHandler<ShareGroupDescribeRequest> {
    private final KafkaBroker broker;

    ShareGroupDescribeHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ShareGroupDescribeRequest request, Responder responder) {
        ShareGroupDescribeResponse response = new ShareGroupDescribeResponse();
        long now = System.currentTimeMillis();
        for (String groupId : request.groupIds) {
            ShareGroupDescribeResponse.DescribedGroup group = new ShareGroupDescribeResponse.DescribedGroup();
            group.groupId = groupId;
            if (!broker.authorization().group(context, AclOperation.DESCRIBE, groupId)) {
                group.errorCode = GROUP_AUTHORIZATION_FAILED;
                response.groups.add(group);
                continue;
            }
            short coordinatorError = broker.shareGroups().coordinatorError(groupId);
            if (coordinatorError != NONE) {
                // As Kafka: a group whose offsets partition is not led here (or still loads) is named with the error.
                group.errorCode = coordinatorError;
                response.groups.add(group);
                continue;
            }
            Description d = broker.shareGroups().describe(groupId, now);
            group.errorCode = d.error();
            group.errorMessage = d.errorMessage();
            group.groupState = d.state();
            group.groupEpoch = d.groupEpoch();
            group.assignmentEpoch = d.assignmentEpoch();
            group.assignorName = d.assignorName();
            if (d.error() == 0 && request.includeAuthorizedOperations) {
                group.authorizedOperations = broker.authorization().authorizedOperations(context,
                        ResourceType.GROUP, groupId, Authorization.GROUP_OPERATIONS);
            }
            for (MemberDescription m : d.members()) {
                ShareGroupDescribeResponse.Member member = new ShareGroupDescribeResponse.Member();
                member.memberId = m.memberId();
                member.rackId = m.rackId();
                member.memberEpoch = m.memberEpoch();
                member.clientId = m.clientId();
                member.clientHost = m.clientHost();
                member.subscribedTopicNames = new ArrayList<>(m.subscribedTopicNames());
                member.assignment = toWire(m.assignment());
                group.members.add(member);
            }
            response.groups.add(group);
        }
        responder.send(response);
    }

    private ShareGroupDescribeResponse.Assignment toWire(Map<UUID, SortedSet<Integer>> assignment) {
        ShareGroupDescribeResponse.Assignment wire = new ShareGroupDescribeResponse.Assignment();
        for (Map.Entry<UUID, SortedSet<Integer>> e : assignment.entrySet()) {
            TopicInfo topic = broker.metadata().topicById(e.getKey());
            if (topic == null) continue; // a deleted topic has no name any more; Kafka leaves it out
            ShareGroupDescribeResponse.TopicPartitions tp = new ShareGroupDescribeResponse.TopicPartitions();
            tp.topicId = e.getKey();
            tp.topicName = topic.name();
            tp.partitions = new ArrayList<>(e.getValue());
            wire.topicPartitions.add(tp);
        }
        return wire;
    }
}
