package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;

import java.util.Collection;
import java.util.Map;

/**
 * Where the coordinator makes its committed offsets and its groups' records durable (the broker writes them to
 * {@code __consumer_offsets}).
 * Called under the coordinator's lock, in commit order, so an implementation only has to append.
 */
public interface GroupStore {
    void offsetsCommitted(String groupId, Map<TopicPartition, CommittedOffset> offsets);

    void offsetsDeleted(String groupId, Collection<TopicPartition> partitions);

    /**
     * The group is gone (deleted, or expired with its offsets): tombstones for the given offsets and for the group's
     * record, in one batch, as Kafka's cleanupGroupMetadata writes them (a group tombstone alone leaves the offsets).
     */
    void groupDeleted(String groupId, Collection<TopicPartition> offsets);

    /**
     * Writes the classic group's record (Kafka's storeGroup): on a new generation's assignment, when the group becomes
     * Empty, when a static member's new member id takes over. Returns NONE, or the error the member's request gets
     * when it could not be written (Kafka's storeGroup mapping of append errors).
     */
    short groupStored(String groupId, GroupMetadataCodec.StoredGroup group);

    /** Writes a tombstone for the group's record only (its offsets stay): the group became a consumer group. */
    void groupRecordDeleted(String groupId);

    /**
     * Writes offsets committed inside a producer's transaction as a transactional batch of that producer (its
     * transaction's marker commits or aborts them); returns the append's error code, NONE when written.
     */
    short transactionalOffsetsCommitted(String groupId, long producerId, short producerEpoch,
                                        Map<TopicPartition, CommittedOffset> offsets);

    /** Keeps everything in memory only: for tests of the state machine. */
    GroupStore IN_MEMORY = new GroupStore() {
        @Override public void offsetsCommitted(String groupId, Map<TopicPartition, CommittedOffset> offsets) { }
        @Override public void offsetsDeleted(String groupId, Collection<TopicPartition> partitions) { }
        @Override public void groupDeleted(String groupId, Collection<TopicPartition> offsets) { }
        @Override public short groupStored(String groupId, GroupMetadataCodec.StoredGroup group) { return 0; }
        @Override public void groupRecordDeleted(String groupId) { }
        @Override public short transactionalOffsetsCommitted(String groupId, long producerId, short producerEpoch,
                                                             Map<TopicPartition, CommittedOffset> offsets) {
            return 0;
        }
    };
}
