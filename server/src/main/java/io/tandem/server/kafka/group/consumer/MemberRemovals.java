package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * How members go: a ConsumerGroupHeartbeat that leaves (for good, or a static member's leave for now), fencing, and
 * the timers' expiry (session, revocation, a classic member's join and sync deadlines). A group left with classic
 * members only goes back to the classic coordinator, policy permitting (Kafka's online downgrade). Called under the
 * coordinator's lock.
 */
final class MemberRemovals {
    private final Map<String, ConsumerGroup> groups;
    private final GroupCoordinator classic;
    private final GroupMigration migration;
    private final GroupEpochs epochs;
    private final ConsumerGroupStore store;

    MemberRemovals(Map<String, ConsumerGroup> groups, GroupCoordinator classic, GroupMigration migration,
                   GroupEpochs epochs, ConsumerGroupStore store) {
        this.groups = groups;
        this.classic = classic;
        this.migration = migration;
        this.epochs = epochs;
        this.store = store;
    }

    /** A heartbeat with epoch -1 (leave) or -2 (a static member leaving for now). */
    HeartbeatResult leave(HeartbeatRequest r, long nowMs) {
        ConsumerGroup group = groups.get(r.groupId());
        if (group == null) {
            throw new ApiException(GROUP_ID_NOT_FOUND, classic.isClassicGroupInUse(r.groupId())
                    ? "Group " + r.groupId() + " is not a consumer group" : "Consumer group " + r.groupId()
                    + " not found.");
        }
        ConsumerGroupMember member;
        if (r.instanceId() == null) {
            member = group.requireMember(r.memberId());
        } else {
            member = group.staticMember(r.instanceId());
            if (member == null) {
                throw new ApiException(UNKNOWN_MEMBER_ID, "Instance id " + r.instanceId() + " is unknown.");
            }
            if (!member.memberId.equals(r.memberId())) {
                throw new ApiException(FENCED_INSTANCE_ID, "Static member " + r.memberId() + " with instance id "
                        + r.instanceId() + " was fenced by member " + member.memberId + ".");
            }
            if (r.memberEpoch() == ConsumerGroupCoordinator.LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                // It will be back within the session timeout: it keeps its partitions and its place meanwhile.
                member.memberEpoch = ConsumerGroupCoordinator.LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                member.pendingRevocation = Assignment.EMPTY;
                member.revocationDeadlineMs = Long.MAX_VALUE;
                store.currentAssignment(group.groupId, member);
                return new HeartbeatResult(member.memberId, ConsumerGroupCoordinator.LEAVE_GROUP_STATIC_MEMBER_EPOCH,
                        0, null);
            }
        }
        fence(group, List.of(member), nowMs);
        return new HeartbeatResult(r.memberId(), r.memberEpoch(), 0, null);
    }

    /** Fences every member of the group whose session, revocation, join or sync deadline passed. */
    void expire(ConsumerGroup group, long nowMs) {
        List<ConsumerGroupMember> expired = new ArrayList<>();
        for (ConsumerGroupMember m : group.members.values()) {
            // Session expiry; a member that kept partitions past its rebalance timeout is fenced, and so is
            // a classic member that did not rejoin, or sync, within its rebalance timeout.
            if (nowMs >= m.sessionDeadlineMs || nowMs >= m.revocationDeadlineMs || nowMs >= m.joinDeadlineMs
                    || nowMs >= m.syncDeadlineMs) {
                expired.add(m);
            }
        }
        if (!expired.isEmpty()) fence(group, expired, nowMs);
    }

    /**
     * Removes members that left or were fenced; if only classic members remain, the group goes back to the classic
     * protocol instead, policy permitting (Kafka's online downgrade).
     */
    void fence(ConsumerGroup group, Collection<ConsumerGroupMember> leaving, long nowMs) {
        if (migration.shouldDowngrade(group, leaving)) {
            downgrade(group, leaving, true, nowMs);
            return;
        }
        for (ConsumerGroupMember m : leaving) removeMember(group, m);
    }

    /** Hands the group, without {@code leaving}, to the classic coordinator (Kafka's convertToClassicGroup). */
    void downgrade(ConsumerGroup group, Collection<ConsumerGroupMember> leaving, boolean rebalance, long nowMs) {
        groups.remove(group.groupId);
        migration.downgrade(group, leaving, rebalance, nowMs);
    }

    /** Removes a member (left, session expired, or fenced) and bumps the group epoch so the rest rebalance. */
    private void removeMember(ConsumerGroup group, ConsumerGroupMember member) {
        group.members.remove(member.memberId);
        if (member.instanceId != null && member.memberId.equals(group.staticMembers.get(member.instanceId))) {
            group.staticMembers.remove(member.instanceId);
        }
        group.targetAssignment.remove(member.memberId);
        store.memberRemoved(group.groupId, member.memberId);
        epochs.memberGone(group, member);
    }
}
