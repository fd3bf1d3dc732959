package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Where share-partitions keep their state (Kafka's Persister): the share coordinator behind
 * Initialize/Read/Write/DeleteShareGroupState. Failures are {@link io.tandem.server.kafka.ApiException}s with the
 * protocol's error (NOT_COORDINATOR when the state partition is not led here, FENCED_STATE_EPOCH, ...).
 */
public interface SharePersister {
    /** A share-partition's stored state; {@code startOffset} -1 means never initialized. */
    record Stored(int stateEpoch, long startOffset, List<ShareStateBatch> batches) {
    }

    Stored read(String groupId, UUID topicId, int partition);

    void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset);

    void write(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset,
               List<ShareStateBatch> batches);

    void delete(String groupId, UUID topicId, int partition);

    /** Every share group with stored state, with its share-partitions (topic id to partitions). */
    Map<String, Map<UUID, List<Integer>>> stored();

    /** Keeps nothing: state lives as long as the process (unit tests of the state machines). */
    SharePersister NONE = new SharePersister() {
        @Override
        public Stored read(String groupId, UUID topicId, int partition) {
            return new Stored(0, -1, List.of());
        }

        @Override
        public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        }

        @Override
        public void write(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset,
                          List<ShareStateBatch> batches) {
        }

        @Override
        public void delete(String groupId, UUID topicId, int partition) {
        }

        @Override
        public Map<String, Map<UUID, List<Integer>>> stored() {
            return Map.of();
        }
    };
}
