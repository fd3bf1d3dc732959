package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.DescribeGroupsRequest;
import io.tandem.kafka.wire.message.DescribeGroupsResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * DescribeGroups: an unknown group is "Dead" with no error before v6 and GROUP_ID_NOT_FOUND from v6, as in Kafka; a
 * consumer group (KIP-848) or share group (KIP-932) is not a classic group, so it is reported the same way, with Kafka's message.
 * A group whose offsets partition is not led here, or still loads, gets NOT_COORDINATOR or
 * COORDINATOR_LOAD_IN_PROGRESS.
 */
final class DescribeGroupsHandler implements ApiHandler<DescribeGroupsRequest> {
    private final KafkaBroker broker;

    DescribeGroupsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, DescribeGroupsRequest request, Responder responder) {
        DescribeGroupsResponse response = new DescribeGroupsResponse();
        for (String groupId : request.groups) {
            if (!broker.authorization().group(context, AclOperation.DESCRIBE, groupId)) {
                // Kafka's DescribedGroup for a refused group: only its id and the error.
                DescribeGroupsResponse.DescribedGroup refused = new DescribeGroupsResponse.DescribedGroup();
                refused.groupId = groupId;
                refused.errorCode = GROUP_AUTHORIZATION_FAILED;
                refused.errorMessage = null;
                response.groups.add(refused);
                continue;
            }
            short coordinatorError = broker.groups().coordinatorError(groupId);
            if (coordinatorError != NONE) {
                // Kafka's validateGroupStatus comes first: its error with an empty summary (no state, no protocol).
                DescribeGroupsResponse.DescribedGroup notHere = new DescribeGroupsResponse.DescribedGroup();
                notHere.groupId = groupId;
                notHere.errorCode = coordinatorError;
                notHere.groupState = "";
                notHere.protocolType = "";
                notHere.protocolData = "";
                response.groups.add(notHere);
                continue;
            }
            if (broker.consumerGroups().isConsumerGroup(groupId) || broker.shareGroups().isShareGroup(groupId)) {
                DescribeGroupsResponse.DescribedGroup group = new DescribeGroupsResponse.DescribedGroup();
                group.groupId = groupId;
                group.groupState = "Dead";
                if (context.apiVersion() >= 6) {
                    group.errorCode = GROUP_ID_NOT_FOUND;
                    group.errorMessage = "Group " + groupId + " is not a classic group.";
                }
                response.groups.add(group);
                continue;
            }
            GroupMessages.GroupDescription d = broker.groups().describeGroup(groupId);
            DescribeGroupsResponse.DescribedGroup group = new DescribeGroupsResponse.DescribedGroup();
            group.groupId = groupId;
            group.groupState = d.state().toString();
            if (context.apiVersion() >= 3 && request.includeAuthorizedOperations) {
                group.authorizedOperations = broker.authorization().authorizedOperations(context,
                        io.tandem.kafka.wire.acl.ResourceType.GROUP, groupId,
                        io.tandem.server.kafka.security.Authorization.GROUP_OPERATIONS);
            }
            group.protocolType = d.protocolType();
            group.protocolData = d.protocol() == null ? "" : d.protocol();
            if (d.error() == GROUP_ID_NOT_FOUND) {
                group.errorCode = context.apiVersion() >= 6 ? GROUP_ID_NOT_FOUND : NONE;
                if (context.apiVersion() >= 6) group.errorMessage = "Group " + groupId + " not found.";
            }
            for (GroupMessages.MemberDescription m : d.members()) {
                DescribeGroupsResponse.DescribedGroupMember member =
                        new DescribeGroupsResponse.DescribedGroupMember();
                member.memberId = m.memberId();
                member.groupInstanceId = m.groupInstanceId();
                member.clientId = m.clientId() == null ? "" : m.clientId();
                member.clientHost = m.clientHost() == null ? "" : m.clientHost();
                member.memberMetadata = m.metadata();
                member.memberAssignment = m.assignment();
                group.members.add(member);
            }
            response.groups.add(group);
        }
        responder.send(response);
    }
}
