package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.ApiException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static io.tandem.server.kafka.ErrorCodes.COORDINATOR_NOT_AVAILABLE;
import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR;

/**
 * Sends a persister's calls to share coordinators on other brokers, batched per coordinator node as Kafka 4.4's
 * PersisterStateManager does: calls queue per node, RPC and group, and each request carries every share-partition
 * queued for that node, RPC and group when it is sent (the schemas allow one group per request). As Kafka's (its
 * {@code inFlight} set per RPC type), a node's next request of an RPC waits only while a request of that same RPC
 * is under way to the node: the calls of that RPC queue behind it, so the busier a coordinator, the larger its
 * batches, while a node's reads, writes, summaries, initializations and deletions go out independently.
 *
 * <p>Each node has one sending thread per RPC (a lane), plus one for its FindCoordinator lookups, which runs only
 * while that lane has calls queued (then ends after {@link #IDLE_THREAD_MS}): the inter-broker channel
 * ({@link ShareCoordinatorPersister.Transport}) is the blocking {@code BrokerChannel} that the controller's per-broker
 * send threads and the replica fetchers use, so the waiting is done there, at most six threads per coordinator node
 * (bounded by the cluster's size), and never by a caller: a request handler, an event loop, the group coordinator, or
 * the thread completing a local share coordinator's write. Answers complete the callers' futures on that thread.
 * Calls queued per lane are bounded ({@link #QUEUED_CALLS_MAX}); past it a call fails COORDINATOR_NOT_AVAILABLE,
 * which its caller retries later.
 */
final class ShareStateSender implements AutoCloseable {
    /** Share-partition calls of one RPC waiting for one node; beyond it they fail COORDINATOR_NOT_AVAILABLE at once. */
    static final int QUEUED_CALLS_MAX = 10_000;
    /** Single requests (FindCoordinator) waiting for one node's lookup thread. */
    static final int QUEUED_REQUESTS_MAX = 1_024;
    /** How long a lane's sending thread outlives its last call. */
    static final long IDLE_THREAD_MS = 30_000;

    private record Call(ShareStateRequests.Part part, CompletableFuture<ShareStateRequests.Result> answer) {
    }

    /** One node's sending thread for one RPC (or, {@code rpc} null, for lookups) and its calls queued by group. */
    private static final class Lane {
        final int brokerId;
        final ThreadPoolExecutor thread;
        /** Guarded by this lane. */
        Map<String, List<Call>> queued = new LinkedHashMap<>();
        int queuedCalls;
        /** Whether a request of this lane is under way (its thread is draining): the next calls wait for it. */
        boolean draining;

        Lane(int brokerId, ShareStateRequests.Rpc rpc) {
            this.brokerId = brokerId;
            String name = "share-persister-to-broker-" + brokerId + "-"
                    + (rpc == null ? "lookup" : rpc.name().toLowerCase(Locale.ROOT));
            // No thread until the first call (the pool starts it lazily), none after IDLE_THREAD_MS without one.
            this.thread = new ThreadPoolExecutor(1, 1, IDLE_THREAD_MS, TimeUnit.MILLISECONDS,
                    new ArrayBlockingQueue<>(QUEUED_REQUESTS_MAX), r -> {
                        Thread t = new Thread(r, name);
                        t.setDaemon(true);
                        return t;
                    });
            thread.allowCoreThreadTimeOut(true);
        }
    }

    /** A coordinator node: a lane per RPC and one for lookups. */
    private static final class Node {
        final Map<ShareStateRequests.Rpc, Lane> lanes = new EnumMap<>(ShareStateRequests.Rpc.class);
        final Lane lookups;

        Node(int brokerId) {
            for (ShareStateRequests.Rpc rpc : ShareStateRequests.Rpc.values()) lanes.put(rpc, new Lane(brokerId, rpc));
            lookups = new Lane(brokerId, null);
        }

        List<Lane> all() {
            List<Lane> all = new ArrayList<>(lanes.values());
            all.add(lookups);
            return all;
        }
    }

    private final ShareCoordinatorPersister.Transport transport;
    private final Map<Integer, Node> nodes = new HashMap<>();
    private final Map<ApiKey, LongAdder> requestsSent = new ConcurrentHashMap<>();
    private boolean closed;

    ShareStateSender(ShareCoordinatorPersister.Transport transport) {
        this.transport = transport;
    }

    /** Queues one share-partition's call to the coordinator on {@code brokerId}; completes with its result. */
    CompletableFuture<ShareStateRequests.Result> send(int brokerId, ShareStateRequests.Rpc rpc, String groupId,
                                                      ShareStateRequests.Part part) {
        Node node = node(brokerId);
        if (node == null) return CompletableFuture.failedFuture(shuttingDown());
        Lane lane = node.lanes.get(rpc);
        Call call = new Call(part, new CompletableFuture<>());
        boolean start;
        synchronized (lane) {
            if (lane.queuedCalls >= QUEUED_CALLS_MAX) {
                return CompletableFuture.failedFuture(new ApiException(COORDINATOR_NOT_AVAILABLE,
                        QUEUED_CALLS_MAX + " " + rpc.key + " calls already wait for broker " + brokerId + "."));
            }
            lane.queued.computeIfAbsent(groupId, g -> new ArrayList<>()).add(call);
            lane.queuedCalls++;
            start = !lane.draining;
            lane.draining = true;
        }
        if (start && !run(lane, () -> drain(lane, rpc))) failQueued(lane);
        return call.answer();
    }

