package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.VerificationGuard;

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
     * Writes the classic group's record (Kafka's storeGroup, an append with acks=all): on a new generation's
     * assignment, when the group becomes Empty, when a static member's new member id takes over. {@code written} gets
     * NONE once the record is in every in-sync replica of the group's offsets partition, else the error the member's
     * request gets (Kafka's storeGroup mapping of append errors: {@link OffsetsTopicStore#storeGroupError}). It may
     * run before this returns, at {@code nowMs}, or later on another thread (never while holding a lock that a
     * holder of the coordinator's lock may wait for): it takes the coordinator's lock itself.
     */
    void groupStored(String groupId, GroupMetadataCodec.StoredGroup group, long nowMs, Written written);

    /**
     * Calls {@code written} once everything written so far to the group's offsets partition is in its in-sync
     * replicas (NONE), or with the error as {@link #groupStored}: a consumer group's classic member learns its
     * assignment only then. Same threading as {@link #groupStored}.
     */
    void whenWritten(String groupId, long nowMs, Written written);

    /** The outcome of a write that waits for the in-sync replicas, and when it was known. */
    @FunctionalInterface
    interface Written {
        void done(short error, long nowMs);
    }

    /** Writes a tombstone for the group's record only (its offsets stay): the group became a consumer group. */
    void groupRecordDeleted(String groupId);

    /**
     * Writes offsets committed inside a producer's transaction as a transactional batch of that producer (its
     * transaction's marker commits or aborts them); returns the append's error code, NONE when written.
     * {@code verificationGuard} is the offsets partition's guard of the transaction coordinator's check (KIP-890 part
     * 1): the batch may open a transaction there only with the guard the partition still holds, else
     * INVALID_TXN_STATE ({@link io.tandem.server.kafka.log.Partition#append}); null checks nothing.
     */
    short transactionalOffsetsCommitted(String groupId, long producerId, short producerEpoch,
                                        Map<TopicPartition, CommittedOffset> offsets,
                                        VerificationGuard verificationGuard);

    /** Keeps everything in memory only: for tests of the state machine. */
    GroupStore IN_MEMORY = new GroupStore() {
        @Override public void offsetsCommitted(String groupId, Map<TopicPartition, CommittedOffset> offsets) { }
        @Override public void offsetsDeleted(String groupId, Collection<TopicPartition> partitions) { }
        @Override public void groupDeleted(String groupId, Collection<TopicPartition> offsets) { }
        @Override public void groupStored(String groupId, GroupMetadataCodec.StoredGroup group, long nowMs,
                                          Written written) {
            written.done((short) 0, nowMs);
        }
        @Override public void whenWritten(String groupId, long nowMs, Written written) {
            written.done((short) 0, nowMs);
        }
        @Override public void groupRecordDeleted(String groupId) { }
        @Override public short transactionalOffsetsCommitted(String groupId, long producerId, short producerEpoch,
                                                             Map<TopicPartition, CommittedOffset> offsets,
                                                             VerificationGuard verificationGuard) {
            return 0;
        }
    };
}
