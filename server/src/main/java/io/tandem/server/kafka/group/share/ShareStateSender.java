package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.ApiException;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p>No thread waits here: the {@link ShareCoordinatorPersister.Transport} is the non-blocking inter-broker client
 * ({@code InterBrokerClient}), whose connection to a node carries up to {@link #LANES} requests at once (one per
 * RPC and one lookup), and a lane's next request goes out from the thread that completed its previous one (the
 * client's work thread, never an event loop). Calls queued per lane are bounded ({@link #QUEUED_CALLS_MAX}); past it
 * a call fails COORDINATOR_NOT_AVAILABLE, which its caller retries later.
 */
final class ShareStateSender implements AutoCloseable {
    /** Share-partition calls of one RPC waiting for one node; beyond it they fail COORDINATOR_NOT_AVAILABLE at once. */
    static final int QUEUED_CALLS_MAX = 10_000;
    /** Requests a node's connection carries at once: one per RPC (each lane's one under way) and one lookup. */
    static final int LANES = ShareStateRequests.Rpc.values().length + 1;

    private record Call(ShareStateRequests.Part part, CompletableFuture<ShareStateRequests.Result> answer) {
    }

    /** One request's worth of calls: one group, no share-partition twice. */
    private record Batch(String groupId, List<Call> calls) {
    }

    /** One node's calls of one RPC, queued by group, and the batches of the round being sent. */
    private static final class Lane {
        final int brokerId;
        /** Guarded by this lane. */
        Map<String, List<Call>> queued = new LinkedHashMap<>();
        int queuedCalls;
        final ArrayDeque<Batch> round = new ArrayDeque<>();
        /** Whether a request of this lane is under way: the next calls wait for it. */
        boolean draining;

        Lane(int brokerId) {
            this.brokerId = brokerId;
        }
    }

    private final ShareCoordinatorPersister.Transport transport;
    private final Map<Integer, Map<ShareStateRequests.Rpc, Lane>> nodes = new HashMap<>();
    private final Map<ApiKey, LongAdder> requestsSent = new ConcurrentHashMap<>();
    private boolean closed;

    ShareStateSender(ShareCoordinatorPersister.Transport transport) {
        this.transport = transport;
    }

    /** Queues one share-partition's call to the coordinator on {@code brokerId}; completes with its result. */
    CompletableFuture<ShareStateRequests.Result> send(int brokerId, ShareStateRequests.Rpc rpc, String groupId,
                                                      ShareStateRequests.Part part) {
        Lane lane = lane(brokerId, rpc);
        if (lane == null) return CompletableFuture.failedFuture(shuttingDown());
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
        if (start) drain(lane, rpc);
        return call.answer();
    }

    /** Sends one request to {@code brokerId}, unbatched (a FindCoordinator). */
    CompletableFuture<ApiMessage> sendOne(int brokerId, ApiKey key, short version, ApiMessage request) {
        synchronized (this) {
            if (closed) return CompletableFuture.failedFuture(shuttingDown());
        }
        return sendCounted(brokerId, key, version, request).exceptionallyCompose(e -> CompletableFuture
                .failedFuture(failure(brokerId, e)));
    }

    /** Requests of {@code key} sent so far (to any node): what batching saves shows here. */
    long requestsSent(ApiKey key) {
        LongAdder sent = requestsSent.get(key);
        return sent == null ? 0 : sent.sum();
    }

    private synchronized Lane lane(int brokerId, ShareStateRequests.Rpc rpc) {
        if (closed) return null;
        return nodes.computeIfAbsent(brokerId, id -> {
            Map<ShareStateRequests.Rpc, Lane> lanes = new EnumMap<>(ShareStateRequests.Rpc.class);
            for (ShareStateRequests.Rpc r : ShareStateRequests.Rpc.values()) lanes.put(r, new Lane(id));
            return lanes;
        }).get(rpc);
    }

