package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeaveResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.MemberLeaveResult;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The life of a classic group's members once they joined, as Kafka's GroupCoordinator: SyncGroup, Heartbeat and
 * LeaveGroup, a member's removal (which starts a rebalance), and what happens when a group's deadline passes (session
 * expiry, a pending member id not used in time, the rebalance and sync timeouts). Each change to a member's liveness is
 * told to {@link GroupDeadlines}, so a heartbeat moves one deadline. Part of the {@link GroupCoordinator}: called
 * under its lock, once it has checked that the group is served here and is not a consumer group.
 */
final class ClassicMembers {
    private final Map<String, ClassicGroup> groups;
    private final ClassicRebalance rebalance;
    private final GroupDeadlines<ClassicGroup, GroupMember> deadlines;

    ClassicMembers(Map<String, ClassicGroup> groups, ClassicRebalance rebalance,
                   GroupDeadlines<ClassicGroup, GroupMember> deadlines) {
        this.groups = groups;
        this.rebalance = rebalance;
        this.deadlines = deadlines;
    }

    /** SyncGroup of a classic group's member. */
    void sync(SyncRequest request, long nowMs, Consumer<SyncResult> callback) {
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            callback.accept(SyncResult.error(UNKNOWN_MEMBER_ID));
            return;
        }
        if (group.is(GroupState.DEAD)) {
            callback.accept(SyncResult.error(COORDINATOR_NOT_AVAILABLE));
            return;
        }
        short memberError = validateMember(group, request.memberId(), request.groupInstanceId());
        if (memberError != NONE) {
            callback.accept(SyncResult.error(memberError));
            return;
        }
        if (request.generationId() != group.generationId) {
            callback.accept(SyncResult.error(ILLEGAL_GENERATION));
            return;
        }
        if ((request.protocolType() != null && !request.protocolType().equals(group.protocolType))
                || (request.protocolName() != null && !request.protocolName().equals(group.protocolName))) {
            callback.accept(SyncResult.error(INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        rebalance.sync(group, group.member(request.memberId()), request, nowMs, callback);
    }

    static short validateMember(ClassicGroup group, String memberId, String groupInstanceId) {
        if (group.isStaticMemberFenced(groupInstanceId, memberId)) return FENCED_INSTANCE_ID;
        if (!group.has(memberId)) return UNKNOWN_MEMBER_ID;
        return NONE;
    }

    /** Heartbeat: the member's session starts again (one deadline moved); REBALANCE_IN_PROGRESS asks it to rejoin. */
    short heartbeat(String groupId, String memberId, String groupInstanceId, int generationId, long nowMs) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) return UNKNOWN_MEMBER_ID;
        if (group.is(GroupState.DEAD)) return COORDINATOR_NOT_AVAILABLE;
        short memberError = validateMember(group, memberId, groupInstanceId);
        if (memberError != NONE) return memberError;
        if (generationId != group.generationId) return ILLEGAL_GENERATION;
        GroupMember member = group.member(memberId);
        switch (group.state) {
            case COMPLETING_REBALANCE, STABLE -> {
                member.lastHeartbeatMs = nowMs;
                deadlines.heard(group, member);
                return NONE;
            }
            case PREPARING_REBALANCE -> {
                member.lastHeartbeatMs = nowMs;
                deadlines.heard(group, member);
                return REBALANCE_IN_PROGRESS;
            }
            default -> {
                return UNKNOWN_MEMBER_ID;
            }
        }
    }

