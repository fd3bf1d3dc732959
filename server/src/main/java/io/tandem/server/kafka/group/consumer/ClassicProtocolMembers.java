package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.ConsumerProtocolAssignment;
import io.tandem.server.kafka.group.ConsumerProtocolSubscription;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.MemberLeaveResult;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Classic-protocol members inside a consumer group (KIP-848 online migration), served through JoinGroup, SyncGroup,
 * Heartbeat and LeaveGroup with Kafka's rules (GroupMetadataManager's classicGroupJoinToConsumerGroup,
 * classicGroupSyncToConsumerGroup, classicGroupHeartbeatToConsumerGroup, classicGroupLeaveToConsumerGroup):
 * <ul>
 *   <li>JoinGroup updates the member's subscription from its embedded ConsumerProtocolSubscription and reconciles it
 *   towards its target like a ConsumerGroupHeartbeat would, using the partitions it says it owns; the answer names no
 *   leader (the server assigns), and the generation is the member's epoch.</li>
 *   <li>SyncGroup hands out the member's current assignment as a ConsumerProtocolAssignment.</li>
 *   <li>Heartbeat answers REBALANCE_IN_PROGRESS when the member must rejoin: the group epoch moved past it, it has
 *   partitions to revoke, or partitions it waits for were released. It must then rejoin within its rebalance
 *   timeout, and sync within it after joining, or it is fenced.</li>
 * </ul>
 * Called by {@link ConsumerGroupCoordinator} under the shared lock.
 */
final class ClassicProtocolMembers {
    private final GroupEpochs epochs;
    private final MemberRemovals removals;
    private final GroupMigration migration;
    private final ConsumerGroupConfig config;
    private final ConsumerGroupStore store;

    ClassicProtocolMembers(GroupEpochs epochs, MemberRemovals removals, GroupMigration migration,
                           ConsumerGroupConfig config, ConsumerGroupStore store) {
        this.epochs = epochs;
        this.removals = removals;
        this.migration = migration;
        this.config = config;
        this.store = store;
    }

