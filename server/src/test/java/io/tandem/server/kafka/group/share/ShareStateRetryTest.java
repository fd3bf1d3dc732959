package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Kafka's PersisterStateManager's retries and per-RPC sending, against a share coordinator that is not there yet:
 * the exponential backoff sequence (1 s * 2^attempts, jitter 0.2, capped at 30 s, five attempts), a call that
 * succeeds once FindCoordinator names a coordinator after a few COORDINATOR_NOT_AVAILABLE, the lookup and request
 * attempts counted apart, and a node's request under way holding back every other request to that node.
 */
class ShareStateRetryTest {
    private static final UUID TOPIC = new UUID(7, 7);
    private static final int COORDINATOR = 2;
    private final ShareStateCoordinator states = new ShareStateCoordinator(10, new InMemoryStateLog(),
            (t, p) -> TOPIC.equals(t), () -> 1L);
    /** The backoffs the persister asked for; each retry runs at once (no test waits out 30 s). */
    private final List<Long> waits = Collections.synchronizedList(new ArrayList<>());

    private ShareCoordinatorPersister persister(int metadataLeader, ShareCoordinatorPersister.Transport transport) {
        return new ShareCoordinatorPersister(states, statePartition -> false, statePartition -> metadataLeader,
                () -> List.of(1), transport, (delayMs, retry) -> {
                    waits.add(delayMs);
                    retry.run();
                });
    }

    private static FindCoordinatorResponse found(short error, int nodeId) {
        FindCoordinatorResponse response = new FindCoordinatorResponse();
        FindCoordinatorResponse.Coordinator c = new FindCoordinatorResponse.Coordinator();
        c.errorCode = error;
        c.nodeId = nodeId;
        response.coordinators = new ArrayList<>(List.of(c));
        return response;
    }

    private static ReadShareGroupStateSummaryResponse summary(short error, long startOffset) {
        ReadShareGroupStateSummaryResponse.PartitionResult p = new ReadShareGroupStateSummaryResponse.PartitionResult();
        p.partition = 0;
        p.errorCode = error;
        p.stateEpoch = 1;
        p.startOffset = startOffset;
        ReadShareGroupStateSummaryResponse.ReadStateSummaryResult t =
                new ReadShareGroupStateSummaryResponse.ReadStateSummaryResult();
        t.topicId = TOPIC;
        t.partitions = new ArrayList<>(List.of(p));
        ReadShareGroupStateSummaryResponse response = new ReadShareGroupStateSummaryResponse();
        response.results = new ArrayList<>(List.of(t));
        return response;
    }

    private static ReadShareGroupStateResponse read(int partition, long startOffset) {
        ReadShareGroupStateResponse.PartitionResult p = new ReadShareGroupStateResponse.PartitionResult();
        p.partition = partition;
        p.stateEpoch = 1;
        p.startOffset = startOffset;
        p.stateBatches = new ArrayList<>();
        ReadShareGroupStateResponse.ReadStateResult t = new ReadShareGroupStateResponse.ReadStateResult();
        t.topicId = TOPIC;
        t.partitions = new ArrayList<>(List.of(p));
        ReadShareGroupStateResponse response = new ReadShareGroupStateResponse();
        response.results = new ArrayList<>(List.of(t));
        return response;
    }

    private static CompletableFuture<ApiMessage> answered(ApiMessage response) {
        return CompletableFuture.completedFuture(response);
    }

    private static void assertWaited(List<Long> waits, int... attempts) {
        assertEquals(attempts.length, waits.size(), "backoffs " + waits);
        for (int i = 0; i < attempts.length; i++) {
            long term = 1_000L << attempts[i];
            long w = waits.get(i);
            assertTrue(w >= term * 0.8 && w <= Math.min(term * 1.2, 30_000), "backoff " + i + ": " + waits);
        }
    }

