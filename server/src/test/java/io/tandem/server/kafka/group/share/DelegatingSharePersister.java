package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A persister passing every call on to another, for a test to override the calls it scripts (a share coordinator
 * that stalls, hangs, fails or answers late). The asynchronous forms are the interface's, built on the synchronous
 * ones, unless a test overrides them too.
 */
class DelegatingSharePersister implements SharePersister {
    private final SharePersister to;

    DelegatingSharePersister(SharePersister to) {
        this.to = to;
    }

    @Override public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
        return to.read(groupId, topicId, partition, leaderEpoch);
    }

    @Override public Stored summary(String groupId, UUID topicId, int partition) {
        return to.summary(groupId, topicId, partition);
    }

    @Override public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long start) {
        to.initialize(groupId, topicId, partition, stateEpoch, start);
    }

    @Override public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                                long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
        to.write(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, deliveryCompleteCount, batches);
    }

    @Override public void delete(String groupId, UUID topicId, int partition) {
        to.delete(groupId, topicId, partition);
    }

    @Override public Map<String, Map<UUID, List<Integer>>> stored() {
        return to.stored();
    }
}
