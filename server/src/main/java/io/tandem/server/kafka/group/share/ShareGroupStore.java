package io.tandem.server.kafka.group.share;

import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

/**
 * Where the share group coordinator makes its groups and members durable (the broker writes Kafka 4.4's share group
 * records, {@link ShareGroupRecords}, to {@code __consumer_offsets}, as Kafka's group coordinator does). Called under
 * the coordinator's lock, in order, so an implementation only appends.
 */
public interface ShareGroupStore {
    /** ShareGroupMetadata: the group epoch and the hash of the subscribed topics' metadata. */
    void groupEpoch(String groupId, int epoch, long metadataHash);

    /** ShareGroupMemberMetadata: the member's subscription, rack and client. */
    void memberMetadata(String groupId, ShareGroupMember member);

    /** ShareGroupTargetAssignmentMember: one member's target assignment. */
    void targetAssignment(String groupId, String memberId, Map<UUID, SortedSet<Integer>> target);

    /** ShareGroupTargetAssignmentMetadata: the epoch the target was computed for, and when (0: not computed). */
    void targetAssignmentEpoch(String groupId, int epoch, long timestampMs);

    /** ShareGroupCurrentMemberAssignment: the member's epochs and partitions. */
    void currentAssignment(String groupId, ShareGroupMember member);

    /** ShareGroupStatePartitionMetadata: the group's share-partitions with state (topic id to name and partitions). */
    void statePartitions(String groupId, ShareGroupRecords.StatePartitionMetadata metadata);

    /** Tombstones of everything the member had. */
    void memberRemoved(String groupId, String memberId);

    /** Tombstones of the group's own records (its members are already removed). */
    void groupDeleted(String groupId);

    /** Makes what the calls since the last flush wrote durable (one batch per group); called once per request. */
    default void flush() {
    }

    /** Keeps everything in memory only: for tests of the state machine. */
    ShareGroupStore IN_MEMORY = new ShareGroupStore() {
        @Override public void groupEpoch(String groupId, int epoch, long metadataHash) { }
        @Override public void memberMetadata(String groupId, ShareGroupMember member) { }
        @Override public void targetAssignment(String g, String m, Map<UUID, SortedSet<Integer>> target) { }
        @Override public void targetAssignmentEpoch(String groupId, int epoch, long timestampMs) { }
        @Override public void currentAssignment(String groupId, ShareGroupMember member) { }
        @Override public void statePartitions(String g, ShareGroupRecords.StatePartitionMetadata metadata) { }
        @Override public void memberRemoved(String groupId, String memberId) { }
        @Override public void groupDeleted(String groupId) { }
    };
}
