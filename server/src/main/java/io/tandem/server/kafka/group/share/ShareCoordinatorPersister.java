package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.CoordinatorTypes;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.share.ShareStateRequests.Part;
import io.tandem.server.kafka.group.share.ShareStateRequests.Rpc;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The persister of a broker in a cluster, as Kafka 4.4's DefaultStatePersister: a share-partition's state lives at its
 * share coordinator, the leader of the {@code __share_group_state} partition its key
 * ({@code group:topicId:partition}) hashes to. When that is this broker the call goes straight to its own
 * {@link ShareStateCoordinator} ({@link LocalSharePersister}); otherwise it goes over the wire to that broker, batched
 * with every other call queued for that node, RPC and group ({@link ShareStateSender}, Kafka's PersisterStateManager).
 *
 * <p>The coordinator is found as Kafka's persister finds it: in this broker's metadata (Kafka's
 * ShareCoordinatorMetadataCacheHelper, the very answer FindCoordinator gives from it), else, while the metadata has
 * no leader for the state partition (the topic is being created), by FindCoordinator (key type SHARE) to a live
 * broker, whose answer is kept per state partition until a call to it fails. A coordinator that moved or is loading
 * (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION) or a lost
 * connection forgets that answer and is looked up again after Kafka's exponential backoff ({@link ShareStateBackoff}:
 * about 2, 4, 8, 16 s, five attempts), the wait on a scheduler, never a thread; what still fails is the caller's
 * ApiException (a heartbeat tries the share-partition again next time, a ShareFetch answers the
 * partition's error and the client retries).
 *
 * <p>Every call is asynchronous: no thread of the caller's waits, whether the share coordinator is here (the answer
 * comes from the thread that moved its state partition's high watermark) or on another broker (from the
 * inter-broker client's work thread). A share-partition's leader reads and writes at its partition's leader epoch, so the share
 * coordinator fences a leader that lost its leadership (FENCED_LEADER_EPOCH); the group coordinator reads summaries
 * (ReadShareGroupStateSummary), which fence nobody.
 */
public final class ShareCoordinatorPersister implements SharePersister, AutoCloseable {
    /** FindCoordinator's version with CoordinatorKeys (batched lookups), which every 4.x broker serves. */
    static final short FIND_COORDINATOR_VERSION = 6;

    /**
     * Sends one request to a broker (the non-blocking inter-broker client): returns at once, and the future completes
     * with the answer, or fails with an IOException when the broker cannot be reached or does not answer in time.
     */
    public interface Transport {
        /** Sends at the newest version in [{@code minVersion}, {@code maxVersion}] the broker serves. */
        CompletableFuture<ApiMessage> send(int brokerId, ApiKey key, short minVersion, short maxVersion,
                                           ApiMessage request);
    }

    /** Requests a transport carries to one node at once: one, as Kafka's persister ({@link ShareStateSender}). */
    public static final int REQUESTS_IN_FLIGHT_PER_NODE = ShareStateSender.REQUESTS_IN_FLIGHT_PER_NODE;

    /** Runs a retry after its backoff (a scheduler's timer; tests run it at once and note the wait). */
    interface Delayer {
        void after(long delayMs, Runnable retry);
    }

    /** The JDK's shared timer: it only hands the retry to the common pool when due, so nothing waits meanwhile. */
    private static final Delayer TIMER = (delayMs, retry) ->
            CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS).execute(retry);

    private final ShareStateCoordinator coordinator;
    private final LocalSharePersister local;
    /** Whether this broker leads (and so answers for) a state partition. */
    private final IntPredicate leadsHere;
    /** The broker leading a state partition in this broker's metadata, -1 when it has none or no such topic yet. */
    private final IntUnaryOperator leaderOf;
    /** The live brokers, one of which answers a FindCoordinator. */
    private final Supplier<List<Integer>> liveBrokers;
    private final ShareStateSender sender;
    private final Delayer delayer;
    /** Set by close: a call failing then is not retried (its retry would only fail again, up to 30 s later). */
    private volatile boolean closed;
    /**
     * FindCoordinator's answers by state partition, as futures so that the calls arriving while one lookup is under
     * way wait for it rather than each asking again; bounded by the state topic's partition count.
     */
    private final Map<Integer, CompletableFuture<Integer>> found = new ConcurrentHashMap<>();

    public ShareCoordinatorPersister(ShareStateCoordinator coordinator, IntPredicate leadsHere,
                                     IntUnaryOperator leaderOf, Transport transport) {
        this(coordinator, leadsHere, leaderOf, List::of, transport);
    }

    public ShareCoordinatorPersister(ShareStateCoordinator coordinator, IntPredicate leadsHere,
                                     IntUnaryOperator leaderOf, Supplier<List<Integer>> liveBrokers,
                                     Transport transport) {
        this(coordinator, leadsHere, leaderOf, liveBrokers, transport, TIMER);
    }

    ShareCoordinatorPersister(ShareStateCoordinator coordinator, IntPredicate leadsHere, IntUnaryOperator leaderOf,
                              Supplier<List<Integer>> liveBrokers, Transport transport, Delayer delayer) {
        this.delayer = delayer;
        this.coordinator = coordinator;
        this.local = new LocalSharePersister(coordinator);
        this.leadsHere = leadsHere;
        this.leaderOf = leaderOf;
        this.liveBrokers = liveBrokers;
        this.sender = new ShareStateSender(transport);
    }

    // ---------------------------------------------------------------- the calls

    @Override
    public CompletableFuture<Stored> readAsync(String groupId, UUID topicId, int partition, int leaderEpoch) {
        return call(Rpc.READ, groupId, new Part(topicId, partition, 0, leaderEpoch, 0, -1, List.of()),
                () -> local.readAsync(groupId, topicId, partition, leaderEpoch));
    }

    @Override
    public CompletableFuture<Stored> summaryAsync(String groupId, UUID topicId, int partition) {
        return call(Rpc.SUMMARY, groupId, Part.of(topicId, partition),
                () -> local.summaryAsync(groupId, topicId, partition));
    }

    @Override
    public CompletableFuture<Void> initializeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                                   long startOffset) {
        return call(Rpc.INITIALIZE, groupId, new Part(topicId, partition, stateEpoch, -1, startOffset, -1, List.of()),
                () -> local.initializeAsync(groupId, topicId, partition, stateEpoch, startOffset)
                        .thenApply(v -> null)).thenApply(s -> null);
    }

    @Override
    public CompletableFuture<Void> writeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                              int leaderEpoch, long startOffset, int deliveryCompleteCount,
                                              List<ShareStateBatch> batches) {
        return call(Rpc.WRITE, groupId, new Part(topicId, partition, stateEpoch, leaderEpoch, startOffset,
                        deliveryCompleteCount, batches),
                () -> local.writeAsync(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset,
                        deliveryCompleteCount, batches).thenApply(v -> null)).thenApply(s -> null);
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String groupId, UUID topicId, int partition) {
        return call(Rpc.DELETE, groupId, Part.of(topicId, partition),
                () -> local.deleteAsync(groupId, topicId, partition).thenApply(v -> null)).thenApply(s -> null);
    }

    // The synchronous forms wait on the caller's thread: for tests and tools only, never a broker's own path.

    @Override
    public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
        return SharePersister.await(readAsync(groupId, topicId, partition, leaderEpoch));
    }

    @Override
    public Stored summary(String groupId, UUID topicId, int partition) {
        return SharePersister.await(summaryAsync(groupId, topicId, partition));
    }

    @Override
    public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        SharePersister.await(initializeAsync(groupId, topicId, partition, stateEpoch, startOffset));
    }

    @Override
    public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                      long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
        SharePersister.await(writeAsync(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset,
                deliveryCompleteCount, batches));
    }

    @Override
    public void delete(String groupId, UUID topicId, int partition) {
        SharePersister.await(deleteAsync(groupId, topicId, partition));
    }

    /**
     * The share groups with state at this broker's own share coordinator: another broker's state partitions are
     * that broker's to list (its share groups come back from {@code __consumer_offsets} where they are coordinated).
     */
    @Override
    public Map<String, Map<UUID, List<Integer>>> stored() {
        return local.stored();
    }

    /** Share-state requests of {@code key} this broker sent to other brokers so far (batching shows here). */
    public long requestsSent(ApiKey key) {
        return sender.requestsSent(key);
    }

    @Override
    public void close() {
        closed = true;
        sender.close();
    }

    // ---------------------------------------------------------------- one call, wherever its coordinator is

    private CompletableFuture<Stored> call(Rpc rpc, String groupId, Part part,
                                           Supplier<CompletableFuture<Stored>> here) {
        return call(rpc, groupId, part, here, new ShareStateBackoff());
    }

    /** A failed lookup of the coordinator, told apart from a failed request: Kafka counts their attempts apart. */
    private static final class LookupFailed extends RuntimeException {
        LookupFailed(RuntimeException cause) {
            super(cause);
        }
    }

    private CompletableFuture<Stored> call(Rpc rpc, String groupId, Part part,
                                           Supplier<CompletableFuture<Stored>> here, ShareStateBackoff backoff) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, part.topicId(), part.partition());
        int statePartition;
        CompletableFuture<Stored> once;
        try {
            statePartition = coordinator.partitionFor(key);
            once = leadsHere.test(statePartition) ? here.get()
                    : coordinatorOf(key, statePartition)
                            .exceptionallyCompose(e -> CompletableFuture.failedFuture(
                                    new LookupFailed(SharePartitionWriter.unwrap(e))))
                            .thenCompose(node -> {
                                backoff.lookupSucceeded();
                                return sender.send(node, rpc, groupId, part);
                            })
                            .thenApply(result -> answer(rpc, result));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return once.exceptionallyCompose(e -> {
            RuntimeException failure = SharePartitionWriter.unwrap(e);
            boolean lookup = failure instanceof LookupFailed;
            if (lookup) failure = (RuntimeException) failure.getCause();
            if (!(failure instanceof ApiException api) || !retriable(api.error())) {
                return CompletableFuture.failedFuture(failure);
            }
            // Kafka's handlers reset their coordinator node on these: the next attempt looks it up again.
            found.remove(statePartition);
            long waitMs = backoff.afterFailure(lookup);
            if (waitMs < 0 || closed) return CompletableFuture.failedFuture(failure);
            CompletableFuture<Stored> retried = new CompletableFuture<>();
            delayer.after(waitMs, () -> call(rpc, groupId, part, here, backoff).whenComplete((stored, again) -> {
                if (again != null) {
                    retried.completeExceptionally(SharePartitionWriter.unwrap(again));
                } else {
                    retried.complete(stored);
                }
            }));
            return retried;
        });
    }

    /** One share-partition's result: what it stored, or its error as the ApiException. */
    private static Stored answer(Rpc rpc, ShareStateRequests.Result result) {
        if (result.error() != io.tandem.server.kafka.ErrorCodes.NONE) {
            throw new ApiException(result.error(), result.message() != null ? result.message()
                    : Errors.forCode(result.error()).message());
        }
        return result.stored();
    }

    /** The broker coordinating the key: the metadata's leader, else FindCoordinator's answer (kept). */
    private CompletableFuture<Integer> coordinatorOf(ShareStateCoordinator.Key key, int statePartition) {
        int leader = leaderOf.applyAsInt(statePartition);
        if (leader >= 0) return CompletableFuture.completedFuture(leader);
        CompletableFuture<Integer> lookup = found.computeIfAbsent(statePartition, sp -> findCoordinator(key));
        // A failed lookup is not kept: the next call asks again.
        lookup.whenComplete((node, e) -> {
            if (e != null) found.remove(statePartition, lookup);
        });
        return lookup;
    }

    /** FindCoordinator (key type SHARE) for the key, to any live broker, as Kafka's persister sends it. */
    private CompletableFuture<Integer> findCoordinator(ShareStateCoordinator.Key key) {
        List<Integer> live = new ArrayList<>(liveBrokers.get());
        if (live.isEmpty()) {
            return CompletableFuture.failedFuture(new ApiException(COORDINATOR_NOT_AVAILABLE,
                    "No share coordinator for " + key.coordinatorKey() + " yet."));
        }
        // Any live broker answers (and creates the state topic if it does not exist yet).
        int asked = live.get(ThreadLocalRandom.current().nextInt(live.size()));
        FindCoordinatorRequest request = new FindCoordinatorRequest();
        request.keyType = CoordinatorTypes.SHARE;
        request.coordinatorKeys = new ArrayList<>(List.of(key.coordinatorKey()));
        return sender.sendOne(asked, ApiKey.FIND_COORDINATOR, FIND_COORDINATOR_VERSION, FIND_COORDINATOR_VERSION,
                request).thenApply(m -> {
            FindCoordinatorResponse response = (FindCoordinatorResponse) m;
            if (response.coordinators.size() != 1) {
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Broker " + asked + " did not name the share "
                        + "coordinator of " + key.coordinatorKey() + ".");
            }
            FindCoordinatorResponse.Coordinator c = response.coordinators.get(0);
            if (c.errorCode != io.tandem.server.kafka.ErrorCodes.NONE) {
                throw new ApiException(c.errorCode, c.errorMessage != null ? c.errorMessage
                        : Errors.forCode(c.errorCode).message());
            }
            return c.nodeId;
        });
    }

    private static boolean retriable(short error) {
        return error == NOT_COORDINATOR || error == COORDINATOR_NOT_AVAILABLE || error == COORDINATOR_LOAD_IN_PROGRESS
                || error == UNKNOWN_TOPIC_OR_PARTITION;
    }
}