    JoinResult join(ConsumerGroup group, JoinRequest r, long nowMs) {
        String requested = r.memberId() == null ? "" : r.memberId();
        boolean unknown = requested.isEmpty();
        String memberId = unknown ? ConsumerGroupMember.newMemberId() : requested;
        if (!group.members.containsKey(memberId) && group.members.size() >= config.maxSize()) {
            return JoinResult.error(requested, GROUP_MAX_SIZE_REACHED);
        }
        if (config.migrationPolicy() == MigrationPolicy.DISABLED
                || !supportsProtocols(group, memberId, r.protocolType(), r.protocols())) {
            // With online migration disabled Kafka 4.4 serves no classic member inside a live consumer group: the
            // Java classic consumer gets INCONSISTENT_GROUP_PROTOCOL (seen against Apache Kafka 4.4 in
            // compat-tests' GroupMigrationPoliciesTest).
            return JoinResult.error(requested, INCONSISTENT_GROUP_PROTOCOL);
        }
        if (unknown && r.requireKnownMemberId() && r.groupInstanceId() == null) {
            // As for a classic group: hand out the id first, the member joins with it (JoinGroup v4+).
            return JoinResult.error(memberId, MEMBER_ID_REQUIRED);
        }
        ConsumerProtocolSubscription subscription;
        try {
            subscription = ConsumerProtocolSubscription.parse(r.protocols().get(0).metadata());
        } catch (IllegalArgumentException e) {
            return JoinResult.error(requested, INCONSISTENT_GROUP_PROTOCOL);
        }
        ConsumerGroupMember member;
        ConsumerGroupMember replaced = null;
        ConsumerGroupMember existingStatic = r.groupInstanceId() == null ? null
                : group.staticMember(r.groupInstanceId());
        boolean downgrade = false;
        if (existingStatic != null && unknown) {
            // A static instance restarted: it takes over the old member's subscription, partitions and target, at
            // epoch 0 as in Kafka (whatever protocol the old member spoke: no UNRELEASED_INSTANCE_ID for a classic
            // newcomer). If the old member was the last one on the consumer protocol, the group turns classic.
            replaced = existingStatic;
            downgrade = migration.shouldDowngradeReplacing(group, replaced);
            member = new ConsumerGroupMember(memberId);
            member.copySubscriptionFrom(replaced);
            member.assigned = replaced.assigned;
            group.ownershipChanged();
            member.memberEpoch = 0;
            member.previousMemberEpoch = 0;
        } else if (existingStatic != null && !existingStatic.memberId.equals(memberId)) {
            return JoinResult.error(requested, FENCED_INSTANCE_ID);
        } else {
            member = group.members.get(memberId);
            if (member != null && !member.usesClassicProtocol()) return JoinResult.error(requested, UNKNOWN_MEMBER_ID);
        }
        boolean created = member == null;
        if (created) member = new ConsumerGroupMember(memberId);
        Assignment assignedBefore = created ? null : member.assigned;
        boolean subscriptionChanged = !member.sameSubscription(subscription.topics(), null);
        member.subscribedTopicNames = subscription.topics();
        member.subscribedTopicRegex = null;
        member.serverAssignor = null;
        if (r.groupInstanceId() != null) member.instanceId = r.groupInstanceId();
        if (subscription.rackId() != null) member.rackId = subscription.rackId();
        if (r.rebalanceTimeoutMs() > 0) member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        member.clientId = r.clientId() == null ? "" : r.clientId();
        member.clientHost = r.clientHost() == null ? "" : r.clientHost();
        member.classic = new ConsumerGroupMember.ClassicMetadata(r.sessionTimeoutMs(), r.protocols());
        if (replaced != null) {
            group.members.remove(replaced.memberId);
            Assignment target = group.targetAssignment.remove(replaced.memberId);
            store.memberRemoved(group.groupId, replaced.memberId);
            if (target != null) {
                group.targetAssignment.put(memberId, target);
                store.targetAssignment(group.groupId, memberId, target);
            }
        }
        store.memberMetadata(group.groupId, member);
        group.members.put(memberId, member);
        if (member.instanceId != null) group.staticMembers.put(member.instanceId, memberId);
        epochs.updateEpochAndTarget(group, created || subscriptionChanged);

        MemberState stateBefore = member.state;
        int epochBefore = member.memberEpoch;
        CurrentAssignmentBuilder.reconcile(member, group.assignmentEpoch, group.targetAssignment(memberId),
                group::isOwnedByOther, migration.owned(subscription.ownedPartitions()));
        epochs.afterReconcile(group, member, stateBefore, epochBefore, assignedBefore, nowMs);
        member.sessionDeadlineMs = nowMs + member.classic.sessionTimeoutMs();
        member.joinDeadlineMs = Long.MAX_VALUE;
        member.syncDeadlineMs = nowMs + member.rebalanceTimeoutMs;
        if (downgrade) {
            // Kafka's step 4 of classicGroupJoinToConsumerGroup: the answer below is still the consumer group's,
            // and the member syncs with the classic group, which rebalances only for a new subscription.
            removals.downgrade(group, List.of(), subscriptionChanged, nowMs);
        }
        // No leader: the coordinator assigns, so every classic member syncs as a follower.
        return new JoinResult(NONE, member.memberEpoch, GroupMigration.CONSUMER_PROTOCOL_TYPE,
                member.classic.protocolName(), "", memberId, false, List.of());
    }

    /**
     * Kafka's ConsumerGroup.supportsClassicProtocols: the consumer protocol type, and a protocol every other
     * classic member supports too.
     */
    private static boolean supportsProtocols(ConsumerGroup group, String memberId, String protocolType,
                                             List<Protocol> protocols) {
        if (!GroupMigration.CONSUMER_PROTOCOL_TYPE.equals(protocolType) || protocols == null || protocols.isEmpty()) {
            return false;
        }
        Set<String> common = new HashSet<>();
        for (Protocol p : protocols) common.add(p.name());
        for (ConsumerGroupMember m : group.members.values()) {
            if (!m.usesClassicProtocol() || m.memberId.equals(memberId)) continue;
            Set<String> names = new HashSet<>();
            for (Protocol p : m.classic.protocols()) names.add(p.name());
            common.retainAll(names);
        }
        return !common.isEmpty();
    }

