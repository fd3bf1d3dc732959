package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.HandedOverGroup;
import io.tandem.server.kafka.group.GroupMessages.HandedOverMember;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.REBALANCE_IN_PROGRESS;

/**
 * The classic side of KIP-848's online migration (Kafka's convertToConsumerGroup / convertToClassicGroup): a live
 * classic group's membership is handed to the consumer group coordinator when its first consumer-protocol member
 * joins, and taken back when the last one leaves a group of classic members. The {@link ClassicGroup} object itself
 * stays, since it holds the group's committed offsets whatever the protocol. Called under the coordinator's lock.
 */
final class ClassicHandover {
    private final ClassicRebalance rebalance;
    private final ClassicGroupRecords records;

    ClassicHandover(ClassicRebalance rebalance, ClassicGroupRecords records) {
        this.rebalance = rebalance;
        this.records = records;
    }

    static HandedOverGroup describe(ClassicGroup group) {
        List<HandedOverMember> members = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            members.add(new HandedOverMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    m.sessionTimeoutMs, m.rebalanceTimeoutMs, m.protocols, m.assignment));
        }
        return new HandedOverGroup(group.groupId, group.generationId, group.protocolType, group.protocolName,
                members);
    }

    /**
     * Empties the group's membership (a live group's upgrade, or an Empty group taken over by a consumer group, as
     * Kafka's convertToConsumerGroup and maybeDeleteEmptyClassicGroup). Members waiting for a JoinGroup or SyncGroup
     * answer are told a rebalance is in progress, as Kafka does, so they rejoin and find the consumer group.
     */
    void release(ClassicGroup group, long nowMs) {
        for (GroupMember m : group.members.values()) {
            m.completeJoin(JoinResult.error(m.memberId, REBALANCE_IN_PROGRESS));
            m.completeSync(SyncResult.error(REBALANCE_IN_PROGRESS));
        }
        group.members.clear();
        group.staticMembers.clear();
        group.pendingMembers.clear();
        group.pendingSyncMembers.clear();
        group.leaderId = null;
        group.protocolName = null;
        group.protocolType = null;
        // Kafka replaces the classic group: one that later takes the id back starts at generation 0, as here after a
        // reload of the tombstone below.
        group.generationId = 0;
        group.syncDeadlineMs = Long.MAX_VALUE;
        group.initialDelayActive = false;
        group.transitionTo(GroupState.EMPTY, nowMs);
        // As Kafka 4.x converting a classic group: its record goes (the consumer group's records follow), the
        // offsets stay, so a reload does not bring the classic members back.
        records.deleteRecord(group);
    }

    /**
     * Installs the members of a downgraded consumer group as a Stable classic group at the consumer group's epoch,
     * each with its current assignment, then, if {@code rebalance}, starts a rebalance (a leaving member's partitions
     * need an owner): the members learn it from their next heartbeat (REBALANCE_IN_PROGRESS) and rejoin. A static
     * member replaced by a classic one with the same subscription needs none: the group stays Stable.
     */
    void install(ClassicGroup group, HandedOverGroup from, boolean rebalance, long nowMs) {
        group.generationId = from.generationId();
        group.protocolType = from.protocolType();
        group.leaderId = null;
        for (HandedOverMember m : from.members()) {
            GroupMember member = new GroupMember(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(),
                    m.sessionTimeoutMs(), m.rebalanceTimeoutMs(), from.protocolType(), m.protocols());
            member.assignment = m.assignment();
            member.lastHeartbeatMs = nowMs;
            group.add(member);
        }
        group.protocolName = from.protocolName() != null ? from.protocolName() : group.selectProtocol();
        group.transitionTo(GroupState.STABLE, nowMs);
        // As Kafka 4.x converting a consumer group: the classic group's record, with each member's assignment.
        try {
            records.storeCurrent(group, nowMs, (error, doneMs) -> {
                if (error != NONE) {
                    System.getLogger(ClassicHandover.class.getName()).log(System.Logger.Level.WARNING,
                            "Cannot write the record of group {0} taken back from a consumer group: error {1}",
                            group.groupId, error);
                }
            });
        } catch (IllegalStateException e) {
            // A member without the group's protocol cannot be written (Kafka refuses it too); the group still runs.
            System.getLogger(ClassicHandover.class.getName()).log(System.Logger.Level.WARNING,
                    "Cannot write the record of group {0} taken back from a consumer group: {1}",
                    group.groupId, e.getMessage());
        }
        if (rebalance) this.rebalance.prepare(group, nowMs);
    }
}
