package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.DeleteShareGroupStateRequest;
import io.tandem.kafka.wire.message.DeleteShareGroupStateResponse;
import io.tandem.kafka.wire.message.InitializeShareGroupStateRequest;
import io.tandem.kafka.wire.message.InitializeShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryResponse;
import io.tandem.kafka.wire.message.WriteShareGroupStateRequest;
import io.tandem.kafka.wire.message.WriteShareGroupStateResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;
import java.util.function.ToIntFunction;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The persister of a broker in a cluster, as Kafka 4.4's DefaultStatePersister: a share-partition's state lives at its
 * share coordinator, the leader of the {@code __share_group_state} partition its key
 * ({@code group:topicId:partition}) hashes to. When that is this broker the call goes straight to its own
 * {@link ShareStateCoordinator} ({@link LocalSharePersister}); otherwise it goes over the wire to that broker as
 * InitializeShareGroupState, ReadShareGroupState, WriteShareGroupState or DeleteShareGroupState, one share-partition
 * per request. The coordinator is looked up in this broker's metadata, the very answer FindCoordinator (key type
 * SHARE) gives from it, without the round trip. A coordinator that moved or is loading (NOT_COORDINATOR,
 * COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS) or a lost connection is looked up again and tried once
 * more after {@link #RETRY_BACKOFF_MS}; what still fails is the caller's ApiException (a heartbeat tries the
 * share-partition again next time, a ShareFetch answers the partition's error and the client retries).
 *
 * <p>A share-partition's leader reads and writes at its partition's leader epoch, so the share coordinator fences a
 * leader that lost its leadership (FENCED_LEADER_EPOCH); the group coordinator reads summaries
 * (ReadShareGroupStateSummary), which fence nobody. A share-partition's leader reads and writes through the
 * asynchronous forms: with the share coordinator on this broker no thread waits for it (the ShareFetch or
 * ShareAcknowledge answer goes from the completion), with it on another broker the synchronous channel's call is
 * made on one of a few threads of this persister's own ({@link #REMOTE_CALL_THREADS_MAX}), for at most two round
 * trips of the channel's timeout. The group coordinator's own calls (initializing share-partitions, offsets) are synchronous and hold its
 * lock, so a share coordinator that does not answer stalls that coordinator's heartbeats that long (Kafka's persister
 * is asynchronous throughout).
 */
public final class ShareCoordinatorPersister implements SharePersister {
    /** The wait before the second attempt, as Kafka's persister backs off before looking the coordinator up again. */
    static final long RETRY_BACKOFF_MS = 100;
    /**
     * Threads that make the asynchronous forms' calls to share coordinators on other brokers (the channel is
     * synchronous): a share-partition's leader never blocks its request handlers or the threads completing its writes
     * (a follower's fetch, a LeaderAndIsr) on another broker. One per call under way; idle ones end.
     */
    static final int REMOTE_CALL_THREADS_MAX = 8;
    /** Calls waiting for one of those threads; past this a call fails COORDINATOR_NOT_AVAILABLE and is retried. */
    static final int REMOTE_CALLS_QUEUED_MAX = 1024;
    static final short INITIALIZE_VERSION = 0, READ_VERSION = 0, WRITE_VERSION = 1, DELETE_VERSION = 0,
            SUMMARY_VERSION = 1;

    /** Sends one request to a broker and returns its answer (an inter-broker channel). */
    public interface Transport {
        ApiMessage send(int brokerId, ApiKey key, short version, ApiMessage request) throws IOException;
    }

    private final ShareStateCoordinator coordinator;
    private final LocalSharePersister local;
    /** Whether this broker leads (and so answers for) a state partition. */
    private final IntPredicate leadsHere;
    /** The broker leading a state partition, -1 when it has none or the topic does not exist yet. */
    private final IntUnaryOperator leaderOf;
    private final Transport transport;
    private final java.util.concurrent.ThreadPoolExecutor remoteCalls;

    public ShareCoordinatorPersister(ShareStateCoordinator coordinator, IntPredicate leadsHere,
                                     IntUnaryOperator leaderOf, Transport transport) {
        this.coordinator = coordinator;
        this.local = new LocalSharePersister(coordinator);
        this.leadsHere = leadsHere;
        this.leaderOf = leaderOf;
        this.transport = transport;
        this.remoteCalls = new java.util.concurrent.ThreadPoolExecutor(REMOTE_CALL_THREADS_MAX,
                REMOTE_CALL_THREADS_MAX, 30, TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(REMOTE_CALLS_QUEUED_MAX), r -> {
                    Thread t = new Thread(r, "share-persister-remote");
                    t.setDaemon(true);
                    return t;
                });
        remoteCalls.allowCoreThreadTimeOut(true);
    }

