package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.JoinedMember;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The rebalance steps of a classic group, as Kafka's GroupCoordinator takes them: who may join in each state
 * ({@code group.max.size}), the move to PreparingRebalance (with {@code group.initial.rebalance.delay.ms} for an empty
 * group), and the end of the join phase: members that did not rejoin are dropped, the generation moves on, the leader
 * gets the member list and everyone gets its JoinGroup answer. Called by {@link GroupCoordinator} under its lock.
 */
final class ClassicRebalance {
    private final GroupConfig config;
    private final ClassicGroupRecords records;

    ClassicRebalance(GroupConfig config, ClassicGroupRecords records) {
        this.config = config;
        this.records = records;
    }

    boolean acceptsJoiningMember(ClassicGroup group, String memberId) {
        int max = config.maxGroupSize();
        return switch (group.state) {
            case EMPTY, DEAD -> true;
            case PREPARING_REBALANCE -> (group.has(memberId) && group.member(memberId).isAwaitingJoin())
                    || awaitingJoinCount(group) < max;
            case COMPLETING_REBALANCE, STABLE -> group.has(memberId) || group.members.size() < max;
        };
    }

    private static int awaitingJoinCount(ClassicGroup group) {
        int n = 0;
        for (GroupMember m : group.members.values()) if (m.isAwaitingJoin()) n++;
        return n;
    }

