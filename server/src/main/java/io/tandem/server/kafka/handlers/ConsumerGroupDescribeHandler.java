package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ConsumerGroupDescribeRequest;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.consumer.Assignment;
import io.tandem.server.kafka.group.consumer.ConsumerGroupDescription;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

/**
 * ConsumerGroupDescribe (KIP-848): epochs, assignor, and every member's subscription, assignment and target, with
 * topic names beside the ids. A classic or unknown group id is GROUP_ID_NOT_FOUND, as Apache answers.
 */
final class ConsumerGroupDescribeHandler implements ApiHandler<ConsumerGroupDescribeRequest> {
    /** ConsumerGroupDescribe v1's MemberType of a member speaking the consumer protocol (0 is a classic member). */
    static final byte MEMBER_TYPE_CONSUMER = 1;
    /** ConsumerGroupDescribe v1's MemberType of a classic member inside a consumer group (KIP-848 migration). */
    static final byte MEMBER_TYPE_CLASSIC = 0;
    private final KafkaBroker broker;

    ConsumerGroupDescribeHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ConsumerGroupDescribeRequest request, Responder responder) {
        ConsumerGroupDescribeResponse response = new ConsumerGroupDescribeResponse();
        for (String groupId : request.groupIds) {
            if (!broker.authorization().group(context, io.tandem.kafka.wire.acl.AclOperation.DESCRIBE, groupId)) {
                // As Kafka: a group the principal may not describe is named with the error only.
                ConsumerGroupDescribeResponse.DescribedGroup refused = new ConsumerGroupDescribeResponse.DescribedGroup();
                refused.groupId = groupId;
                refused.errorCode = io.tandem.server.kafka.ErrorCodes.GROUP_AUTHORIZATION_FAILED;
                response.groups.add(refused);
                continue;
            }
            short coordinatorError = broker.groups().coordinatorError(groupId);
            if (coordinatorError != io.tandem.server.kafka.ErrorCodes.NONE) {
                // As Kafka: a group whose offsets partition is not led here (or still loads) is named with the error.
                ConsumerGroupDescribeResponse.DescribedGroup notHere = new ConsumerGroupDescribeResponse.DescribedGroup();
                notHere.groupId = groupId;
                notHere.errorCode = coordinatorError;
                response.groups.add(notHere);
                continue;
            }
            ConsumerGroupDescription d = broker.consumerGroups().describe(groupId);
            ConsumerGroupDescribeResponse.DescribedGroup group = new ConsumerGroupDescribeResponse.DescribedGroup();
            group.groupId = groupId;
            group.errorCode = d.error();
            group.errorMessage = d.errorMessage();
            group.groupState = d.state();
            group.groupEpoch = d.groupEpoch();
            group.assignmentEpoch = d.assignmentEpoch();
            group.assignorName = d.assignorName();
            if (request.includeAuthorizedOperations && group.errorCode == io.tandem.server.kafka.ErrorCodes.NONE) {
                // As Kafka: the operations the principal may do on a group it found, when asked for.
                group.authorizedOperations = broker.authorization().authorizedOperations(context,
                        io.tandem.kafka.wire.acl.ResourceType.GROUP, groupId,
                        io.tandem.server.kafka.security.Authorization.GROUP_OPERATIONS);
            }
            for (ConsumerGroupDescription.Member m : d.members()) {
                ConsumerGroupDescribeResponse.Member member = new ConsumerGroupDescribeResponse.Member();
                member.memberId = m.memberId();
                member.instanceId = m.instanceId();
                member.rackId = m.rackId();
                member.memberEpoch = m.memberEpoch();
                member.clientId = m.clientId();
                member.clientHost = m.clientHost();
                member.subscribedTopicNames = new ArrayList<>(m.subscribedTopicNames());
                // Kafka's member keeps "" for "no regular expression" and describes it so.
                member.subscribedTopicRegex = m.subscribedTopicRegex() == null ? "" : m.subscribedTopicRegex();
                member.assignment = toWire(m.assignment());
                member.targetAssignment = toWire(m.targetAssignment());
                member.memberType = m.classic() ? MEMBER_TYPE_CLASSIC : MEMBER_TYPE_CONSUMER;
                group.members.add(member);
            }
            response.groups.add(group);
        }
        responder.send(response);
    }

    private ConsumerGroupDescribeResponse.Assignment toWire(Assignment assignment) {
        ConsumerGroupDescribeResponse.Assignment wire = new ConsumerGroupDescribeResponse.Assignment();
        for (Map.Entry<UUID, SortedSet<Integer>> e : assignment.partitions().entrySet()) {
            TopicInfo topic = broker.metadata().topicById(e.getKey());
            // A deleted topic has no name any more; Kafka leaves such partitions out of the description.
            if (topic == null) continue;
            ConsumerGroupDescribeResponse.TopicPartitions tp = new ConsumerGroupDescribeResponse.TopicPartitions();
            tp.topicId = e.getKey();
            tp.topicName = topic.name();
            tp.partitions = new ArrayList<>(e.getValue());
            wire.topicPartitions.add(tp);
        }
        return wire;
    }
}
