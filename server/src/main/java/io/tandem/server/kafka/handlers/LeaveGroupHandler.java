package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.LeaveGroupRequest;
import io.tandem.kafka.wire.message.LeaveGroupResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.List;

/** LeaveGroup: one member (v0-2) or a batch with per-member results (v3+). */
final class LeaveGroupHandler implements ApiHandler<LeaveGroupRequest> {
    private final KafkaBroker broker;

    LeaveGroupHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, LeaveGroupRequest request, Responder responder) {
        List<GroupMessages.LeavingMember> leaving = new ArrayList<>();
        if (context.apiVersion() < 3) {
            leaving.add(new GroupMessages.LeavingMember(request.memberId, null));
        } else {
            for (LeaveGroupRequest.MemberIdentity m : request.members) {
                leaving.add(new GroupMessages.LeavingMember(m.memberId, m.groupInstanceId));
            }
        }
        GroupMessages.LeaveResult result = broker.groups().leaveGroup(request.groupId, leaving,
                System.currentTimeMillis());
        LeaveGroupResponse response = new LeaveGroupResponse();
        response.errorCode = result.error();
        if (context.apiVersion() < 3) {
            if (result.error() == 0 && !result.members().isEmpty()) response.errorCode = result.members().get(0).error();
        } else {
            for (GroupMessages.MemberLeaveResult m : result.members()) {
                LeaveGroupResponse.MemberResponse member = new LeaveGroupResponse.MemberResponse();
                member.memberId = m.memberId();
                member.groupInstanceId = m.groupInstanceId();
                member.errorCode = m.error();
                response.members.add(member);
            }
        }
        responder.send(response);
    }
}
