package io.tandem.server.kafka.group;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The classic groups' deadlines, one entry each in a {@link DeadlineQueue}: every member's session expiry
 * ({@link GroupMember#expiryMs}) and every group's own deadline (the earliest of its pending member ids, its join
 * phase's end and its sync timeout). The coordinator's timer asks for the earliest ({@link #nextDeadlineMs}) and the
 * groups that have one due ({@link #due}) instead of scanning every group and member under the lock, which every
 * heartbeat and join paid before: with thousands of members (Kafka Streams applications, large consumer fleets) a
 * heartbeat now moves one entry, O(log n), as Kafka's coordinator re-arms one timer-wheel task per heartbeat.
 *
 * <p>The entries follow the groups' data by refreshing: after any call that may change a group's deadlines the
 * coordinator refreshes that group ({@link #refresh}: O(its members), checked one by one, moved only if changed), and
 * a heartbeat refreshes only its member ({@link #heard}). A deadline pushed back without a refresh is harmless, the
 * group is merely looked at early ({@link ClassicMembers#expire} finds nothing due and the refresh after it re-arms the
 * entry); a deadline brought forward always comes with a refresh of its group. Entries of members and groups that go
 * are removed at their group's refresh ({@link #forgetGone} for groups removed in bulk), so the queues hold at most
 * one entry per live member and group. Part of the {@link GroupCoordinator}: every method runs under its lock.
 */
final class ClassicDeadlines {
    private final Map<String, ClassicGroup> groups;
    private final DeadlineQueue<GroupMember> sessions = new DeadlineQueue<>();
    private final DeadlineQueue<ClassicGroup> groupDeadlines = new DeadlineQueue<>();
    /** The group object whose entries are held under each id; one with no entry is not held. */
    private final Map<String, ClassicGroup> tracked = new HashMap<>();
    /** The members holding a session entry, per group; they leave it when they leave the group. */
    private final Map<ClassicGroup, Set<GroupMember>> membersOf = new IdentityHashMap<>();
    /** Each member's group, to find the group to look at when the member's session entry is due. */
    private final Map<GroupMember, ClassicGroup> groupOf = new IdentityHashMap<>();

    ClassicDeadlines(Map<String, ClassicGroup> groups) {
        this.groups = groups;
    }

    /**
     * The group of this id changed (or went): its own deadline and its members' entries are brought up to date, and
     * the entries of members no longer in it, or of a group object no longer under the id, are removed.
     */
    void refresh(String groupId) {
        ClassicGroup held = tracked.get(groupId);
        ClassicGroup group = groups.get(groupId);
        if (held != null && held != group) forget(held);
        if (group == null) return;
        if (group.is(GroupState.DEAD)) {
            forget(group);
            return;
        }
        groupDeadlines.schedule(group, groupDeadlineMs(group));
        Set<GroupMember> scheduled = membersOf.get(group);
        if (scheduled != null) {
            List<GroupMember> gone = null;
            for (GroupMember m : scheduled) {
                if (group.member(m.memberId) != m) {
                    if (gone == null) gone = new ArrayList<>();
                    gone.add(m);
                }
            }
            if (gone != null) {
                for (GroupMember m : gone) untrack(group, m);
            }
        }
        for (GroupMember m : group.members.values()) schedule(group, m);
        if (groupDeadlines.deadlineOf(group) != Long.MAX_VALUE || !membersOf.getOrDefault(group, Set.of()).isEmpty()) {
            tracked.put(groupId, group);
        } else {
            tracked.remove(groupId);
            membersOf.remove(group);
        }
    }

    /** A member of a live group was heard from (a heartbeat, an offset commit): only its session entry moves. */
    void heard(ClassicGroup group, GroupMember member) {
        if (group.member(member.memberId) != member || group.is(GroupState.DEAD)) return;
        schedule(group, member);
        tracked.put(group.groupId, group);
    }

    /** Drops the entries of groups removed from the coordinator (offset expiry, an offsets partition unloaded). */
    void forgetGone() {
        for (String groupId : List.copyOf(tracked.keySet())) {
            if (groups.get(groupId) != tracked.get(groupId)) refresh(groupId);
        }
    }

    /** The earliest deadline of any classic group or member; Long.MAX_VALUE when none is pending. */
    long nextDeadlineMs() {
        return Math.min(sessions.earliestMs(), groupDeadlines.earliestMs());
    }

    /**
     * Removes the entries due at {@code nowMs} and returns their groups, each once, earliest first; the caller fires
     * them and refreshes each (which re-arms whatever is still pending).
     */
    Set<ClassicGroup> due(long nowMs) {
        Set<ClassicGroup> due = new LinkedHashSet<>();
        due.addAll(groupDeadlines.pollDue(nowMs));
        for (GroupMember m : sessions.pollDue(nowMs)) {
            ClassicGroup group = groupOf.remove(m);
            if (group == null) continue;
            Set<GroupMember> scheduled = membersOf.get(group);
            if (scheduled != null) scheduled.remove(m);
            due.add(group);
        }
        return due;
    }

    /** How many entries are held (for tests: bounded by the live members and groups). */
    int size() {
        return sessions.size() + groupDeadlines.size();
    }

    /**
     * The group's own deadline: each term mirrors a test in {@link ClassicMembers#expire}, so firing at this time does
     * what a tick every few milliseconds would. Long.MIN_VALUE when the join can complete now (everyone rejoined, e.g.
     * after the last laggard was expired).
     */
    private static long groupDeadlineMs(ClassicGroup group) {
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

    private void schedule(ClassicGroup group, GroupMember member) {
        long expiryMs = member.expiryMs();
        if (expiryMs == Long.MAX_VALUE) {
            untrack(group, member);
            return;
        }
        sessions.schedule(member, expiryMs);
        if (groupOf.put(member, group) == null) {
            membersOf.computeIfAbsent(group, g -> Collections.newSetFromMap(new IdentityHashMap<>())).add(member);
        }
    }

    private void untrack(ClassicGroup group, GroupMember member) {
        sessions.cancel(member);
        groupOf.remove(member);
        Set<GroupMember> scheduled = membersOf.get(group);
        if (scheduled != null) scheduled.remove(member);
    }

    private void forget(ClassicGroup group) {
        groupDeadlines.cancel(group);
        Set<GroupMember> scheduled = membersOf.remove(group);
        if (scheduled != null) {
            for (GroupMember m : scheduled) {
                sessions.cancel(m);
                groupOf.remove(m);
            }
        }
        tracked.remove(group.groupId, group);
    }
}
