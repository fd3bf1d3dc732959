package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * JoinGroup on classic groups (Kafka's GroupCoordinator.handleJoinGroup): new, known and static members, with the
 * consumer groups sharing the ids in view (a classic member joins a live consumer group; an empty one becomes
 * classic again). Called by {@link GroupCoordinator} under its lock.
 */
final class ClassicJoin {
    private final GroupConfig config;
    private final Map<String, ClassicGroup> groups;
    private final ClassicRebalance rebalance;
    private final ClassicGroupRecords records;
    ModernGroups modern = ModernGroups.ABSENT;

    ClassicJoin(GroupConfig config, Map<String, ClassicGroup> groups, ClassicRebalance rebalance,
                ClassicGroupRecords records) {
        this.config = config;
        this.groups = groups;
        this.rebalance = rebalance;
        this.records = records;
    }

    void joinGroup(JoinRequest request, long nowMs, Consumer<JoinResult> callback) {
        String memberId = request.memberId() == null ? "" : request.memberId();
        if (request.groupId() == null || request.groupId().isEmpty()) {
            callback.accept(JoinResult.error(memberId, INVALID_GROUP_ID));
            return;
        }
        if (request.sessionTimeoutMs() < config.minSessionTimeoutMs()
                || request.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            callback.accept(JoinResult.error(memberId, INVALID_SESSION_TIMEOUT));
            return;
        }
        if (modern.isConsumerGroup(request.groupId())) {
            if (!modern.isEmptyConsumerGroup(request.groupId())) {
                // Kafka serves classic members inside a consumer group (KIP-848 online migration).
                modern.classicJoin(request, nowMs, callback);
                return;
            }
            // An empty consumer group becomes a classic group again; its offsets stay.
            modern.deleteEmptyConsumerGroup(request.groupId());
        }
        boolean unknownMember = memberId.isEmpty();
        ClassicGroup group = groups.get(request.groupId());
        if (group == null) {
            if (!unknownMember) {
                callback.accept(JoinResult.error(memberId, UNKNOWN_MEMBER_ID));
                return;
            }
            group = new ClassicGroup(request.groupId());
            groups.put(group.groupId, group);
        }
        if (!rebalance.acceptsJoiningMember(group, memberId)) {
            callback.accept(JoinResult.error(memberId, GROUP_MAX_SIZE_REACHED));
            return;
        }
        if (unknownMember) {
            joinUnknownMember(group, request, nowMs, callback);
        } else {
            joinKnownMember(group, request, nowMs, callback);
        }
    }

    private void joinUnknownMember(ClassicGroup group, JoinRequest request, long nowMs, Consumer<JoinResult> callback) {
        if (group.is(GroupState.DEAD)) {
            callback.accept(JoinResult.error("", COORDINATOR_NOT_AVAILABLE));
            return;
        }
        if (!group.supportsProtocols(request.protocolType(), request.protocols())) {
            callback.accept(JoinResult.error("", INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        String clientId = request.clientId() == null ? "" : request.clientId();
        String newMemberId = clientId + "-" + UUID.randomUUID();
        if (request.groupInstanceId() != null) {
            joinStaticMember(group, request, newMemberId, nowMs, callback);
        } else if (request.requireKnownMemberId()) {
            // JoinGroup v4+: hand out the id first so the client can retry with it and a lost response cannot leave
            // an orphan member behind; the id expires like a session if the client never comes back.
            group.pendingMembers.put(newMemberId, nowMs + request.sessionTimeoutMs());
            callback.accept(JoinResult.error(newMemberId, MEMBER_ID_REQUIRED));
        } else {
            addMemberAndRebalance(group, request, newMemberId, nowMs, callback);
        }
    }

    private void joinKnownMember(ClassicGroup group, JoinRequest request, long nowMs, Consumer<JoinResult> callback) {
        String memberId = request.memberId();
        if (group.is(GroupState.DEAD)) {
            callback.accept(JoinResult.error(memberId, COORDINATOR_NOT_AVAILABLE));
            return;
        }
        if (!group.supportsProtocols(request.protocolType(), request.protocols())) {
            callback.accept(JoinResult.error(memberId, INCONSISTENT_GROUP_PROTOCOL));
            return;
        }
        if (group.pendingMembers.remove(memberId) != null) {
            addMemberAndRebalance(group, request, memberId, nowMs, callback);
            return;
        }
        if (group.isStaticMemberFenced(request.groupInstanceId(), memberId)) {
            callback.accept(JoinResult.error(memberId, FENCED_INSTANCE_ID));
            return;
        }
        GroupMember member = group.member(memberId);
        if (member == null) {
            callback.accept(JoinResult.error(memberId, UNKNOWN_MEMBER_ID));
            return;
        }
        switch (group.state) {
            case PREPARING_REBALANCE -> updateMemberAndRebalance(group, member, request, nowMs, callback);
            case COMPLETING_REBALANCE -> {
                if (member.matches(request.protocols())) {
                    // The member lost the JoinGroup answer of this generation: give it the same answer again.
                    callback.accept(currentGenerationResult(group, memberId, group.isLeader(memberId), false));
                } else {
                    updateMemberAndRebalance(group, member, request, nowMs, callback);
                }
            }
            case STABLE -> {
                if (group.isLeader(memberId) || !member.matches(request.protocols())) {
                    // A leader rejoining means it wants a new assignment (e.g. metadata changed): rebalance.
                    updateMemberAndRebalance(group, member, request, nowMs, callback);
                } else {
                    callback.accept(currentGenerationResult(group, memberId, false, false));
                }
            }
            case EMPTY, DEAD -> callback.accept(JoinResult.error(memberId, UNKNOWN_MEMBER_ID));
        }
    }

    private void joinStaticMember(ClassicGroup group, JoinRequest request, String newMemberId, long nowMs,
                                  Consumer<JoinResult> callback) {
        String oldMemberId = group.staticMembers.get(request.groupInstanceId());
        if (oldMemberId == null || !group.has(oldMemberId)) {
            addMemberAndRebalance(group, request, newMemberId, nowMs, callback);
            return;
        }
        // A known instance restarted: it takes over the old member's place under a new member id, and anything the
        // old incarnation still waits for is answered with FENCED_INSTANCE_ID.
        GroupMember member = group.members.remove(oldMemberId);
        member.completeJoin(JoinResult.error(oldMemberId, FENCED_INSTANCE_ID));
        member.completeSync(SyncResult.error(FENCED_INSTANCE_ID));
        member.memberId = newMemberId;
        group.members.put(newMemberId, member);
        group.staticMembers.put(request.groupInstanceId(), newMemberId);
        if (oldMemberId.equals(group.leaderId)) group.leaderId = newMemberId;
        if (group.pendingSyncMembers.remove(oldMemberId)) group.pendingSyncMembers.add(newMemberId);
        boolean protocolsChanged = !member.matches(request.protocols());
        List<GroupMessages.Protocol> oldProtocols = member.protocols;
        int oldSessionTimeoutMs = member.sessionTimeoutMs;
        int oldRebalanceTimeoutMs = member.rebalanceTimeoutMs;
        member.protocols = List.copyOf(request.protocols());
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        member.lastHeartbeatMs = nowMs;
        switch (group.state) {
            case STABLE -> {
                if (!protocolsChanged || group.selectProtocol().equals(group.protocolName)) {
                    // Nothing the group agreed on changes: no rebalance, the member keeps its assignment. The new
                    // member id is written first, as Kafka does, so the instance keeps it if the coordinator moves,
                    // and the instance is answered once the record is replicated; if it cannot be written, the old
                    // incarnation is put back (unless the group moved on meanwhile) and the instance is told why.
                    records.storeCurrent(group, nowMs, (error, doneMs) -> {
                        if (error != NONE) {
                            if (group.member(newMemberId) == member) {
                                group.members.remove(newMemberId);
                                member.memberId = oldMemberId;
                                member.protocols = oldProtocols;
                                member.sessionTimeoutMs = oldSessionTimeoutMs;
                                member.rebalanceTimeoutMs = oldRebalanceTimeoutMs;
                                group.members.put(oldMemberId, member);
                                group.staticMembers.put(request.groupInstanceId(), oldMemberId);
                                if (newMemberId.equals(group.leaderId)) group.leaderId = oldMemberId;
                                if (group.pendingSyncMembers.remove(newMemberId)) {
                                    group.pendingSyncMembers.add(oldMemberId);
                                }
                            }
                            callback.accept(new JoinResult(error, group.generationId, group.protocolType,
                                    group.protocolName, group.leaderId, "", false, List.of()));
                            return;
                        }
                        // A static leader is told to skip assigning (KIP-814) since a Stable group would not
                        // broadcast it.
                        boolean isLeader = group.isLeader(newMemberId);
                        callback.accept(currentGenerationResult(group, newMemberId, isLeader, isLeader));
                    });
                } else {
                    member.awaitingJoin = callback;
                    rebalance.prepare(group, nowMs);
                    rebalance.completeJoinIfReady(group, nowMs);
                }
            }
            case COMPLETING_REBALANCE -> {
                // The leader may already be assigning with the old member id: start over so nobody is left out.
                member.awaitingJoin = callback;
                rebalance.prepare(group, nowMs);
                rebalance.completeJoinIfReady(group, nowMs);
            }
            case PREPARING_REBALANCE -> {
                member.awaitingJoin = callback;
                rebalance.completeJoinIfReady(group, nowMs);
            }
            case EMPTY, DEAD -> throw new IllegalStateException("static member " + request.groupInstanceId()
                    + " known to group " + group.groupId + " in state " + group.state);
        }
    }

    private JoinResult currentGenerationResult(ClassicGroup group, String memberId, boolean includeMembers,
                                               boolean skipAssignment) {
        return new JoinResult(NONE, group.generationId, group.protocolType, group.protocolName, group.leaderId,
                memberId, skipAssignment, includeMembers ? ClassicRebalance.memberList(group) : List.of());
    }

    private void addMemberAndRebalance(ClassicGroup group, JoinRequest request, String memberId, long nowMs,
                                       Consumer<JoinResult> callback) {
        GroupMember member = new GroupMember(memberId, request.groupInstanceId(), request.clientId(),
                request.clientHost(), request.sessionTimeoutMs(), request.rebalanceTimeoutMs(), request.protocolType(),
                request.protocols());
        member.isNew = true;
        member.awaitingJoin = callback;
        member.lastHeartbeatMs = nowMs;
        if (group.is(GroupState.PREPARING_REBALANCE) && group.initialDelayActive) {
            group.newMemberAddedDuringDelay = true;
        }
        group.add(member);
        rebalance.maybePrepare(group, nowMs);
        rebalance.completeJoinIfReady(group, nowMs);
    }

    private void updateMemberAndRebalance(ClassicGroup group, GroupMember member, JoinRequest request, long nowMs,
                                          Consumer<JoinResult> callback) {
        // A client has one JoinGroup in flight per connection; a stale waiting one is answered rather than dropped.
        member.completeJoin(JoinResult.error(member.memberId, REBALANCE_IN_PROGRESS));
        member.protocols = List.copyOf(request.protocols());
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        member.awaitingJoin = callback;
        member.lastHeartbeatMs = nowMs;
        rebalance.maybePrepare(group, nowMs);
        rebalance.completeJoinIfReady(group, nowMs);
    }
}