    @Test
    void theBackoffShouldGrowAsKafkasUpToItsCapAndFiveAttempts() {
        assertEquals(List.of(2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L),
                List.of(ShareStateBackoff.backoff(1, 1.0), ShareStateBackoff.backoff(2, 1.0),
                        ShareStateBackoff.backoff(3, 1.0), ShareStateBackoff.backoff(4, 1.0),
                        ShareStateBackoff.backoff(5, 1.0), ShareStateBackoff.backoff(9, 1.0)));
        assertEquals(1_600, ShareStateBackoff.backoff(1, 0.8));
        assertEquals(19_200, ShareStateBackoff.backoff(4, 1.2));
        assertEquals(30_000, ShareStateBackoff.backoff(5, 0.8 + 0.4 * 0.5), "never past the cap");

        ShareStateBackoff backoff = new ShareStateBackoff();
        List<Long> lookups = new ArrayList<>();
        for (int i = 0; i < 4; i++) lookups.add(backoff.afterFailure(true));
        assertWaited(lookups, 1, 2, 3, 4);
        assertEquals(-1, backoff.afterFailure(true), "the fifth failed lookup ends the call");

        // Requests count apart from lookups, and a lookup that names the coordinator starts the lookups over.
        ShareStateBackoff mixed = new ShareStateBackoff();
        List<Long> seen = new ArrayList<>();
        seen.add(mixed.afterFailure(true));
        seen.add(mixed.afterFailure(false));
        seen.add(mixed.afterFailure(true));
        mixed.lookupSucceeded();
        seen.add(mixed.afterFailure(true));
        seen.add(mixed.afterFailure(false));
        assertWaited(seen, 1, 1, 2, 1, 2);
    }

    @Test
    void aCallShouldSucceedOnceFindCoordinatorNamesTheCoordinatorAfterSomeFailures() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        try (ShareCoordinatorPersister p = persister(-1, (broker, key, minVersion, version, request) -> {
            if (key == ApiKey.FIND_COORDINATOR) {
                assertEquals(1, broker);
                return answered(lookups.incrementAndGet() <= 3 ? found(ErrorCodes.COORDINATOR_NOT_AVAILABLE, -1)
                        : found(ErrorCodes.NONE, COORDINATOR));
            }
            assertEquals(COORDINATOR, broker);
            assertEquals(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY, key);
            return answered(summary(ErrorCodes.NONE, 42));
        })) {
            assertEquals(42, p.summaryAsync("g", TOPIC, 0).get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(4, p.requestsSent(ApiKey.FIND_COORDINATOR));
            assertEquals(1, p.requestsSent(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY));
            assertWaited(waits, 1, 2, 3);
        }
    }

