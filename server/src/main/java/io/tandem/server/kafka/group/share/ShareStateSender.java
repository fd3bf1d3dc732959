package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.network.InterBrokerClient;

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
import static io.tandem.server.kafka.ErrorCodes.UNSUPPORTED_VERSION;

/**
 * Sends a persister's calls to share coordinators on other brokers, batched per coordinator node as Kafka 4.4's
 * PersisterStateManager does: calls queue per node, RPC and group, and each request carries every share-partition
 * queued for that node, RPC and group when it is sent (the schemas allow one group per request).
 *
 * <p>One request is under way to a node at a time, as on Kafka's persister connection: its NetworkClient
 * (NetworkUtils.buildNetworkClient) has max.in.flight.requests.per.connection 1, so a node's reads, writes,
 * summaries, initializations, deletions and lookups take turns on one socket. Calls made meanwhile queue and go
 * together when their turn comes: the RPCs with calls queued take turns in a fixed rotation, each turn one request
 * holding everything queued for that RPC and one group, so the busier a coordinator, the larger its batches, and no
 * RPC waits behind more than one request of each other RPC. (Kafka fixes a request's batch when it generates it and
 * then waits for the connection; here the batch is taken when the connection is free, so it holds every call made
 * until then.)
 *
 * <p>No thread waits here: the {@link ShareCoordinatorPersister.Transport} is the non-blocking inter-broker client
 * ({@code InterBrokerClient}), and a node's next request goes out from the thread that completed its previous one
 * (the client's work thread, never an event loop). Calls queued per node and RPC are bounded
 * ({@link #QUEUED_CALLS_MAX}, lookups too); past it a call fails COORDINATOR_NOT_AVAILABLE, which its caller retries
 * later.
 */
final class ShareStateSender implements AutoCloseable {
    /** Share-partition calls of one RPC waiting for one node; beyond it they fail COORDINATOR_NOT_AVAILABLE at once. */
    static final int QUEUED_CALLS_MAX = 10_000;
    /** Requests under way to one node at once, as Kafka's persister NetworkClient (max.in.flight 1). */
    static final int REQUESTS_IN_FLIGHT_PER_NODE = 1;

    private record Call(ShareStateRequests.Part part, CompletableFuture<ShareStateRequests.Result> answer) {
    }

    /** One request's worth of calls: one group, no share-partition twice. */
    private record Batch(String groupId, List<Call> calls) {
    }

    /** One node's calls of one RPC, queued by group, and the batches of the round being sent (node's monitor). */
    private static final class Lane {
        Map<String, List<Call>> queued = new LinkedHashMap<>();
        int queuedCalls;
        final ArrayDeque<Batch> round = new ArrayDeque<>();
    }

    /** A request sent alone (a FindCoordinator), waiting for its turn on the node. */
    private record Lookup(ApiKey key, short minVersion, short maxVersion, ApiMessage request,
                          CompletableFuture<ApiMessage> answer) {
    }

    /** One coordinator node: its lanes, its lookups, and whether a request is under way to it (guarded by itself). */
    private static final class Node {
        final int brokerId;
        final Map<ShareStateRequests.Rpc, Lane> lanes = new EnumMap<>(ShareStateRequests.Rpc.class);
        final ArrayDeque<Lookup> lookups = new ArrayDeque<>();
        /** The lane whose turn is next: the RPCs take turns, so none starves behind another's steady calls. */
        int nextLane;
        /** Whether a request to this node is under way: every other waits for its answer. */
        boolean busy;

        Node(int brokerId) {
            this.brokerId = brokerId;
            for (ShareStateRequests.Rpc r : ShareStateRequests.Rpc.values()) lanes.put(r, new Lane());
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
        Call call = new Call(part, new CompletableFuture<>());
        boolean start;
        synchronized (node) {
            Lane lane = node.lanes.get(rpc);
            if (lane.queuedCalls >= QUEUED_CALLS_MAX) {
                return CompletableFuture.failedFuture(new ApiException(COORDINATOR_NOT_AVAILABLE,
                        QUEUED_CALLS_MAX + " " + rpc.key + " calls already wait for broker " + brokerId + "."));
            }
            lane.queued.computeIfAbsent(groupId, g -> new ArrayList<>()).add(call);
            lane.queuedCalls++;
            start = !node.busy;
            node.busy = true;
        }
        if (start) drain(node);
        return call.answer();
    }