    static List<JoinedMember> memberList(ClassicGroup group) {
        List<JoinedMember> list = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            list.add(new JoinedMember(m.memberId, m.groupInstanceId, m.metadata(group.protocolName)));
        }
        return list;
    }

    void maybePrepare(ClassicGroup group, long nowMs) {
        if (group.is(GroupState.STABLE) || group.is(GroupState.COMPLETING_REBALANCE) || group.is(GroupState.EMPTY)) {
            prepare(group, nowMs);
        }
    }

    void prepare(ClassicGroup group, long nowMs) {
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            // The leader's assignment for this generation can no longer be used: everyone waiting rejoins.
            for (GroupMember m : group.members.values()) {
                m.assignment = new byte[0];
                m.completeSync(SyncResult.error(REBALANCE_IN_PROGRESS));
            }
        }
        group.pendingSyncMembers.clear();
        group.syncDeadlineMs = Long.MAX_VALUE;
        int rebalanceTimeoutMs = group.rebalanceTimeoutMs();
        if (group.is(GroupState.EMPTY)) {
            // The first rebalance of an empty group waits a little so a fleet of consumers starting together
            // lands in one generation instead of one rebalance per member. The first wait is the whole configured
            // delay, as Kafka's (3.9's InitialDelayedJoin, 4.x's prepareRebalance), even past a shorter rebalance
            // timeout; with 0 the join completes at once (Kafka's 0 ms timer task).
            int delay = config.initialRebalanceDelayMs();
            group.initialDelayActive = true;
            group.newMemberAddedDuringDelay = false;
            group.initialDelayRemainingMs = Math.max(rebalanceTimeoutMs - config.initialRebalanceDelayMs(), 0);
            group.joinDeadlineMs = nowMs + delay;
        } else {
            group.initialDelayActive = false;
            group.joinDeadlineMs = nowMs + rebalanceTimeoutMs;
        }
        group.transitionTo(GroupState.PREPARING_REBALANCE, nowMs);
    }

    void completeJoinIfReady(ClassicGroup group, long nowMs) {
        if (!group.is(GroupState.PREPARING_REBALANCE)) return;
        if (group.initialDelayActive) {
            if (nowMs < group.joinDeadlineMs) return;
            if (group.newMemberAddedDuringDelay && group.initialDelayRemainingMs > 0) {
                long delay = Math.min(config.initialRebalanceDelayMs(), group.initialDelayRemainingMs);
                group.initialDelayRemainingMs -= delay;
                group.newMemberAddedDuringDelay = false;
                group.joinDeadlineMs = nowMs + delay;
                return;
            }
            completeJoin(group, nowMs);
        } else if (group.allMembersJoined() || nowMs >= group.joinDeadlineMs) {
            completeJoin(group, nowMs);
        }
    }

    void completeJoin(ClassicGroup group, long nowMs) {
        group.initialDelayActive = false;
        for (String memberId : group.memberIds()) {
            GroupMember m = group.member(memberId);
            if (!m.isAwaitingJoin()) {
                // It did not rejoin within the rebalance timeout: it is out of the group.
                group.remove(memberId);
            }
        }
        group.generationId++;
        if (group.members.isEmpty()) {
            group.protocolName = null;
            group.leaderId = null;
            group.transitionTo(GroupState.EMPTY, nowMs);
            records.storeEmpty(group, nowMs);
            return;
        }
        if (group.leaderId == null || !group.has(group.leaderId)) {
            group.leaderId = group.members.keySet().iterator().next();
        }
        group.protocolName = group.selectProtocol();
        group.transitionTo(GroupState.COMPLETING_REBALANCE, nowMs);
        group.pendingSyncMembers.clear();
        group.pendingSyncMembers.addAll(group.members.keySet());
        group.syncDeadlineMs = nowMs + group.rebalanceTimeoutMs();
        List<JoinedMember> members = memberList(group);
        for (GroupMember m : List.copyOf(group.members.values())) {
            boolean isLeader = group.isLeader(m.memberId);
            m.isNew = false;
            m.lastHeartbeatMs = nowMs;
            m.completeJoin(new JoinResult(NONE, group.generationId, group.protocolType, group.protocolName,
                    group.leaderId, m.memberId, false, isLeader ? members : List.of()));
        }
    }

    /**
     * The leader's assignment ends the rebalance, as Kafka's doSyncGroup: members it left out get an empty one and the
     * group's record is written with it (acks=all). The group stays in CompletingRebalance, members that sync meanwhile
     * wait, until the record is in every in-sync replica; only then is the group Stable and everyone answered. If the
     * record cannot be written, every waiting member gets the error and the group rebalances again.
     */
    private void completeAssignment(ClassicGroup group, SyncRequest request, long nowMs) {
        Map<String, byte[]> given = request.assignments() == null ? Map.of() : request.assignments();
        Map<String, byte[]> assignments = new LinkedHashMap<>();
        for (GroupMember m : group.members.values()) {
            byte[] assignment = given.get(m.memberId);
            assignments.put(m.memberId, assignment == null ? new byte[0] : assignment);
        }
        int generation = group.generationId;
        records.store(group, assignments, nowMs, (error, doneMs) -> {
            // As Kafka: members may have joined or left while the record was written (the group rebalances and this
            // assignment is void), or the partition was unloaded (the group is Dead): then there is nothing to do.
            if (!group.is(GroupState.COMPLETING_REBALANCE) || group.generationId != generation) return;
            if (error != NONE) {
                for (GroupMember m : List.copyOf(group.members.values())) {
                    m.assignment = new byte[0];
                    m.completeSync(SyncResult.error(error));
                }
                maybePrepare(group, doneMs);
                return;
            }
            for (GroupMember m : group.members.values()) {
                m.assignment = assignments.getOrDefault(m.memberId, new byte[0]);
            }
            group.transitionTo(GroupState.STABLE, doneMs);
            for (GroupMember m : List.copyOf(group.members.values())) {
                m.completeSync(new SyncResult(NONE, group.protocolType, group.protocolName, m.assignment));
            }
        });
    }

    /**
     * A valid member's SyncGroup in the group's state: while completing the rebalance it waits for the leader's
     * assignment to be written, which makes the group Stable and answers everyone; once Stable it is answered at once.
     */
    void sync(ClassicGroup group, GroupMember member, SyncRequest request, long nowMs, Consumer<SyncResult> callback) {
        switch (group.state) {
            case EMPTY -> callback.accept(SyncResult.error(UNKNOWN_MEMBER_ID));
            case PREPARING_REBALANCE -> callback.accept(SyncResult.error(REBALANCE_IN_PROGRESS));
            case COMPLETING_REBALANCE -> {
                member.awaitingSync = callback;
                member.lastHeartbeatMs = nowMs;
                group.pendingSyncMembers.remove(member.memberId);
                if (group.isLeader(member.memberId)) completeAssignment(group, request, nowMs);
            }
            case STABLE -> {
                member.lastHeartbeatMs = nowMs;
                group.pendingSyncMembers.remove(member.memberId);
                callback.accept(new SyncResult(NONE, group.protocolType, group.protocolName, member.assignment));
            }
            case DEAD -> callback.accept(SyncResult.error(COORDINATOR_NOT_AVAILABLE));
        }
    }
}