    @Test
    void aCallShouldFailAfterFiveFailedLookups() throws Exception {
        try (ShareCoordinatorPersister p = persister(-1, (broker, key, minVersion, version, request) ->
                answered(found(ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS, -1)))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> p.summaryAsync("g", TOPIC, 0).get(10, TimeUnit.SECONDS));
            assertEquals(ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS, ((ApiException) e.getCause()).error());
            assertEquals(5, p.requestsSent(ApiKey.FIND_COORDINATOR));
            assertWaited(waits, 1, 2, 3, 4);
        }
    }

    @Test
    void aRequestAnsweredNotCoordinatorShouldBeRetriedWithBackoff() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        try (ShareCoordinatorPersister p = persister(COORDINATOR, (broker, key, minVersion, version, request) ->
                answered(sent.incrementAndGet() <= 2 ? summary(ErrorCodes.NOT_COORDINATOR, -1)
                        : summary(ErrorCodes.NONE, 7)))) {
            assertEquals(7, p.summaryAsync("g", TOPIC, 0).get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(3, p.requestsSent(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY));
            assertWaited(waits, 1, 2);
        }
    }

    /**
     * One request under way per node, whatever its RPC, as Kafka's persister NetworkClient (max in flight 1): a
     * summary to the node waits for the read under way as the second read does. (This test asserted before that the
     * summary went at once, Kafka's per-RPC inFlight set alone; Kafka's connection holds it back too.)
     */
    @Test
    void aNodesRequestShouldHoldBackEveryOtherRequestToTheNode() throws Exception {
        CountDownLatch readUnderWay = new CountDownLatch(1);
        // The first read's answer, held back until the test releases it: the transport never waits.
        CompletableFuture<ApiMessage> firstReadAnswer = new CompletableFuture<>();
        AtomicInteger reads = new AtomicInteger();
        try (ShareCoordinatorPersister p = persister(COORDINATOR, (broker, key, minVersion, version, request) -> {
            if (key == ApiKey.READ_SHARE_GROUP_STATE) {
                if (reads.getAndIncrement() == 0) {
                    readUnderWay.countDown();
                    return firstReadAnswer;
                }
                return answered(read(1, 4));
            }
            return answered(summary(ErrorCodes.NONE, 5));
        })) {
            CompletableFuture<SharePersister.Stored> first = p.readAsync("g", TOPIC, 0, 0);
            assertTrue(readUnderWay.await(10, TimeUnit.SECONDS));
            CompletableFuture<SharePersister.Stored> second = p.readAsync("g", TOPIC, 1, 0);
            // Neither a summary to the same node nor the second read goes while the first read is under way.
            CompletableFuture<SharePersister.Stored> summary = p.summaryAsync("g", TOPIC, 0);
            assertFalse(second.isDone());
            assertFalse(summary.isDone());
            assertEquals(1, p.requestsSent(ApiKey.READ_SHARE_GROUP_STATE), "the second read is held back");
            assertEquals(0, p.requestsSent(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY), "the summary is held back");
            firstReadAnswer.complete(read(0, 3));
            assertEquals(3, first.get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(4, second.get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(5, summary.get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(2, p.requestsSent(ApiKey.READ_SHARE_GROUP_STATE));
        }
    }

    /**
     * Calls of every RPC to ten coordinator nodes whose answers never come: one request under way per node (Kafka's
     * persister connection carries one), the rest queued behind it, and no thread started for any of them (the
     * sender used to start a thread per node and RPC, each waiting on the network).
     */
    @Test
    void callsToManyNodesShouldKeepOneRequestPerNodeUnderWayWithoutAThread() throws Exception {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        List<CompletableFuture<ApiMessage>> unanswered = Collections.synchronizedList(new ArrayList<>());
        int before = threads.getThreadCount();
        java.util.Set<Integer> nodes = new java.util.HashSet<>();
        int partitions = 60;
        // A state topic of ten partitions, none led here: each is coordinated by node 100 + its number.
        InMemoryStateLog memory = new InMemoryStateLog();
        ShareStateCoordinator spread = new ShareStateCoordinator(10, new ShareStateCoordinator.StateLog() {
            @Override
            public int partitionCount() {
                return 10;
            }

            @Override
            public boolean leads(int partition) {
                return false;
            }

            @Override
            public long append(int partition, List<byte[][]> keyValues) {
                return memory.append(0, keyValues);
            }

            @Override
            public long endOffset(int partition) {
                return memory.endOffset(0);
            }

            @Override
            public void whenCommitted(int partition, long offset, java.util.function.Consumer<Short> then) {
                memory.whenCommitted(0, offset, then);
            }

            @Override
            public void prune(int partition, long offset) {
            }
        }, (t, p) -> TOPIC.equals(t), () -> 1L);
        try (ShareCoordinatorPersister p = new ShareCoordinatorPersister(spread, statePartition -> false,
                statePartition -> 100 + statePartition, () -> List.of(1), (broker, key, minVersion, version, request) -> {
                    CompletableFuture<ApiMessage> answer = new CompletableFuture<>();
                    unanswered.add(answer);
                    return answer;
                }, (delayMs, retry) -> retry.run())) {
            for (int partition = 0; partition < partitions; partition++) {
                nodes.add(100 + spread.partitionFor(new ShareStateCoordinator.Key("g", TOPIC, partition)));
                p.readAsync("g", TOPIC, partition, 0);
                p.summaryAsync("g", TOPIC, partition);
                p.initializeAsync("g", TOPIC, partition, 1, 0);
                p.writeAsync("g", TOPIC, partition, 1, 0, 0, 0, List.of());
                p.deleteAsync("g", TOPIC, partition);
            }
            assertTrue(nodes.size() > 1, "the calls spread over several nodes: " + nodes);
            long sent = 0;
            for (ApiKey rpc : List.of(ApiKey.READ_SHARE_GROUP_STATE, ApiKey.READ_SHARE_GROUP_STATE_SUMMARY,
                    ApiKey.INITIALIZE_SHARE_GROUP_STATE, ApiKey.WRITE_SHARE_GROUP_STATE,
                    ApiKey.DELETE_SHARE_GROUP_STATE)) {
                sent += p.requestsSent(rpc);
            }
            assertEquals(nodes.size(), sent, "one request under way per node");
            assertEquals(nodes.size(), unanswered.size());
            int during = threads.getThreadCount();
            // Two spare for the JVM's own (its compiler threads come and go); a thread per node and RPC would be 50.
            assertTrue(during <= before + 2, partitions * 5 + " calls to " + nodes.size() + " nodes: threads " + before
                    + " before, " + during + " while they wait");
        }
    }
}