    /** LeaveGroup naming members (or, from the admin client, static instances) of a classic group. */
    LeaveResult leave(String groupId, List<LeavingMember> leaving, long nowMs) {
        ClassicGroup group = groups.get(groupId);
        List<MemberLeaveResult> results = new ArrayList<>();
        if (group == null) {
            for (LeavingMember m : leaving) {
                results.add(new MemberLeaveResult(m.memberId(), m.groupInstanceId(), UNKNOWN_MEMBER_ID));
            }
            return new LeaveResult(NONE, results);
        }
        if (group.is(GroupState.DEAD)) return new LeaveResult(COORDINATOR_NOT_AVAILABLE, List.of());
        for (LeavingMember m : leaving) {
            String memberId = m.memberId() == null ? "" : m.memberId();
            short error;
            if (!memberId.isEmpty() && group.pendingMembers.remove(memberId) != null) {
                rebalance.completeJoinIfReady(group, nowMs);
                error = NONE;
            } else if (memberId.isEmpty() && m.groupInstanceId() != null) {
                // The admin client removes static members by instance id alone.
                String current = group.staticMembers.get(m.groupInstanceId());
                if (current == null) {
                    error = UNKNOWN_MEMBER_ID;
                } else {
                    removeMember(group, current, nowMs);
                    error = NONE;
                }
            } else if (group.isStaticMemberFenced(m.groupInstanceId(), memberId)) {
                error = FENCED_INSTANCE_ID;
            } else if (!group.has(memberId)) {
                error = UNKNOWN_MEMBER_ID;
            } else {
                removeMember(group, memberId, nowMs);
                error = NONE;
            }
            results.add(new MemberLeaveResult(memberId, m.groupInstanceId(), error));
        }
        return new LeaveResult(NONE, results);
    }

    /** Removes a member (left or expired): its waiting answers get UNKNOWN_MEMBER_ID and the group rebalances. */
    void removeMember(ClassicGroup group, String memberId, long nowMs) {
        GroupMember member = group.member(memberId);
        member.completeJoin(JoinResult.error(memberId, UNKNOWN_MEMBER_ID));
        member.completeSync(SyncResult.error(UNKNOWN_MEMBER_ID));
        group.remove(memberId);
        group.pendingSyncMembers.remove(memberId);
        switch (group.state) {
            case STABLE, COMPLETING_REBALANCE -> {
                rebalance.prepare(group, nowMs);
                rebalance.completeJoinIfReady(group, nowMs);
            }
            case PREPARING_REBALANCE -> rebalance.completeJoinIfReady(group, nowMs);
            default -> { }
        }
    }

    /**
     * Fires the group's deadlines that passed by {@code nowMs} (Kafka's heartbeat, join and sync expirations): pending
     * member ids not used in time are forgotten, members whose session expired are removed, members that did not sync
     * within the rebalance timeout are removed and the rest rebalance, and a join phase whose time is up (or that
     * everyone joined) completes. Nothing happens to a group none of whose deadlines passed.
     */
    void expire(ClassicGroup group, long nowMs) {
        if (group.is(GroupState.DEAD)) return;
        group.pendingMembers.values().removeIf(deadline -> nowMs >= deadline);
        for (String memberId : group.memberIds()) {
            GroupMember m = group.member(memberId);
            if (m != null && m.hasExpired(nowMs)) removeMember(group, memberId, nowMs);
        }
        if ((group.is(GroupState.COMPLETING_REBALANCE) || group.is(GroupState.STABLE))
                && nowMs >= group.syncDeadlineMs) {
            group.syncDeadlineMs = Long.MAX_VALUE;
            if (!group.pendingSyncMembers.isEmpty()) {
                // Members that never sent SyncGroup within the rebalance timeout are gone; the rest rebalance.
                for (String memberId : List.copyOf(group.pendingSyncMembers)) {
                    if (group.has(memberId)) {
                        GroupMember m = group.member(memberId);
                        m.completeSync(SyncResult.error(UNKNOWN_MEMBER_ID));
                        group.remove(memberId);
                    }
                }
                group.pendingSyncMembers.clear();
                rebalance.prepare(group, nowMs);
                rebalance.completeJoinIfReady(group, nowMs);
            }
        }
        rebalance.completeJoinIfReady(group, nowMs);
    }
}
