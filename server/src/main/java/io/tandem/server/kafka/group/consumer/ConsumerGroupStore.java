package io.tandem.server.kafka.group.consumer;

/**
 * Where the consumer group coordinator makes its groups durable (the broker writes Kafka's consumer group records
 * to {@code __consumer_offsets}). Called under the coordinator's lock, in order, so an implementation only appends.
 */
public interface ConsumerGroupStore {
    /** ConsumerGroupMetadata: the group epoch. */
    void groupEpoch(String groupId, int epoch);

    /** ConsumerGroupMemberMetadata: the member's subscription and settings. */
    void memberMetadata(String groupId, ConsumerGroupMember member);

    /** ConsumerGroupTargetAssignmentMember: one member's target, then the metadata with its epoch. */
    void targetAssignment(String groupId, String memberId, Assignment target);

    /** ConsumerGroupTargetAssignmentMetadata: the epoch the target was computed for. */
    void targetAssignmentEpoch(String groupId, int epoch);

    /** ConsumerGroupCurrentMemberAssignment: the member's epoch, state and partitions. */
    void currentAssignment(String groupId, ConsumerGroupMember member);

    /** Tombstones of everything the member had. */
    void memberRemoved(String groupId, String memberId);

    /** Tombstones of the group's own records (its members are already removed). */
    void groupDeleted(String groupId);

    /** Makes what the calls since the last flush wrote durable (one batch per group); called once per request. */
    default void flush() {
    }

    /** Keeps everything in memory only: for tests of the state machine. */
    ConsumerGroupStore IN_MEMORY = new ConsumerGroupStore() {
        @Override public void groupEpoch(String groupId, int epoch) { }
        @Override public void memberMetadata(String groupId, ConsumerGroupMember member) { }
        @Override public void targetAssignment(String groupId, String memberId, Assignment target) { }
        @Override public void targetAssignmentEpoch(String groupId, int epoch) { }
        @Override public void currentAssignment(String groupId, ConsumerGroupMember member) { }
        @Override public void memberRemoved(String groupId, String memberId) { }
        @Override public void groupDeleted(String groupId) { }
    };
}