    @Override
    public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
        return SharePersister.await(readAsync(groupId, topicId, partition, leaderEpoch));
    }

    @Override
    public CompletableFuture<Stored> readAsync(String groupId, UUID topicId, int partition, int leaderEpoch) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, topicId, partition);
        return callAsync(key, () -> local.readAsync(groupId, topicId, partition, leaderEpoch),
                brokerId -> readRemote(key, leaderEpoch, brokerId), 1);
    }

    private Stored readRemote(ShareStateCoordinator.Key key, int leaderEpoch, int brokerId) throws IOException {
        String groupId = key.groupId();
        UUID topicId = key.topicId();
        int partition = key.partition();
        ReadShareGroupStateRequest request = new ReadShareGroupStateRequest();
        request.groupId = groupId;
        ReadShareGroupStateRequest.ReadStateData t = new ReadShareGroupStateRequest.ReadStateData();
        t.topicId = topicId;
        ReadShareGroupStateRequest.PartitionData p = new ReadShareGroupStateRequest.PartitionData();
        p.partition = partition;
        p.leaderEpoch = leaderEpoch;
        t.partitions.add(p);
        request.topics.add(t);
        ReadShareGroupStateResponse response = (ReadShareGroupStateResponse) transport.send(brokerId,
                ApiKey.READ_SHARE_GROUP_STATE, READ_VERSION, request);
        ReadShareGroupStateResponse.PartitionResult rp = resultFor(key, response.results, rt -> rt.topicId,
                rt -> rt.partitions, r -> r.partition);
        // The share coordinator's answer for a share-partition never initialized (see ShareStateHandlers): as
        // the local read, no state.
        if (rp.errorCode == INVALID_REQUEST) {
            return new Stored(ShareStateCoordinator.DEFAULT_STATE_EPOCH,
                    ShareStateCoordinator.UNINITIALIZED_START_OFFSET, List.of());
        }
        check(rp.errorCode, rp.errorMessage);
        List<ShareStateBatch> batches = new ArrayList<>();
        for (ReadShareGroupStateResponse.StateBatch b : rp.stateBatches) {
            batches.add(new ShareStateBatch(b.firstOffset, b.lastOffset, b.deliveryState, b.deliveryCount));
        }
        return new Stored(rp.stateEpoch, rp.startOffset, List.copyOf(batches));
    }

    @Override
    public Stored summary(String groupId, UUID topicId, int partition) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, topicId, partition);
        return call(key, () -> local.summary(groupId, topicId, partition), brokerId -> {
            ReadShareGroupStateSummaryRequest request = new ReadShareGroupStateSummaryRequest();
            request.groupId = groupId;
            ReadShareGroupStateSummaryRequest.ReadStateSummaryData t =
                    new ReadShareGroupStateSummaryRequest.ReadStateSummaryData();
            t.topicId = topicId;
            ReadShareGroupStateSummaryRequest.PartitionData p = new ReadShareGroupStateSummaryRequest.PartitionData();
            p.partition = partition;
            p.leaderEpoch = -1;
            t.partitions.add(p);
            request.topics.add(t);
            ReadShareGroupStateSummaryResponse response = (ReadShareGroupStateSummaryResponse) transport.send(
                    brokerId, ApiKey.READ_SHARE_GROUP_STATE_SUMMARY, SUMMARY_VERSION, request);
            ReadShareGroupStateSummaryResponse.PartitionResult rp = resultFor(key, response.results,
                    rt -> rt.topicId, rt -> rt.partitions, r -> r.partition);
            check(rp.errorCode, rp.errorMessage);
            return new Stored(rp.stateEpoch, rp.startOffset, List.of());
        });
    }

    @Override
    public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long startOffset) {
        SharePersister.await(initializeAsync(groupId, topicId, partition, stateEpoch, startOffset));
    }

    @Override
    public CompletableFuture<Void> initializeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                                   long startOffset) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, topicId, partition);
        return callAsync(key, () -> local.initializeAsync(groupId, topicId, partition, stateEpoch, startOffset),
                brokerId -> initializeRemote(key, stateEpoch, startOffset, brokerId), 1);
    }

    private Void initializeRemote(ShareStateCoordinator.Key key, int stateEpoch, long startOffset, int brokerId)
            throws IOException {
        String groupId = key.groupId();
        UUID topicId = key.topicId();
        int partition = key.partition();
        InitializeShareGroupStateRequest request = new InitializeShareGroupStateRequest();
        request.groupId = groupId;
        InitializeShareGroupStateRequest.InitializeStateData t = new InitializeShareGroupStateRequest.InitializeStateData();
        t.topicId = topicId;
        InitializeShareGroupStateRequest.PartitionData p = new InitializeShareGroupStateRequest.PartitionData();
        p.partition = partition;
        p.stateEpoch = stateEpoch;
        p.startOffset = startOffset;
        t.partitions.add(p);
        request.topics.add(t);
        InitializeShareGroupStateResponse response = (InitializeShareGroupStateResponse) transport.send(brokerId,
                ApiKey.INITIALIZE_SHARE_GROUP_STATE, INITIALIZE_VERSION, request);
        InitializeShareGroupStateResponse.PartitionResult rp = resultFor(key, response.results, rt -> rt.topicId,
                rt -> rt.partitions, r -> r.partition);
        check(rp.errorCode, rp.errorMessage);
        return null;
    }

    @Override
    public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                      long startOffset, List<ShareStateBatch> batches) {
        SharePersister.await(writeAsync(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, batches));
    }

    @Override
    public CompletableFuture<Void> writeAsync(String groupId, UUID topicId, int partition, int stateEpoch,
                                              int leaderEpoch, long startOffset, List<ShareStateBatch> batches) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, topicId, partition);
        return callAsync(key, () -> local.writeAsync(groupId, topicId, partition, stateEpoch, leaderEpoch,
                startOffset, batches), brokerId -> writeRemote(key, stateEpoch, leaderEpoch, startOffset, batches,
                brokerId), 1);
    }

    private Void writeRemote(ShareStateCoordinator.Key key, int stateEpoch, int leaderEpoch, long startOffset,
                             List<ShareStateBatch> batches, int brokerId) throws IOException {
        String groupId = key.groupId();
        UUID topicId = key.topicId();
        int partition = key.partition();
        WriteShareGroupStateRequest request = new WriteShareGroupStateRequest();
        request.groupId = groupId;
        WriteShareGroupStateRequest.WriteStateData t = new WriteShareGroupStateRequest.WriteStateData();
        t.topicId = topicId;
        WriteShareGroupStateRequest.PartitionData p = new WriteShareGroupStateRequest.PartitionData();
        p.partition = partition;
        p.stateEpoch = stateEpoch;
        p.leaderEpoch = leaderEpoch;
        p.startOffset = startOffset;
        p.deliveryCompleteCount = -1;
        for (ShareStateBatch b : batches) {
            WriteShareGroupStateRequest.StateBatch wire = new WriteShareGroupStateRequest.StateBatch();
            wire.firstOffset = b.firstOffset();
            wire.lastOffset = b.lastOffset();
            wire.deliveryState = b.deliveryState();
            wire.deliveryCount = b.deliveryCount();
            p.stateBatches.add(wire);
        }
        t.partitions.add(p);
        request.topics.add(t);
        WriteShareGroupStateResponse response = (WriteShareGroupStateResponse) transport.send(brokerId,
                ApiKey.WRITE_SHARE_GROUP_STATE, WRITE_VERSION, request);
        WriteShareGroupStateResponse.PartitionResult rp = resultFor(key, response.results, rt -> rt.topicId,
                rt -> rt.partitions, r -> r.partition);
        check(rp.errorCode, rp.errorMessage);
        return null;
    }

    @Override
    public void delete(String groupId, UUID topicId, int partition) {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(groupId, topicId, partition);
        call(key, () -> {
            local.delete(groupId, topicId, partition);
            return null;
        }, brokerId -> {
            DeleteShareGroupStateRequest request = new DeleteShareGroupStateRequest();
            request.groupId = groupId;
            DeleteShareGroupStateRequest.DeleteStateData t = new DeleteShareGroupStateRequest.DeleteStateData();
            t.topicId = topicId;
            DeleteShareGroupStateRequest.PartitionData p = new DeleteShareGroupStateRequest.PartitionData();
            p.partition = partition;
            t.partitions.add(p);
            request.topics.add(t);
            DeleteShareGroupStateResponse response = (DeleteShareGroupStateResponse) transport.send(brokerId,
                    ApiKey.DELETE_SHARE_GROUP_STATE, DELETE_VERSION, request);
            DeleteShareGroupStateResponse.PartitionResult rp = resultFor(key, response.results, rt -> rt.topicId,
                    rt -> rt.partitions, r -> r.partition);
            check(rp.errorCode, rp.errorMessage);
            return null;
        });
    }

    /**
     * The share groups with state at this broker's own share coordinator: another broker's state partitions are
     * that broker's to list (its share groups come back from {@code __consumer_offsets} where they are coordinated).
     */
    @Override
    public Map<String, Map<UUID, List<Integer>>> stored() {
        return local.stored();
    }

    private interface Local<T> {
        T call();
    }

    private interface Remote<T> {
        T call(int brokerId) throws IOException;
    }

    /** One attempt, and one more after a backoff when the coordinator moved, was loading or could not be reached. */
    private <T> T call(ShareStateCoordinator.Key key, Local<T> here, Remote<T> there) {
        for (int attempt = 1; ; attempt++) {
            try {
                return once(key, here, there);
            } catch (ApiException e) {
                if (attempt >= 2 || !retriable(e.error())) throw e;
            }
            try {
                Thread.sleep(RETRY_BACKOFF_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Interrupted while waiting for the share coordinator.");
            }
        }
    }

    /**
     * {@link #call} without parking the caller: a share coordinator on this broker answers through its future, one on
     * another broker is called on {@link #remoteCalls}, and the second attempt waits out the backoff on a timer.
     */
    private <T> CompletableFuture<T> callAsync(ShareStateCoordinator.Key key, Supplier<CompletableFuture<T>> here,
                                               Remote<T> there, int attempt) {
        CompletableFuture<T> once;
        try {
            once = leadsHere.test(coordinator.partitionFor(key)) ? here.get()
                    : CompletableFuture.supplyAsync(() -> remote(key, there), remoteCalls);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            once = CompletableFuture.failedFuture(new ApiException(COORDINATOR_NOT_AVAILABLE,
                    "Too many calls to share coordinators under way."));
        } catch (RuntimeException e) {
            once = CompletableFuture.failedFuture(e);
        }
        return once.exceptionallyCompose(e -> {
            RuntimeException failure = SharePartitionWriter.unwrap(e);
            if (attempt >= 2 || !(failure instanceof ApiException api) || !retriable(api.error())) {
                return CompletableFuture.failedFuture(failure);
            }
            // The JDK's timer wakes the retry on its shared pool; a call to another broker then goes to remoteCalls.
            return CompletableFuture.runAsync(() -> { },
                            CompletableFuture.delayedExecutor(RETRY_BACKOFF_MS, TimeUnit.MILLISECONDS))
                    .thenCompose(v -> callAsync(key, here, there, attempt + 1));
        });
    }

    private <T> T once(ShareStateCoordinator.Key key, Local<T> here, Remote<T> there) {
        if (leadsHere.test(coordinator.partitionFor(key))) return here.call();
        return remote(key, there);
    }

    /** One call to the broker that leads the share-partition's state partition. */
    private <T> T remote(ShareStateCoordinator.Key key, Remote<T> there) {
        int statePartition = coordinator.partitionFor(key);
        int leader = leaderOf.applyAsInt(statePartition);
        if (leader < 0) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "No share coordinator for " + key.coordinatorKey()
                    + " yet.");
        }
        try {
            return there.call(leader);
        } catch (IOException e) {
            throw new ApiException(COORDINATOR_NOT_AVAILABLE, "Share coordinator " + leader + " of "
                    + key.coordinatorKey() + " not reachable: " + e.getMessage());
        }
    }

    private static boolean retriable(short error) {
        return error == NOT_COORDINATOR || error == COORDINATOR_NOT_AVAILABLE || error == COORDINATOR_LOAD_IN_PROGRESS;
    }

    private static void check(short error, String message) {
        if (error != io.tandem.server.kafka.ErrorCodes.NONE) {
            throw new ApiException(error, message != null ? message : Errors.forCode(error).message());
        }
    }

    /** The share-partition's result in a share-state response, whichever of the four RPCs answered. */
    private static <T, P> P resultFor(ShareStateCoordinator.Key key, List<T> topics, Function<T, UUID> topicOf,
                                      Function<T, List<P>> partitionsOf, ToIntFunction<P> partitionOf) {
        for (T topic : topics) {
            if (!key.topicId().equals(topicOf.apply(topic))) continue;
            for (P result : partitionsOf.apply(topic)) {
                if (partitionOf.applyAsInt(result) == key.partition()) return result;
            }
        }
        throw missing(key);
    }

    private static ApiException missing(ShareStateCoordinator.Key key) {
        return new ApiException(UNKNOWN_SERVER_ERROR, "The share coordinator did not answer for "
                + key.coordinatorKey() + ".");
    }
}
