package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;

import java.util.Collection;
import java.util.Map;

/**
 * Where the coordinator makes its committed offsets durable (the broker writes them to {@code __consumer_offsets}).
 * Called under the coordinator's lock, in commit order, so an implementation only has to append.
 */
public interface GroupStore {
    void offsetsCommitted(String groupId, Map<TopicPartition, CommittedOffset> offsets);

    void offsetsDeleted(String groupId, Collection<TopicPartition> partitions);

    void groupDeleted(String groupId);

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
        @Override public void groupDeleted(String groupId) { }
        @Override public short transactionalOffsetsCommitted(String groupId, long producerId, short producerEpoch,
                                                             Map<TopicPartition, CommittedOffset> offsets) {
            return 0;
        }
    };
}
