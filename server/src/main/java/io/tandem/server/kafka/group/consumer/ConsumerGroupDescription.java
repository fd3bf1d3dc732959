package io.tandem.server.kafka.group.consumer;

import java.util.ArrayList;
import java.util.List;

/**
 * A consumer group as ConsumerGroupDescribe reports it, copied under the coordinator's lock: either an error
 * (GROUP_ID_NOT_FOUND with Kafka's message) or the group with its members.
 */
public record ConsumerGroupDescription(short error, String errorMessage, String groupId, String state, int groupEpoch,
                                       int assignmentEpoch, String assignorName, List<Member> members) {
    /**
     * One member: its subscription, its current assignment and its target; {@code classic} for a member speaking
     * the classic protocol inside the group (ConsumerGroupDescribe v1's MemberType 0), else the consumer protocol.
     */
    public record Member(String memberId, String instanceId, String rackId, int memberEpoch, String clientId,
                         String clientHost, List<String> subscribedTopicNames, String subscribedTopicRegex,
                         Assignment assignment, Assignment targetAssignment, boolean classic) {
    }

    static ConsumerGroupDescription of(ConsumerGroup group, String assignorName) {
        List<Member> members = new ArrayList<>();
        for (ConsumerGroupMember m : group.members.values()) {
            members.add(new Member(m.memberId, m.instanceId, m.rackId, m.memberEpoch, m.clientId, m.clientHost,
                    m.subscribedTopicNames, m.subscribedTopicRegex, m.assigned, group.targetAssignment(m.memberId),
                    m.usesClassicProtocol()));
        }
        return new ConsumerGroupDescription((short) 0, null, group.groupId, group.state().toString(),
                group.groupEpoch, group.assignmentEpoch, assignorName, members);
    }
}