    /** Sends one request to {@code brokerId} unbatched (a FindCoordinator), in its turn on the node. */
    CompletableFuture<ApiMessage> sendOne(int brokerId, ApiKey key, short minVersion, short maxVersion,
                                          ApiMessage request) {
        Node node = node(brokerId);
        if (node == null) return CompletableFuture.failedFuture(shuttingDown());
        Lookup lookup = new Lookup(key, minVersion, maxVersion, request, new CompletableFuture<>());
        boolean start;
        synchronized (node) {
            if (node.lookups.size() >= QUEUED_CALLS_MAX) {
                return CompletableFuture.failedFuture(new ApiException(COORDINATOR_NOT_AVAILABLE,
                        QUEUED_CALLS_MAX + " lookups already wait for broker " + brokerId + "."));
            }
            node.lookups.add(lookup);
            start = !node.busy;
            node.busy = true;
        }
        if (start) drain(node);
        return lookup.answer();
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

    /**
     * Sends the node's requests one at a time, each once the one before it was answered: a waiting lookup first
     * (the calls behind it need its answer), else the next lane in turn with calls, one batch of it (a lane's round
     * takes everything of its RPC queued for the node, one request per group; calls queued meanwhile go in its next
     * round, together). Runs on the caller's thread for the first request and then on the thread completing each
     * request (the inter-broker client's work thread); a transport answering at once is drained in this loop, not by
     * recursion.
     */
    private void drain(Node node) {
        ShareStateRequests.Rpc[] rpcs = ShareStateRequests.Rpc.values();
        while (true) {
            Lookup lookup;
            Batch next = null;
            ShareStateRequests.Rpc rpc = null;
            synchronized (node) {
                lookup = node.lookups.poll();
                for (int i = 0; lookup == null && next == null && i < rpcs.length; i++) {
                    int at = (node.nextLane + i) % rpcs.length;
                    Lane lane = node.lanes.get(rpcs[at]);
                    if (lane.round.isEmpty() && lane.queuedCalls > 0) {
                        for (Map.Entry<String, List<Call>> byGroup : lane.queued.entrySet()) {
                            for (List<Call> batch : distinct(byGroup.getValue())) {
                                lane.round.add(new Batch(byGroup.getKey(), batch));
                            }
                        }
                        lane.queued = new LinkedHashMap<>();
                        lane.queuedCalls = 0;
                    }
                    next = lane.round.poll();
                    if (next != null) {
                        rpc = rpcs[at];
                        node.nextLane = (at + 1) % rpcs.length;
                    }
                }
                if (lookup == null && next == null) {
                    node.busy = false;
                    return;
                }
            }
            CompletableFuture<?> sent = lookup != null ? sendLookup(node.brokerId, lookup)
                    : sendBatch(node.brokerId, rpc, next.groupId(), next.calls());
            if (!sent.isDone()) {
                sent.whenComplete((v, e) -> drain(node));
                return;
            }
        }
    }

    /** Sends a lookup; the future completes (never exceptionally) once its answer is passed on. */
    private CompletableFuture<Void> sendLookup(int brokerId, Lookup lookup) {
        CompletableFuture<ApiMessage> answer;
        try {
            answer = sendCounted(brokerId, lookup.key(), lookup.minVersion(), lookup.maxVersion(), lookup.request());
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.handle((response, e) -> {
            if (e != null) {
                lookup.answer().completeExceptionally(failure(brokerId, e));
            } else {
                lookup.answer().complete(response);
            }
            return null;
        });
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
            answer = sendCounted(brokerId, rpc.key, rpc.minVersion, rpc.maxVersion,
                    ShareStateRequests.request(rpc, groupId, parts));
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

    private CompletableFuture<ApiMessage> sendCounted(int brokerId, ApiKey key, short minVersion, short maxVersion,
                                                      ApiMessage request) {
        requestsSent.computeIfAbsent(key, k -> new LongAdder()).increment();
        return transport.send(brokerId, key, minVersion, maxVersion, request);
    }

    /**
     * A coordinator that serves no version of the request is UNSUPPORTED_VERSION, not retried (Kafka's persister
     * answers a versionMismatch with it); a lost or refused connection is COORDINATOR_NOT_AVAILABLE (the persister
     * retries it); others as they are.
     */
    private static RuntimeException failure(int brokerId, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof InterBrokerClient.UnsupportedVersion unsupported) {
            return new ApiException(UNSUPPORTED_VERSION, unsupported.getMessage());
        }
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
        List<Node> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(nodes.values());
            nodes.clear();
        }
        ApiException failure = shuttingDown();
        for (Node node : all) {
            List<Call> dropped = new ArrayList<>();
            List<Lookup> lookups;
            synchronized (node) {
                for (Lane lane : node.lanes.values()) {
                    lane.queued.values().forEach(dropped::addAll);
                    lane.round.forEach(b -> dropped.addAll(b.calls()));
                    lane.queued = new LinkedHashMap<>();
                    lane.queuedCalls = 0;
                    lane.round.clear();
                }
                lookups = new ArrayList<>(node.lookups);
                node.lookups.clear();
            }
            dropped.forEach(c -> c.answer().completeExceptionally(failure));
            lookups.forEach(l -> l.answer().completeExceptionally(failure));
        }
    }
}
