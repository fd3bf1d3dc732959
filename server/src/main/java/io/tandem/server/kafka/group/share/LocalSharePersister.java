package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The persister of a broker whose share coordinator holds the state: calls it directly instead of over the wire,
 * with the leader epoch the share-partition's leader presents (-1 for the group coordinator's own calls).
 */
public final class LocalSharePersister implements SharePersister {
    private final ShareStateCoordinator coordinator;

    public LocalSharePersister(ShareStateCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
        ShareStateCoordinator.State s = coordinator.read(new ShareStateCoordinator.Key(groupId, topicId, partition),
                leaderEpoch);
        return s == null ? new Stored(ShareStateCoordinator.DEFAULT_STATE_EPOCH,
                ShareStateCoordinator.UNINITIALIZED_START_OFFSET, List.of())
                : new Stored(s.stateEpoch(), s.startOffset(), s.stateBatches());
    }

    @Override
    public Stored summary(String groupId, UUID topicId, int partition) {
        ShareStateCoordinator.State s = coordinator.summary(new ShareStateCoordinator.Key(groupId, topicId, partition));
        return new Stored(s.stateEpoch(), s.startOffset(), List.of());
    }

    @Override
    public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        coordinator.initialize(new ShareStateCoordinator.Key(groupId, topicId, partition), stateEpoch, startOffset);
    }

    @Override
    public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                      long startOffset, List<ShareStateBatch> batches) {
        coordinator.write(new ShareStateCoordinator.Key(groupId, topicId, partition), stateEpoch, leaderEpoch,
                startOffset, -1, batches);
    }

    @Override
    public void delete(String groupId, UUID topicId, int partition) {
        coordinator.delete(new ShareStateCoordinator.Key(groupId, topicId, partition));
    }

    @Override
    public Map<String, Map<UUID, List<Integer>>> stored() {
        Map<String, Map<UUID, List<Integer>>> result = new TreeMap<>();
        for (String groupId : coordinator.groupIds()) {
            for (ShareStateCoordinator.Key k : coordinator.keys(groupId)) {
                result.computeIfAbsent(groupId, g -> new java.util.LinkedHashMap<>())
                        .computeIfAbsent(k.topicId(), t -> new java.util.ArrayList<>()).add(k.partition());
            }
        }
        return result;
    }
}
