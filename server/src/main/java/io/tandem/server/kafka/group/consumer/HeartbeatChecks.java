package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;

import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;
import static io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH;
import static io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.LEAVE_GROUP_STATIC_MEMBER_EPOCH;

/**
 * What a ConsumerGroupHeartbeat must satisfy, as Kafka's group coordinator checks it: the request's own fields
 * before anything else, and the member's epoch against the coordinator's. Pure checks: a refusal is an
 * {@link ApiException} with Kafka's error and message, and nothing is changed either way.
 */
final class HeartbeatChecks {
    /** ConsumerGroupHeartbeat v1+ clients generate their member id (KIP-1082). */
    static final short CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION = 1;

    private HeartbeatChecks() {
    }

    /**
     * Kafka's checks of a heartbeat before it touches the group (throwIfConsumerGroupHeartbeatRequestIsInvalid):
     * INVALID_REQUEST for a blank or missing field, UNSUPPORTED_ASSIGNOR for an assignor not configured,
     * INVALID_REGULAR_EXPRESSION for a regex that does not compile.
     */
    static void validate(HeartbeatRequest r, TargetAssignments assignments) {
        if (r.apiVersion() >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION || r.memberEpoch() > 0
                || r.memberEpoch() == LEAVE_GROUP_MEMBER_EPOCH) {
            requireNotBlank(r.memberId(), "MemberId can't be empty.");
        }
        requireNotBlank(r.groupId(), "GroupId can't be empty.");
        requireNotBlank(r.instanceId(), "InstanceId can't be empty.");
        requireNotBlank(r.rackId(), "RackId can't be empty.");
        if (r.memberEpoch() == 0) {
            if (r.rebalanceTimeoutMs() == -1) {
                throw new ApiException(INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.");
            }
            if (r.ownedPartitions() == null || !r.ownedPartitions().isEmpty()) {
                throw new ApiException(INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining.");
            }
            // Kafka 4.4 takes a member joining with an empty list of names or an empty regex (in the group,
            // subscribed to nothing): the Java consumer joins so with a Pattern that has matched no topic yet.
            if (r.subscribedTopicNames() == null && r.subscribedTopicRegex() == null) {
                throw new ApiException(INVALID_REQUEST,
                        "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
            }
        } else if (r.memberEpoch() == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            if (r.instanceId() == null) throw new ApiException(INVALID_REQUEST, "InstanceId can't be null.");
        } else if (r.memberEpoch() < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            throw new ApiException(INVALID_REQUEST, "MemberEpoch is invalid.");
        }
        if (r.serverAssignor() != null && !assignments.assignorNames().contains(r.serverAssignor())) {
            throw new ApiException(UNSUPPORTED_ASSIGNOR, "ServerAssignor " + r.serverAssignor()
                    + " is not supported. Supported assignors: " + String.join(", ", assignments.assignorNames())
                    + ".");
        }
        if (r.subscribedTopicRegex() != null && !r.subscribedTopicRegex().isEmpty()) {
            assignments.compile(r.subscribedTopicRegex());
        }
    }

    private static void requireNotBlank(String value, String message) {
        if (value != null && value.trim().isEmpty()) throw new ApiException(INVALID_REQUEST, message);
    }

    /**
     * Kafka's epoch check: a member ahead of the coordinator, or behind it, is fenced, except a member one epoch
     * behind that owns no more than its current partitions (the answer that bumped its epoch was lost).
     */
    static void checkEpoch(ConsumerGroupMember member, int received, List<OwnedPartitions> owned) {
        if (received > member.memberEpoch) {
            throw new ApiException(FENCED_MEMBER_EPOCH, "The consumer group member has a greater member epoch ("
                    + received + ") than the one known by the group coordinator (" + member.memberEpoch
                    + "). The member must abandon all its partitions and rejoin.");
        }
        if (received < member.memberEpoch
                && (received != member.previousMemberEpoch || !isSubset(owned, member.assigned))) {
            throw new ApiException(FENCED_MEMBER_EPOCH, "The consumer group member has a smaller member epoch ("
                    + received + ") than the one known by the group coordinator (" + member.memberEpoch
                    + "). The member must abandon all its partitions and rejoin.");
        }
    }

    private static boolean isSubset(List<OwnedPartitions> owned, Assignment assigned) {
        if (owned == null) return false;
        for (OwnedPartitions o : owned) {
            for (int p : o.partitions()) if (!assigned.contains(o.topicId(), p)) return false;
        }
        return true;
    }
}