    /** Sends one request on {@code brokerId}'s thread, unbatched (a FindCoordinator). */
    CompletableFuture<ApiMessage> sendOne(int brokerId, ApiKey key, short version, ApiMessage request) {
        Node node = node(brokerId);
        if (node == null) return CompletableFuture.failedFuture(shuttingDown());
        CompletableFuture<ApiMessage> answer = new CompletableFuture<>();
        boolean started = run(node.lookups, () -> {
            try {
                answer.complete(sendCounted(brokerId, key, version, request));
            } catch (IOException e) {
                answer.completeExceptionally(unreachable(brokerId, e));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        if (!started) {
            answer.completeExceptionally(new ApiException(COORDINATOR_NOT_AVAILABLE, QUEUED_REQUESTS_MAX
                    + " requests already wait for broker " + brokerId + ", or the broker is shutting down."));
        }
        return answer;
    }

    /** Requests of {@code key} sent so far (to any node): what batching saves shows here. */
    long requestsSent(ApiKey key) {
        LongAdder sent = requestsSent.get(key);
        return sent == null ? 0 : sent.sum();
    }

    private synchronized Node node(int brokerId) {
        if (closed) return null;
        return nodes.computeIfAbsent(brokerId, Node::new);
    }

    /** Whether the lane's thread took the task (not when closed, or its queue of single requests is full). */
    private static boolean run(Lane lane, Runnable task) {
        try {
            lane.thread.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** The lane's thread would not take its drain: every call queued fails (never sent on the caller's thread). */
    private static void failQueued(Lane lane) {
        Map<String, List<Call>> dropped;
        synchronized (lane) {
            dropped = lane.queued;
            lane.queued = new LinkedHashMap<>();
            lane.queuedCalls = 0;
            lane.draining = false;
        }
        ApiException failure = new ApiException(COORDINATOR_NOT_AVAILABLE, "Cannot send to broker " + lane.brokerId
                + " now (the broker is shutting down).");
        dropped.values().forEach(calls -> calls.forEach(c -> c.answer().completeExceptionally(failure)));
    }

    /**
     * On the lane's thread: sends everything of {@code rpc} queued for the node, one request per group, until
     * nothing is left; calls queued meanwhile go out in the next round, together.
     */
    private void drain(Lane lane, ShareStateRequests.Rpc rpc) {
        while (true) {
            Map<String, List<Call>> round;
            synchronized (lane) {
                if (lane.queuedCalls == 0) {
                    lane.draining = false;
                    return;
                }
                round = lane.queued;
                lane.queued = new LinkedHashMap<>();
                lane.queuedCalls = 0;
            }
            for (Map.Entry<String, List<Call>> byGroup : round.entrySet()) {
                for (List<Call> batch : distinct(byGroup.getValue())) {
                    sendBatch(lane.brokerId, rpc, byGroup.getKey(), batch);
                }
            }
        }
    }

    /**
     * The calls split so that no request names a share-partition twice (two calls for one share-partition, which
     * its own writer never queues together, but a heartbeat and an admin call may): the second goes in the next.
     */
    private static List<List<Call>> distinct(List<Call> calls) {
        List<List<Call>> batches = new ArrayList<>();
        List<Set<String>> keys = new ArrayList<>();
        for (Call call : calls) {
            String key = call.part().topicId() + ":" + call.part().partition();
            int i = 0;
            while (i < batches.size() && keys.get(i).contains(key)) i++;
            if (i == batches.size()) {
                batches.add(new ArrayList<>());
                keys.add(new HashSet<>());
            }
            batches.get(i).add(call);
            keys.get(i).add(key);
        }
        return batches;
    }

    private void sendBatch(int brokerId, ShareStateRequests.Rpc rpc, String groupId, List<Call> batch) {
        List<ShareStateRequests.Part> parts = new ArrayList<>(batch.size());
        for (Call c : batch) parts.add(c.part());
        List<ShareStateRequests.Result> results;
        try {
            results = ShareStateRequests.results(rpc, sendCounted(brokerId, rpc.key, rpc.version,
                    ShareStateRequests.request(rpc, groupId, parts)));
        } catch (IOException e) {
            ApiException failure = unreachable(brokerId, e);
            for (Call c : batch) c.answer().completeExceptionally(failure);
            return;
        } catch (RuntimeException e) {
            for (Call c : batch) c.answer().completeExceptionally(e);
            return;
        }
        for (Call c : batch) {
            ShareStateRequests.Result found = null;
            for (ShareStateRequests.Result r : results) {
                if (r.topicId().equals(c.part().topicId()) && r.partition() == c.part().partition()) {
                    found = r;
                    break;
                }
            }
            if (found != null) {
                c.answer().complete(found);
            } else {
                c.answer().completeExceptionally(new ApiException(UNKNOWN_SERVER_ERROR, "The share coordinator on "
                        + "broker " + brokerId + " did not answer for " + groupId + ":" + c.part().topicId() + ":"
                        + c.part().partition() + "."));
            }
        }
    }

    private ApiMessage sendCounted(int brokerId, ApiKey key, short version, ApiMessage request) throws IOException {
        requestsSent.computeIfAbsent(key, k -> new LongAdder()).increment();
        return transport.send(brokerId, key, version, request);
    }

    private static ApiException unreachable(int brokerId, IOException e) {
        return new ApiException(COORDINATOR_NOT_AVAILABLE, "Share coordinator " + brokerId + " not reachable: "
                + e.getMessage());
    }

    private static ApiException shuttingDown() {
        return new ApiException(COORDINATOR_NOT_AVAILABLE, "The broker is shutting down.");
    }

    /** Stops the sending threads; calls under way end with their channel's failure (the channels close too). */
    @Override
    public void close() {
        List<Node> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(nodes.values());
            nodes.clear();
        }
        for (Node n : all) n.all().forEach(lane -> lane.thread.shutdown());
    }
}
