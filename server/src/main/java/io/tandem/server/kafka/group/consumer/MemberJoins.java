package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupMessages.HandedOverGroup;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A ConsumerGroupHeartbeat that joins or stays (Kafka's GroupMetadataManager.consumerGroupHeartbeat): the group found
 * or created (taking over an empty classic group, or upgrading a live one under the migration policy), the member
 * found, created, or, for a static member back under a new id, put in its old place; its subscription updated, the
 * group epoch and target moved, and the member reconciled towards its target. Called under the coordinator's lock.
 */
final class MemberJoins {
    private final Map<String, ConsumerGroup> groups;
    private final GroupCoordinator classic;
    private final ConsumerGroupConfig config;
    private final ConsumerGroupStore store;
    private final GroupMigration migration;
    private final GroupEpochs epochs;

    MemberJoins(Map<String, ConsumerGroup> groups, GroupCoordinator classic, ConsumerGroupConfig config,
                ConsumerGroupStore store, GroupMigration migration, GroupEpochs epochs) {
        this.groups = groups;
        this.classic = classic;
        this.config = config;
        this.store = store;
        this.migration = migration;
        this.epochs = epochs;
    }

    /** {@code groupTimeouts}: the group's session timeout and heartbeat interval, read before anything changes. */
    HeartbeatResult join(HeartbeatRequest r, GroupTimeouts groupTimeouts, long nowMs) {
        boolean joining = r.memberEpoch() == 0;
        ConsumerGroup group = getOrMaybeCreate(r.groupId(), joining, nowMs);
        String memberId = r.memberId() == null || r.memberId().isEmpty() ? ConsumerGroupMember.newMemberId()
                : r.memberId();
        if (group.members.size() >= config.maxSize() && !group.members.containsKey(memberId)) {
            throw new ApiException(GROUP_MAX_SIZE_REACHED, "The consumer group has reached its maximum capacity of "
                    + config.maxSize() + " members.");
        }
        boolean created = !group.members.containsKey(memberId);
        ConsumerGroupMember member;
        ConsumerGroupMember replaced = null;
        if (r.instanceId() == null) {
            member = memberFor(group, memberId, joining);
            HeartbeatChecks.checkEpoch(member, r.memberEpoch(), r.ownedPartitions());
        } else {
            ConsumerGroupMember current = group.staticMember(r.instanceId());
            if (joining) {
                if (current == null) {
                    member = memberFor(group, memberId, true);
                    HeartbeatChecks.checkEpoch(member, r.memberEpoch(), r.ownedPartitions());
                } else {
                    if (current.memberEpoch != ConsumerGroupCoordinator.LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                        throw new ApiException(UNRELEASED_INSTANCE_ID, "Static member " + memberId
                                + " with instance id " + r.instanceId() + " cannot join the group because the"
                                + " instance id is owned by " + current.memberId + " member.");
                    }
                    // The instance came back under a new member id: it takes over the old member's subscription,
                    // partitions and target, so it gets its partitions back without a rebalance.
                    replaced = current;
                    member = new ConsumerGroupMember(memberId);
                    member.copySubscriptionFrom(current);
                    member.assigned = current.assigned;
                    member.memberEpoch = 0;
                    group.ownershipChanged();
                }
            } else {
                if (current == null) {
                    throw new ApiException(UNKNOWN_MEMBER_ID, "Instance id " + r.instanceId() + " is unknown.");
                }
                if (!current.memberId.equals(memberId)) {
                    throw new ApiException(FENCED_INSTANCE_ID, "Static member " + memberId + " with instance id "
                            + r.instanceId() + " was fenced by member " + current.memberId + ".");
                }
                member = current;
                HeartbeatChecks.checkEpoch(member, r.memberEpoch(), r.ownedPartitions());
            }
        }
        Assignment assignedBefore = created && replaced == null ? null : member.assigned;
        boolean subscriptionChanged = updateMember(member, r);
        if (replaced != null) {
            group.members.remove(replaced.memberId);
            Assignment target = group.targetAssignment.remove(replaced.memberId);
            if (target != null) group.targetAssignment.put(memberId, target);
            store.memberRemoved(group.groupId, replaced.memberId);
            if (target != null) store.targetAssignment(group.groupId, memberId, target);
        }
        // A member heartbeating with ConsumerGroupHeartbeat speaks the consumer protocol (Kafka clears its
        // ClassicMemberMetadata).
        boolean wasClassic = member.classic != null;
        member.classic = null;
        member.joinDeadlineMs = Long.MAX_VALUE;
        member.syncDeadlineMs = Long.MAX_VALUE;
        if (created || replaced != null || subscriptionChanged || wasClassic) {
            store.memberMetadata(group.groupId, member);
        }
        group.members.put(memberId, member);
        if (member.instanceId != null) group.staticMembers.put(member.instanceId, memberId);
        epochs.updateEpochAndTarget(group, created && replaced == null || subscriptionChanged);
        MemberState stateBefore = member.state;
        int epochBefore = member.memberEpoch;
        CurrentAssignmentBuilder.reconcile(member, group.assignmentEpoch, group.targetAssignment(memberId),
                group::isOwnedByOther, r.ownedPartitions());
        epochs.afterReconcile(group, member, stateBefore, epochBefore, assignedBefore, nowMs);
        member.sessionDeadlineMs = nowMs + groupTimeouts.sessionTimeoutMs();
        boolean fullRequest = joining || (r.rebalanceTimeoutMs() != -1 && r.subscribedTopicNames() != null
                && r.ownedPartitions() != null);
        boolean assignmentChanged = assignedBefore == null || !assignedBefore.equals(member.assigned);
        return new HeartbeatResult(memberId, member.memberEpoch, groupTimeouts.heartbeatIntervalMs(),
                fullRequest || assignmentChanged ? member.assigned : null);
    }

    /** Applies the fields the request sets (null means "unchanged"); returns whether the subscription changed. */
    private static boolean updateMember(ConsumerGroupMember member, HeartbeatRequest r) {
        List<String> names = r.subscribedTopicNames() == null ? member.subscribedTopicNames
                : List.copyOf(new LinkedHashSet<>(r.subscribedTopicNames()));
        // An empty regex clears the regex subscription, as in Kafka.
        String regex = r.subscribedTopicRegex() == null ? member.subscribedTopicRegex
                : r.subscribedTopicRegex().isEmpty() ? null : r.subscribedTopicRegex();
        boolean changed = !member.sameSubscription(names, regex)
                || (r.serverAssignor() != null && !r.serverAssignor().equals(member.serverAssignor));
        member.subscribedTopicNames = names;
        member.subscribedTopicRegex = regex;
        if (r.serverAssignor() != null) member.serverAssignor = r.serverAssignor();
        if (r.instanceId() != null) member.instanceId = r.instanceId();
        if (r.rackId() != null) member.rackId = r.rackId();
        if (r.rebalanceTimeoutMs() != -1) member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        member.clientId = r.clientId() == null ? "" : r.clientId();
        member.clientHost = r.clientHost() == null ? "" : r.clientHost();
        return changed;
    }

    private static ConsumerGroupMember memberFor(ConsumerGroup group, String memberId, boolean createIfAbsent) {
        if (!createIfAbsent) return group.requireMember(memberId);
        ConsumerGroupMember member = group.members.get(memberId);
        return member != null ? member : new ConsumerGroupMember(memberId);
    }

    private ConsumerGroup getOrMaybeCreate(String groupId, boolean create, long nowMs) {
        ConsumerGroup group = groups.get(groupId);
        if (group != null) return group;
        HandedOverGroup live = classic.liveClassicGroup(groupId);
        if (live != null && live.members().isEmpty() && create) {
            // Only member ids handed out with MEMBER_ID_REQUIRED: an Empty classic group, as Kafka sees it, which a
            // consumer group takes over under every policy (those ids may still join, as classic members).
            classic.releaseToConsumerGroup(groupId, nowMs);
            live = null;
        }
        if (live != null) {
            if (!create) throw new ApiException(GROUP_ID_NOT_FOUND, "Group " + groupId + " is not a consumer group");
            // The first consumer-protocol member of a live classic group: an online upgrade, policy permitting.
            group = migration.upgrade(live, nowMs);
            groups.put(groupId, group);
            return group;
        }
        if (!create) {
            // Kafka names an Empty classic group (its members gone, its offsets kept) as it names a live one.
            throw new ApiException(GROUP_ID_NOT_FOUND, classic.hasGroup(groupId)
                    ? "Group " + groupId + " is not a consumer group" : "Consumer group " + groupId + " not found.");
        }
        // An empty classic group (or one known only from its offsets) becomes a consumer group; offsets stay. As
        // Kafka 4.x's maybeDeleteEmptyClassicGroup, the classic group's record gets its tombstone, so a reload does
        // not bring the classic group back beside the consumer group.
        if (classic.hasGroup(groupId)) classic.releaseToConsumerGroup(groupId, nowMs);
        group = new ConsumerGroup(groupId);
        groups.put(groupId, group);
        return group;
    }
}
