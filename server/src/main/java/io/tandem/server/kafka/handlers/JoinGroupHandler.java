package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.JoinGroupResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.INCONSISTENT_GROUP_PROTOCOL;
import static io.tandem.server.kafka.ErrorCodes.NONE;

/** JoinGroup: answered when the rebalance completes (or at once for errors and the MEMBER_ID_REQUIRED step). */
final class JoinGroupHandler implements ApiHandler<JoinGroupRequest> {
    private final KafkaBroker broker;

    JoinGroupHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    /**
     * Whether the join is for a share group's id and gets as far as Kafka 4.x looks at the group's type: its
     * GroupCoordinatorService refuses a session timeout out of bounds first, then the coordinator runtime a group
     * whose offsets partition is not led or still loads here (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), and
     * only the shard finds the share group. Those earlier answers are the classic join's own, so the request goes
     * there when one applies.
     */
    private boolean refusedAsShareGroup(JoinGroupRequest request) {
        return broker.shareGroups().isShareGroup(request.groupId)
                && broker.groups().coordinatorError(request.groupId) == NONE
                && request.sessionTimeoutMs >= broker.config().groupMinSessionTimeoutMs()
                && request.sessionTimeoutMs <= broker.config().groupMaxSessionTimeoutMs();
    }

    @Override
    public void handle(RequestContext context, JoinGroupRequest request, Responder responder) {
        short version = context.apiVersion();
        if (refusedAsShareGroup(request)) {
            // A group id is of one kind at a time: a share group's is refused to classic members, as in Kafka 4.x
            // (GroupMetadataManager.classicGroupJoin), with the unknown member id whatever the member sent.
            JoinGroupResponse refused = new JoinGroupResponse();
            refused.errorCode = INCONSISTENT_GROUP_PROTOCOL;
            refused.generationId = -1;
            refused.memberId = "";
            refused.leader = "";
            refused.protocolName = version < 7 ? "" : null;
            responder.send(refused);
            return;
        }
        List<GroupMessages.Protocol> protocols = new ArrayList<>();
        for (JoinGroupRequest.JoinGroupRequestProtocol p : request.protocols) {
            protocols.add(new GroupMessages.Protocol(p.name, p.metadata));
        }
        // v0 has no rebalance timeout: the session timeout serves as both, as in Kafka.
        int rebalanceTimeoutMs = version == 0 || request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs
                : request.rebalanceTimeoutMs;
        GroupMessages.JoinRequest join = new GroupMessages.JoinRequest(request.groupId, request.memberId,
                request.groupInstanceId, context.clientId(), context.clientHost(), request.sessionTimeoutMs,
                rebalanceTimeoutMs, request.protocolType, protocols, version >= 4);
        // No offsets topic is made here: only FindCoordinator makes it, and before it is led the coordinator
        // answers NOT_COORDINATOR, as Kafka's does.
        broker.groups().joinGroup(join, System.currentTimeMillis(), result -> {
            JoinGroupResponse response = new JoinGroupResponse();
            response.errorCode = result.error();
            response.generationId = result.generationId();
            response.protocolType = result.protocolType();
            // Before v7 the protocol name is not nullable: Kafka sends "" instead of null.
            response.protocolName = result.protocolName() == null && version < 7 ? "" : result.protocolName();
            response.leader = result.leaderId() == null ? "" : result.leaderId();
            response.memberId = result.memberId() == null ? "" : result.memberId();
            response.skipAssignment = result.skipAssignment();
            for (GroupMessages.JoinedMember m : result.members()) {
                JoinGroupResponse.JoinGroupResponseMember member = new JoinGroupResponse.JoinGroupResponseMember();
                member.memberId = m.memberId();
                member.groupInstanceId = m.groupInstanceId();
                member.metadata = m.metadata();
                response.members.add(member);
            }
            responder.send(response);
        });
    }
}
