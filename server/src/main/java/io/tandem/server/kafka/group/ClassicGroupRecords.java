package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMetadataCodec.StoredGroup;
import io.tandem.server.kafka.group.GroupMetadataCodec.StoredMember;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * A classic group's record in {@code __consumer_offsets}, written and loaded as Kafka 3.9's GroupMetadataManager does,
 * so a group survives the move of its coordinator (a restart, or the lead of its offsets partition moving) with its
 * members: the record is written when a generation's assignment is complete (SyncGroup from the leader, before the
 * group is Stable), when a rebalance leaves the group Empty, and when a static member's new member id takes over a
 * Stable group, each with acks=all: what waits on the record (the group becoming Stable, the static member's answer)
 * goes on only once it is in every in-sync replica. A member that leaves or expires starts a rebalance, whose end
 * writes the next record. Loading gives a
 * Stable group (Empty without members) with every member's subscription and assignment, and starts each member's
 * session timer when the partition is read (Kafka's onGroupLoaded), so a member that heartbeats carries on in its
 * generation and one that is gone expires. Part of the {@link GroupCoordinator}: every method runs under its lock.
 */
final class ClassicGroupRecords {
    private static final System.Logger LOG = System.getLogger(ClassicGroupRecords.class.getName());

    private final Map<String, ClassicGroup> groups;
    private final GroupStore store;
    private final GroupConfig config;
    /** The coordinator's lock: a write's outcome may come on another thread, and is handled under it. */
    private final Object lock;

    ClassicGroupRecords(Map<String, ClassicGroup> groups, GroupStore store, GroupConfig config, Object lock) {
        this.groups = groups;
        this.lock = lock;
        this.store = store;
        this.config = config;
    }

    /**
     * Writes the group's record with these assignments; {@code then} gets the outcome ({@link GroupStore#groupStored}:
     * NONE once the record is in every in-sync replica) under the coordinator's lock, maybe before this returns.
     */
    void store(ClassicGroup group, Map<String, byte[]> assignments, long nowMs, GroupStore.Written then) {
        store.groupStored(group.groupId, stored(group, assignments), nowMs, (error, doneMs) -> {
            synchronized (lock) {
                try {
                    then.done(error, doneMs);
                } finally {
                    // A failed write may start a rebalance here, on the store's thread: tell the group timer.
                    if (lock instanceof GroupCoordinator coordinator) coordinator.groupChanged(group.groupId);
                }
            }
        });
    }

    /** The group with each member's current assignment (a static member took over in a Stable group). */
    void storeCurrent(ClassicGroup group, long nowMs, GroupStore.Written then) {
        Map<String, byte[]> assignments = new LinkedHashMap<>();
        for (GroupMember m : group.members.values()) assignments.put(m.memberId, m.assignment);
        store(group, assignments, nowMs, then);
    }

    /** A rebalance left the group Empty: as Kafka, a failed write is only logged (nobody waits for it). */
    void storeEmpty(ClassicGroup group, long nowMs) {
        int generation = group.generationId;
        store(group, Map.of(), nowMs, (error, doneMs) -> {
            if (error != NONE) {
                LOG.log(System.Logger.Level.WARNING, "Cannot write the record of empty group {0} at generation {1}: "
                        + "error {2}", group.groupId, generation, error);
            }
        });
    }

    /** The group's record is gone but its offsets stay (it became a consumer group). */
    void deleteRecord(ClassicGroup group) {
        store.groupRecordDeleted(group.groupId);
    }

    /** The group is gone with these offsets: their tombstones and the group's. */
    void deleteGroup(String groupId, Collection<TopicPartition> offsets) {
        store.groupDeleted(groupId, offsets);
    }

    static StoredGroup stored(ClassicGroup group, Map<String, byte[]> assignments) {
        List<StoredMember> members = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            byte[] assignment = assignments.get(m.memberId);
            if (assignment == null) {
                throw new IllegalStateException("member " + m.memberId + " of group " + group.groupId
                        + " would be written without an assignment");
            }
            members.add(new StoredMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    m.rebalanceTimeoutMs, m.sessionTimeoutMs, m.metadata(group.protocolName), assignment));
        }
        return new StoredGroup(group.protocolType == null ? "" : group.protocolType, group.generationId,
                group.protocolName, group.leaderId, group.stateSinceMs, members);
    }

    // ---------------------------------------------------------------- loading

    /** Replays a group's record: the group becomes what it says, its offsets stay (Kafka's GroupMetadata.loadGroup). */
    void load(String groupId, StoredGroup stored) {
        ClassicGroup group = groups.computeIfAbsent(groupId, ClassicGroup::new);
        group.members.clear();
        group.staticMembers.clear();
        group.pendingMembers.clear();
        group.pendingSyncMembers.clear();
        group.syncDeadlineMs = Long.MAX_VALUE;
        group.initialDelayActive = false;
        group.generationId = stored.generation();
        group.protocolType = stored.protocolType() == null || stored.protocolType().isEmpty()
                ? null : stored.protocolType();
        group.protocolName = stored.protocol();
        group.leaderId = stored.leader();
        for (StoredMember m : stored.members()) {
            // Kafka keeps only the group's protocol, with the subscription the member gave for it.
            List<Protocol> protocols = stored.protocol() == null ? List.of()
                    : List.of(new Protocol(stored.protocol(), m.subscription()));
            GroupMember member = new GroupMember(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(),
                    m.sessionTimeoutMs(), m.rebalanceTimeoutMs(), group.protocolType, protocols);
            member.assignment = m.assignment();
            group.members.put(member.memberId, member);
            if (member.isStatic()) group.staticMembers.put(member.groupInstanceId, member.memberId);
        }
        group.state = group.members.isEmpty() ? GroupState.EMPTY : GroupState.STABLE;
        group.stateSinceMs = stored.currentStateTimestamp();
        group.emptySinceMs = group.is(GroupState.EMPTY) ? stored.currentStateTimestamp() : -1;
    }

    /** Replays a group's tombstone: what its record said is gone; offsets are their own records (Kafka's loading). */
    void loadDeletion(String groupId) {
        ClassicGroup group = groups.remove(groupId);
        if (group == null || (group.offsets.isEmpty() && group.pendingTxnOffsets.isEmpty())) return;
        ClassicGroup offsetsOnly = new ClassicGroup(groupId);
        offsetsOnly.offsets.putAll(group.offsets);
        offsetsOnly.pendingTxnOffsets.putAll(group.pendingTxnOffsets);
        groups.put(groupId, offsetsOnly);
    }

    /**
     * The partition holding these groups is read (Kafka's onGroupLoaded): each member's session timer starts now, a
     * group over {@code group.max.size} rebalances, and a group left with neither a record nor offsets is not kept.
     */
    void loaded(Collection<String> groupIds, long nowMs, ClassicRebalance rebalance) {
        for (String groupId : groupIds) {
            ClassicGroup group = groups.get(groupId);
            if (group == null) continue;
            if (group.members.isEmpty() && group.protocolType == null && group.offsets.isEmpty()
                    && group.pendingTxnOffsets.isEmpty()) {
                groups.remove(groupId);
                continue;
            }
            for (GroupMember m : group.members.values()) {
                m.isNew = false;
                m.lastHeartbeatMs = nowMs;
            }
            if (group.is(GroupState.STABLE) && group.members.size() > config.maxGroupSize()) {
                // As Kafka: a freshly loaded group over capacity rebalances so its consumers can commit first.
                rebalance.prepare(group, nowMs);
            }
        }
    }
}