    SyncResult sync(ConsumerGroup group, SyncRequest r, long nowMs) {
        ConsumerGroupMember member = group.members.get(r.memberId());
        short error = validate(member, r.groupInstanceId());
        if (error != NONE) return SyncResult.error(error);
        if (r.generationId() != member.memberEpoch) return SyncResult.error(ILLEGAL_GENERATION);
        if ((r.protocolType() != null && !GroupMigration.CONSUMER_PROTOCOL_TYPE.equals(r.protocolType()))
                || (r.protocolName() != null && !r.protocolName().equals(member.classic.protocolName()))) {
            return SyncResult.error(INCONSISTENT_GROUP_PROTOCOL);
        }
        member.sessionDeadlineMs = nowMs + member.classic.sessionTimeoutMs();
        member.syncDeadlineMs = Long.MAX_VALUE;
        if (group.groupEpoch > member.memberEpoch && member.state != MemberState.UNREVOKED_PARTITIONS) {
            // A newer epoch exists: the member rejoins to catch up (unless it must first finish revoking).
            requireRejoin(member, nowMs);
            return SyncResult.error(REBALANCE_IN_PROGRESS);
        }
        return new SyncResult(NONE, GroupMigration.CONSUMER_PROTOCOL_TYPE, member.classic.protocolName(),
                ConsumerProtocolAssignment.serialize(migration.byName(member.assigned)));
    }

    short heartbeat(ConsumerGroup group, String memberId, String instanceId, int generationId, long nowMs) {
        ConsumerGroupMember member = group.members.get(memberId);
        short error = validate(member, instanceId);
        if (error != NONE) return error;
        if (generationId != member.memberEpoch) return ILLEGAL_GENERATION;
        member.sessionDeadlineMs = nowMs + member.classic.sessionTimeoutMs();
        if (member.memberEpoch < group.groupEpoch || member.state == MemberState.UNREVOKED_PARTITIONS
                || (member.state == MemberState.UNRELEASED_PARTITIONS && !waitsOnUnreleased(group, member))) {
            requireRejoin(member, nowMs);
            return REBALANCE_IN_PROGRESS;
        }
        return NONE;
    }

    List<MemberLeaveResult> leave(ConsumerGroup group, List<LeavingMember> leaving, long nowMs) {
        List<MemberLeaveResult> results = new ArrayList<>();
        List<ConsumerGroupMember> valid = new ArrayList<>();
        for (LeavingMember l : leaving) {
            String memberId = l.memberId() == null ? "" : l.memberId();
            ConsumerGroupMember member;
            short error = NONE;
            if (memberId.isEmpty() && l.groupInstanceId() != null) {
                // The admin client removes static members by instance id alone.
                member = group.staticMember(l.groupInstanceId());
                if (member == null) error = UNKNOWN_MEMBER_ID;
            } else {
                member = group.members.get(memberId);
                if (member == null) {
                    error = UNKNOWN_MEMBER_ID;
                } else if (l.groupInstanceId() != null && !l.groupInstanceId().equals(member.instanceId)) {
                    error = FENCED_INSTANCE_ID;
                }
            }
            if (error == NONE && !valid.contains(member)) valid.add(member);
            results.add(new MemberLeaveResult(memberId, l.groupInstanceId(), error));
        }
        if (!valid.isEmpty()) removals.fence(group, valid, nowMs);
        return results;
    }

    /** Kafka's validateConsumerGroupMember plus throwIfMemberDoesNotUseClassicProtocol. */
    private static short validate(ConsumerGroupMember member, String instanceId) {
        if (member == null) return UNKNOWN_MEMBER_ID;
        if (instanceId != null && !instanceId.equals(member.instanceId)) return FENCED_INSTANCE_ID;
        if (!member.usesClassicProtocol()) return UNKNOWN_MEMBER_ID;
        return NONE;
    }

    private static void requireRejoin(ConsumerGroupMember member, long nowMs) {
        if (member.joinDeadlineMs == Long.MAX_VALUE) member.joinDeadlineMs = nowMs + member.rebalanceTimeoutMs;
    }

    /** Whether a partition of the member's target that it does not have yet is still held by another member. */
    private static boolean waitsOnUnreleased(ConsumerGroup group, ConsumerGroupMember member) {
        Assignment target = group.targetAssignment(member.memberId);
        for (UUID topic : target.partitions().keySet()) {
            for (int p : target.get(topic)) {
                if (!member.assigned.contains(topic, p) && group.isOwnedByOther(member.memberId, topic, p)) return true;
            }
        }
        return false;
    }
}
