package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The persister of a broker whose share coordinator holds the state: calls it directly instead of over the wire,
 * with the leader epoch the share-partition's leader presents (-1 for the group coordinator's own calls). As the
 * wire's answer, a call completes once what it wrote or read is in the ISR of its {@code __share_group_state}
 * partition, so a share-partition never builds on state that a change of the state partition's leader can lose; the
 * asynchronous forms, the only ones the broker uses, hold no thread meanwhile (the completion comes from the thread
 * that moved the high watermark); the synchronous ones wait on the caller's thread (tests). Either ends by the
 * coordinator's write timeout, twice over at most.
 */
public final class LocalSharePersister implements SharePersister {
    private final ShareStateCoordinator coordinator;

    public LocalSharePersister(ShareStateCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
        return SharePersister.await(readAsync(groupId, topicId, partition, leaderEpoch));
    }

    @Override
    public CompletableFuture<Stored> readAsync(String groupId, UUID topicId, int partition, int leaderEpoch) {
        ShareStateCoordinator.State s;
        try {
            s = coordinator.read(new ShareStateCoordinator.Key(groupId, topicId, partition), leaderEpoch);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        // Even "never initialized" waits: it may be a deletion whose tombstone a new leader would not have. Then it
        // is refused as the wire refuses it (Kafka 4.4's INVALID_REQUEST): the caller must not create state itself.
        return committed(s.commit()).thenCompose(v -> s.initialized()
                ? CompletableFuture.completedFuture(new Stored(s.stateEpoch(), s.startOffset(), s.stateBatches()))
                : CompletableFuture.failedFuture(new ApiException(INVALID_REQUEST,
                        ShareStateCoordinator.READ_UNINITIALIZED_MESSAGE)));
    }

    @Override
    public Stored summary(String groupId, UUID topicId, int partition) {
        return SharePersister.await(summaryAsync(groupId, topicId, partition));
    }

    @Override
    public CompletableFuture<Stored> summaryAsync(String groupId, UUID topicId, int partition) {
        ShareStateCoordinator.State s;
        try {
            s = coordinator.summary(new ShareStateCoordinator.Key(groupId, topicId, partition));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return committed(s.commit()).thenApply(v -> new Stored(s.stateEpoch(), s.startOffset(), List.of(),
                s.deliveryCompleteCount(), s.leaderEpoch()));
    }

    @Override
    public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        SharePersister.await(initializeAsync(groupId, topicId, partition, stateEpoch, startOffset));
    }

    @Override
    public CompletableFuture<Void> initializeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                                   long startOffset) {
        try {
            return committed(coordinator.initialize(new ShareStateCoordinator.Key(groupId, topicId, partition),
                    stateEpoch, startOffset));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                      long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
        SharePersister.await(writeAsync(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset,
                deliveryCompleteCount, batches));
    }

    @Override
    public CompletableFuture<Void> writeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                              int leaderEpoch, long startOffset, int deliveryCompleteCount,
                                              List<ShareStateBatch> batches) {
        try {
            return committed(coordinator.write(new ShareStateCoordinator.Key(groupId, topicId, partition), stateEpoch,
                    leaderEpoch, startOffset, deliveryCompleteCount, batches));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void delete(String groupId, UUID topicId, int partition) {
        SharePersister.await(deleteAsync(groupId, topicId, partition));
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String groupId, UUID topicId, int partition) {
        try {
            return committed(coordinator.delete(new ShareStateCoordinator.Key(groupId, topicId, partition)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The operation's commit; its failure is the share coordinator's ApiException. */
    private CompletableFuture<Void> committed(ShareStateCoordinator.Commit commit) {
        // The coordinator's own wait ends at its write timeout; this bound only guards against a lost callback.
        return coordinator.whenCommitted(commit).orTimeout(2L * coordinator.writeTimeoutMs(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof ApiException api) return CompletableFuture.failedFuture(api);
                    if (cause instanceof TimeoutException) {
                        return CompletableFuture.failedFuture(new ApiException(COORDINATOR_NOT_AVAILABLE,
                                "The share state was not replicated in time."));
                    }
                    return CompletableFuture.failedFuture(new ApiException(UNKNOWN_SERVER_ERROR, String.valueOf(cause)));
                });
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
