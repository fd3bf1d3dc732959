package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The persister of a broker whose share coordinator holds the state: calls it directly instead of over the wire,
 * with the leader epoch the share-partition's leader presents (-1 for the group coordinator's own calls). As the
 * wire's answer, a call returns once what it wrote or read is in the ISR of its {@code __share_group_state}
 * partition, so a share-partition never builds on state that a change of the state partition's leader can lose;
 * the calling thread (a request handler's, never an event loop's) waits that long, at most the coordinator's
 * write timeout.
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
        if (s != null) await(s.commit());
        return s == null ? new Stored(ShareStateCoordinator.DEFAULT_STATE_EPOCH,
                ShareStateCoordinator.UNINITIALIZED_START_OFFSET, List.of())
                : new Stored(s.stateEpoch(), s.startOffset(), s.stateBatches());
    }

    @Override
    public Stored summary(String groupId, UUID topicId, int partition) {
        ShareStateCoordinator.State s = coordinator.summary(new ShareStateCoordinator.Key(groupId, topicId, partition));
        await(s.commit());
        return new Stored(s.stateEpoch(), s.startOffset(), List.of());
    }

    @Override
    public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        await(coordinator.initialize(new ShareStateCoordinator.Key(groupId, topicId, partition), stateEpoch,
                startOffset));
    }

    @Override
    public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                      long startOffset, List<ShareStateBatch> batches) {
        await(coordinator.write(new ShareStateCoordinator.Key(groupId, topicId, partition), stateEpoch, leaderEpoch,
                startOffset, -1, batches));
    }

    @Override
    public void delete(String groupId, UUID topicId, int partition) {
        await(coordinator.delete(new ShareStateCoordinator.Key(groupId, topicId, partition)));
    }

    /** Waits for the operation's commit; its failure is the share coordinator's ApiException. */
    private void await(ShareStateCoordinator.Commit commit) {
        try {
            // The coordinator's own wait ends at its write timeout; this bound only guards against a lost callback.
            coordinator.whenCommitted(commit).get(2L * coordinator.writeTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException api) throw api;
            throw new ApiException(UNKNOWN_SERVER_ERROR, String.valueOf(e.getCause()));
        } catch (TimeoutException e) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "The share state was not replicated in time.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Interrupted while waiting for the share state.");
        }
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