    /**
     * Sends the lane's batches one request at a time: a round takes everything of {@code rpc} queued for the node
     * (one request per group), and calls queued meanwhile go out in the next round, together. Runs on the caller's
     * thread for the first request and then on the thread completing each request (the inter-broker client's work
     * thread); a transport answering at once is drained in this loop, not by recursion.
     */
    private void drain(Lane lane, ShareStateRequests.Rpc rpc) {
        while (true) {
            Batch next;
            synchronized (lane) {
                if (lane.round.isEmpty()) {
                    if (lane.queuedCalls == 0) {
                        lane.draining = false;
                        return;
                    }
                    for (Map.Entry<String, List<Call>> byGroup : lane.queued.entrySet()) {
                        for (List<Call> batch : distinct(byGroup.getValue())) {
                            lane.round.add(new Batch(byGroup.getKey(), batch));
                        }
                    }
                    lane.queued = new LinkedHashMap<>();
                    lane.queuedCalls = 0;
                }
                next = lane.round.poll();
            }
            CompletableFuture<Void> sent = sendBatch(lane.brokerId, rpc, next.groupId(), next.calls());
            if (!sent.isDone()) {
                sent.whenComplete((v, e) -> drain(lane, rpc));
                return;
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

    /** Sends one batch; the future completes (never exceptionally) once every call of it has its answer. */
    private CompletableFuture<Void> sendBatch(int brokerId, ShareStateRequests.Rpc rpc, String groupId,
                                              List<Call> batch) {
        List<ShareStateRequests.Part> parts = new ArrayList<>(batch.size());
        for (Call c : batch) parts.add(c.part());
        CompletableFuture<ApiMessage> answer;
        try {
            answer = sendCounted(brokerId, rpc.key, rpc.version, ShareStateRequests.request(rpc, groupId, parts));
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.handle((response, e) -> {
            if (e != null) {
                RuntimeException failure = failure(brokerId, e);
                for (Call c : batch) c.answer().completeExceptionally(failure);
                return null;
            }
            List<ShareStateRequests.Result> results;
            try {
                results = ShareStateRequests.results(rpc, response);
            } catch (RuntimeException bad) {
                for (Call c : batch) c.answer().completeExceptionally(bad);
                return null;
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
                    c.answer().completeExceptionally(new ApiException(UNKNOWN_SERVER_ERROR, "The share coordinator "
                            + "on broker " + brokerId + " did not answer for " + groupId + ":" + c.part().topicId()
                            + ":" + c.part().partition() + "."));
                }
            }
            return null;
        });
    }

    private CompletableFuture<ApiMessage> sendCounted(int brokerId, ApiKey key, short version, ApiMessage request) {
        requestsSent.computeIfAbsent(key, k -> new LongAdder()).increment();
        return transport.send(brokerId, key, version, request);
    }

    /** A lost or refused connection is COORDINATOR_NOT_AVAILABLE (the persister retries it); others as they are. */
    private static RuntimeException failure(int brokerId, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof IOException io) {
            return new ApiException(COORDINATOR_NOT_AVAILABLE, "Share coordinator " + brokerId + " not reachable: "
                    + io.getMessage());
        }
        return cause instanceof RuntimeException r ? r : new CompletionException(cause);
    }

    private static ApiException shuttingDown() {
        return new ApiException(COORDINATOR_NOT_AVAILABLE, "The broker is shutting down.");
    }

    /** Fails every call still queued; requests under way end with the transport's failure when it closes. */
    @Override
    public void close() {
        List<Lane> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            for (Map<ShareStateRequests.Rpc, Lane> lanes : nodes.values()) all.addAll(lanes.values());
            nodes.clear();
        }
        ApiException failure = shuttingDown();
        for (Lane lane : all) {
            List<Call> dropped = new ArrayList<>();
            synchronized (lane) {
                lane.queued.values().forEach(dropped::addAll);
                lane.round.forEach(b -> dropped.addAll(b.calls()));
                lane.queued = new LinkedHashMap<>();
                lane.queuedCalls = 0;
                lane.round.clear();
            }
            dropped.forEach(c -> c.answer().completeExceptionally(failure));
        }
    }
}
