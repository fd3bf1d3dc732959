package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Where share-partitions keep their state (Kafka's Persister): the share coordinator behind
 * Initialize/Read/Write/DeleteShareGroupState. Failures are {@link io.tandem.server.kafka.ApiException}s with the
 * protocol's error (NOT_COORDINATOR when the state partition is not led here, FENCED_STATE_EPOCH, ...).
 * <p>
 * Each call comes in two forms. The broker uses only the asynchronous one, whose future completes with the answer (or
 * fails with the ApiException): the group coordinator's calls (heartbeats initializing share-partitions, offsets,
 * the share group admin APIs) and a share-partition's leader's (ShareFetch, ShareAcknowledge) go on from the
 * completion, with no thread parked meanwhile. The synchronous form waits for it (tests). A persister that can only
 * call synchronously (a test's) gets the asynchronous forms from the synchronous ones.
 */
public interface SharePersister {
    /**
     * A share-partition's stored state; {@code startOffset} -1 means initialized without a start offset (a topic
     * new to the group: share.auto.offset.reset decides it at the first load), or, in a summary, no state at all. {@code deliveryCompleteCount}
     * is what a summary answers (KIP-1226): the records from the start offset on that are done (acknowledged or
     * archived), -1 when unknown; reads leave it -1. {@code leaderEpoch} is the summary's too: the leader epoch of
     * the last leader that read the state (0 from its initialization, and for no state), which Kafka 4.4's
     * DescribeShareGroupOffsets answers; reads leave it at that default.
     */
    record Stored(int stateEpoch, long startOffset, List<ShareStateBatch> batches, int deliveryCompleteCount,
                  int leaderEpoch) {
        /** A read's answer: the batches say what is done, the count is not needed. */
        public Stored(int stateEpoch, long startOffset, List<ShareStateBatch> batches) {
            this(stateEpoch, startOffset, batches, UNKNOWN_DELIVERY_COMPLETE_COUNT,
                    io.tandem.server.kafka.group.share.state.ShareStateCoordinator.INITIAL_LEADER_EPOCH);
        }
    }

    /** A delivery-complete count nobody wrote (a state older than KIP-1226, or initialized at start offset -1). */
    int UNKNOWN_DELIVERY_COMPLETE_COUNT = -1;

    /**
     * A read by the share-partition's leader at its partition's leader epoch: FENCED_LEADER_EPOCH when a newer
     * leader read it, and from now on an older leader's reads and writes are fenced (the share coordinator stores the
     * epoch). The group coordinator reads summaries instead, which fence nobody; a negative epoch is refused. A
     * share-partition never initialized is refused too (INVALID_REQUEST "Read operation on uninitialized share
     * partition not allowed.", Kafka 4.4's share coordinator): state is created by the group coordinator alone.
     */
    Stored read(String groupId, UUID topicId, int partition, int leaderEpoch);

    /**
     * The start offset and state epoch alone (ReadShareGroupStateSummary), as the group coordinator reads them
     * without fencing any leader: {@code startOffset} -1 and the default state epoch when never initialized.
     */
    Stored summary(String groupId, UUID topicId, int partition);

    void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset);

    /**
     * A write by the share-partition's leader at its partition's leader epoch (FENCED_LEADER_EPOCH once a newer
     * leader read the state), with its delivery-complete count (the records from {@code startOffset} on that are
     * done; -1 unknown).
     */
    void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch, long startOffset,
               int deliveryCompleteCount, List<ShareStateBatch> batches);

    void delete(String groupId, UUID topicId, int partition);

    /** {@link #read(String, UUID, int, int)}, answered by the future. */
    default CompletableFuture<Stored> readAsync(String groupId, UUID topicId, int partition, int leaderEpoch) {
        return now(() -> read(groupId, topicId, partition, leaderEpoch));
    }

    /** {@link #initialize}, answered by the future. */
    default CompletableFuture<Void> initializeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                                    long startOffset) {
        return now(() -> {
            initialize(groupId, topicId, partition, stateEpoch, startOffset);
            return null;
        });
    }

    /** {@link #summary}, answered by the future. */
    default CompletableFuture<Stored> summaryAsync(String groupId, UUID topicId, int partition) {
        return now(() -> summary(groupId, topicId, partition));
    }

    /** {@link #delete}, answered by the future. */
    default CompletableFuture<Void> deleteAsync(String groupId, UUID topicId, int partition) {
        return now(() -> {
            delete(groupId, topicId, partition);
            return null;
        });
    }

    /** {@link #write(String, UUID, int, int, int, long, int, List)}, answered by the future. */
    default CompletableFuture<Void> writeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                               int leaderEpoch, long startOffset, int deliveryCompleteCount,
                                               List<ShareStateBatch> batches) {
        return now(() -> {
            write(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, deliveryCompleteCount, batches);
            return null;
        });
    }

    /** A synchronous call as a future: its ApiException fails the future rather than the caller. */
    static <T> CompletableFuture<T> now(Supplier<T> call) {
        try {
            return CompletableFuture.completedFuture(call.get());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Waits for an asynchronous call; its failure is thrown as the persister's ApiException. */
    static <T> T await(CompletableFuture<T> call) {
        try {
            return call.join();
        } catch (CompletionException e) {
            throw SharePartitionWriter.unwrap(e);
        }
    }

    /** Every share group with stored state, with its share-partitions (topic id to partitions). */
    Map<String, Map<UUID, List<Integer>>> stored();

    /** Keeps nothing: state lives as long as the process (unit tests of the state machines). */
    SharePersister NONE = new SharePersister() {
        @Override
        public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
            return new Stored(0, -1, List.of());
        }

        @Override
        public Stored summary(String groupId, UUID topicId, int partition) {
            return new Stored(0, -1, List.of());
        }

        @Override
        public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        }

        @Override
        public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                          long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
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
