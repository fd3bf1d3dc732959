package io.tandem.server.kafka.group;

import java.util.Collection;
import java.util.Map;

/**
 * What the classic groups' deadlines are, for {@link GroupDeadlines}: a member's is its session expiry
 * ({@link GroupMember#expiryMs}), a group's the earliest of its pending member ids, the end of its join phase and its
 * sync timeout. Each term mirrors a test in {@link ClassicMembers#expire}, so firing at these times does what a tick
 * every few milliseconds would. Part of the {@link GroupCoordinator}: called under its lock.
 */
final class ClassicDeadlines implements GroupDeadlines.Shape<ClassicGroup, GroupMember> {
    private final Map<String, ClassicGroup> groups;

    ClassicDeadlines(Map<String, ClassicGroup> groups) {
        this.groups = groups;
    }

    @Override
    public ClassicGroup live(String groupId) {
        ClassicGroup group = groups.get(groupId);
        return group == null || group.is(GroupState.DEAD) ? null : group;
    }

    @Override
    public String groupId(ClassicGroup group) {
        return group.groupId;
    }

    @Override
    public Collection<GroupMember> members(ClassicGroup group) {
        return group.members.values();
    }

    @Override
    public boolean isMember(ClassicGroup group, GroupMember member) {
        return group.member(member.memberId) == member;
    }

    @Override
    public long memberDeadlineMs(GroupMember member) {
        return member.expiryMs();
    }

    /** Long.MIN_VALUE when the join can complete now (everyone rejoined, e.g. after the last laggard expired). */
    @Override
    public long groupDeadlineMs(ClassicGroup group) {
        long next = Long.MAX_VALUE;
        for (long deadline : group.pendingMembers.values()) next = Math.min(next, deadline);
        if ((group.is(GroupState.COMPLETING_REBALANCE) || group.is(GroupState.STABLE))
                && !group.pendingSyncMembers.isEmpty()) {
            next = Math.min(next, group.syncDeadlineMs);
        }
        if (group.is(GroupState.PREPARING_REBALANCE)) {
            next = Math.min(next, !group.initialDelayActive && group.allMembersJoined()
                    ? Long.MIN_VALUE : group.joinDeadlineMs);
        }
        return next;
    }
}
