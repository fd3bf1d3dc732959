package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.server.TestThreads;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.NoBufferLeaks;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.ScriptedBroker;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.storage.log.LogConfig;
import io.tandem.kafka.wire.Errors;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower's fetcher on real sockets, against a leader the test plays: as Kafka's ReplicaFetcherThread over its
 * BlockingSend, a fetch survives the leader's restart (the next fetch goes on a new connection and its records are
 * appended), a fetch left unanswered is given up after request.timeout.ms and sent again, and stopping the fetcher
 * leaves no thread behind.
 */
@ExtendWith(NoBufferLeaks.class)
@Timeout(120)
class ReplicaFetcherTest {
    private static final int LEADER = 1;
    private static final int FOLLOWER = 2;
    private static final int REQUEST_TIMEOUT_MS = 1_500;
    /** replica.fetch.backoff.ms, shortened from Kafka's 1 s to keep the tests quick. */
    private static final int BACKOFF_MS = 400;
    private static final TopicPartition TP = new TopicPartition("followed", 0);
    private static final TopicPartition OTHER = new TopicPartition("followed", 1);

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();
    /** The follower's logs, one manager for every partition of a test. */
    private io.tandem.server.kafka.log.LogManager logs;

    private ReplicaFetcher fetcher(ScriptedBroker leader, String clientId) {
        return new ReplicaFetcher(FOLLOWER, new BrokerRegistration(LEADER, "127.0.0.1", leader.port(), "PLAINTEXT",
                null, 0), InterBrokerSecurity.PLAINTEXT, 1024 * 1024, BACKOFF_MS,
                InterBrokerClient.Settings.kafkaBlocking(clientId, REQUEST_TIMEOUT_MS));
    }

    private Partition follower() throws Exception {
        return follower(TP);
    }

    private Partition follower(TopicPartition tp) throws Exception {
        if (logs == null) logs = fixture.logs(dir, FOLLOWER);
        Partition p = logs.getOrCreate(tp, LogConfig.defaults());
        p.makeFollower(LEADER, 0, List.of(LEADER, FOLLOWER));
        return p;
    }

    /** The partitions a replica fetch names, with the offset it asks each from. */
    private static Map<TopicPartition, Long> fetched(ScriptedBroker.Received received) {
        assertEquals(ApiKey.FETCH, received.key());
        FetchRequest request = (FetchRequest) received.body();
        Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
        for (FetchRequest.FetchTopic topic : request.topics) {
            for (FetchRequest.FetchPartition p : topic.partitions) {
                offsets.put(new TopicPartition(topic.topic, p.partition), p.fetchOffset);
            }
        }
        return offsets;
    }

    /** One partition's part of a sessionless answer: {@code error}, {@code records} (may be null), the watermark. */
    private static FetchResponse.PartitionData partition(TopicPartition tp, short error, ByteBuf records,
                                                         long highWatermark) {
        FetchResponse.PartitionData data = new FetchResponse.PartitionData();
        data.partitionIndex = tp.partition();
        data.errorCode = error;
        data.highWatermark = highWatermark;
        data.logStartOffset = 0;
        data.records = records;
        return data;
    }

    /** A sessionless answer of one topic's partitions. */
    private static FetchResponse answerOf(String topicName, FetchResponse.PartitionData... partitions) {
        FetchResponse.FetchableTopicResponse topic = new FetchResponse.FetchableTopicResponse();
        topic.topic = topicName;
        topic.partitions.addAll(List.of(partitions));
        FetchResponse response = new FetchResponse();
        response.responses.add(topic);
        return response;
    }

    /** Answers every partition {@code fetch} names with nothing new, after a pause as a leader's long poll. */
    private static void answerEmpty(Socket peer, ScriptedBroker.Received fetch, Map<TopicPartition, Long> named)
            throws Exception {
        Thread.sleep(50);
        List<FetchResponse.PartitionData> parts = new ArrayList<>();
        for (Map.Entry<TopicPartition, Long> e : named.entrySet()) {
            parts.add(partition(e.getKey(), Errors.NONE.code(), null, e.getValue()));
        }
        ScriptedBroker.answer(peer, fetch, answerOf(TP.topic(), parts.toArray(FetchResponse.PartitionData[]::new)));
    }

    /** Reads the next request, a replica fetch of {@link #TP} by the follower, and answers its fetch offset. */
    private static long fetchOffset(ScriptedBroker.Received received) {
        assertEquals(ApiKey.FETCH, received.key());
        FetchRequest request = (FetchRequest) received.body();
        assertEquals(FOLLOWER, request.replicaId, "a replica fetch names the follower");
        return request.topics.get(0).partitions.get(0).fetchOffset;
    }

    /** A sessionless answer for {@link #TP}: {@code records} (may be null) and the high watermark. */
    private static FetchResponse answer(ByteBuf records, long highWatermark) {
        FetchResponse.PartitionData data = new FetchResponse.PartitionData();
        data.partitionIndex = TP.partition();
        data.highWatermark = highWatermark;
        data.logStartOffset = 0;
        data.records = records;
        FetchResponse.FetchableTopicResponse topic = new FetchResponse.FetchableTopicResponse();
        topic.topic = TP.topic();
        topic.partitions.add(data);
        FetchResponse response = new FetchResponse();
        response.responses.add(topic);
        return response;
    }

    private ByteBuf oneRecord() {
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).partitionLeaderEpoch(0)) {
            builder.append(fixture.now, null, "replicated".getBytes());
            builder.build();
        }
        return batch;
    }

    @Test
    void shouldFetchAgainFromTheLeaderAfterItRestartsAndAppendWhatItAnswers() throws Exception {
        Partition partition = follower();
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "restart-fetcher");
            try {
                fetcher.add(partition);
                fetcher.start();
                Socket peer = leader.accept(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FETCH);
                ScriptedBroker.Received first = ScriptedBroker.read(peer);
                assertEquals(0, fetchOffset(first));
                // The leader dies with the fetch unanswered and stays down a while: fetches keep failing.
                leader.stop();
                Thread.sleep(500);
                leader.restart();
                Socket again = leader.accept(30_000);
                ScriptedBroker.introduce(again, ApiKey.FETCH);
                ScriptedBroker.Received fetch = ScriptedBroker.read(again);
                assertEquals(0, fetchOffset(fetch));
                ScriptedBroker.answer(again, fetch, answer(oneRecord(), 1));
                // The answer was appended: the next fetch asks from offset 1.
                ScriptedBroker.Received next = ScriptedBroker.read(again);
                assertEquals(1, fetchOffset(next));
                assertEquals(1, partition.logEndOffset());
            } finally {
                stop(fetcher);
            }
        }
    }

    @Test
    void shouldGiveUpAFetchWithoutAnswerAfterTheRequestTimeoutAndFetchAgain() throws Exception {
        Partition partition = follower();
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "timeout-fetcher");
            try {
                fetcher.add(partition);
                // request.timeout.ms runs from the fetch's write, which comes after this.
                long startedAt = System.nanoTime();
                fetcher.start();
                Socket hung = leader.accept(30_000);
                ScriptedBroker.introduce(hung, ApiKey.FETCH);
                fetchOffset(ScriptedBroker.read(hung));
                // Never answered: the connection is given up after request.timeout.ms (the leader sees its end).
                assertEquals(-1, hung.getInputStream().read());
                long gaveUpAt = System.nanoTime();
                long waitedMs = (gaveUpAt - startedAt) / 1_000_000;
                assertTrue(waitedMs >= REQUEST_TIMEOUT_MS, "gave up " + waitedMs + " ms after the start");
                // After replica.fetch.backoff.ms, the fetch goes again on a new connection.
                Socket next = leader.accept(30_000);
                long backedOffMs = (System.nanoTime() - gaveUpAt) / 1_000_000;
                ScriptedBroker.introduce(next, ApiKey.FETCH);
                assertEquals(0, fetchOffset(ScriptedBroker.read(next)));
                assertTrue(backedOffMs >= BACKOFF_MS - 50, "fetched again after " + backedOffMs);
            } finally {
                stop(fetcher);
            }
        }
    }

    /**
     * The leader registered again elsewhere (UpdateMetadata brings its new endpoint): the fetch under way to the old
     * address is given up at once, not after request.timeout.ms, and the next goes to the new one. The same endpoint
     * again (every UpdateMetadata names every broker) leaves the fetch under way alone.
     */
    @Test
    void shouldFollowTheLeaderToItsNewAddressWithoutWaitingForTheFetchUnderWay() throws Exception {
        Partition partition = follower();
        try (ScriptedBroker old = new ScriptedBroker(); ScriptedBroker moved = new ScriptedBroker()) {
            ReplicaFetcher fetcher = new ReplicaFetcher(FOLLOWER, new BrokerRegistration(LEADER, "127.0.0.1",
                    old.port(), "PLAINTEXT", null, 0), InterBrokerSecurity.PLAINTEXT, 1024 * 1024, BACKOFF_MS,
                    InterBrokerClient.Settings.kafkaBlocking("moving-fetcher", 60_000));
            try {
                fetcher.add(partition);
                fetcher.start();
                Socket hung = old.accept(30_000);
                ScriptedBroker.introduce(hung, ApiKey.FETCH);
                fetchOffset(ScriptedBroker.read(hung));
                fetcher.retarget(new BrokerRegistration(LEADER, "127.0.0.1", old.port(), "PLAINTEXT", null, 0));
                hung.setSoTimeout(500);
                assertThrows(java.net.SocketTimeoutException.class, () -> hung.getInputStream().read(),
                        "the same endpoint again: the fetch under way goes on");
                long movedAt = System.nanoTime();
                fetcher.retarget(new BrokerRegistration(LEADER, "127.0.0.1", moved.port(), "PLAINTEXT", null, 0));
                hung.setSoTimeout(30_000);
                assertEquals(-1, hung.getInputStream().read(), "the connection to the old address is closed");
                Socket next = moved.accept(30_000);
                ScriptedBroker.introduce(next, ApiKey.FETCH);
                assertEquals(0, fetchOffset(ScriptedBroker.read(next)));
                long tookMs = (System.nanoTime() - movedAt) / 1_000_000;
                assertTrue(tookMs < 30_000, "fetched from the new address after " + tookMs + " ms");
            } finally {
                stop(fetcher);
            }
        }
    }

    @Test
    void shouldLeaveNoThreadBehindWhenStopped() throws Exception {
        Partition partition = follower();
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "counted-fetcher");
            fetcher.add(partition);
            fetcher.start();
            Socket peer = leader.accept(30_000);
            ScriptedBroker.introduce(peer, ApiKey.FETCH);
            ScriptedBroker.read(peer);
            String fetcherThread = "kafka-replica-fetcher-" + FOLLOWER + "-from-" + LEADER;
            assertEquals(1, threads(fetcherThread));
            assertTrue(threads("counted-fetcher-") >= 1, "the client's event loop runs");
            // Stopped while it waits for an answer.
            stop(fetcher);
            assertTrue(TestThreads.noneNamed(fetcherThread));
            assertTrue(TestThreads.noneNamed("counted-fetcher-"));
        }
    }

    /**
     * Kafka's fetcher delays only the partition the leader answered with an error (NOT_LEADER_OR_FOLLOWER here):
     * the other partition's next fetch goes at once without it, and the one in error is fetched again once
     * replica.fetch.backoff.ms has passed.
     */
    @Test
    void shouldKeepFetchingTheOtherPartitionsWhileOneInErrorWaitsOutTheBackoff() throws Exception {
        Partition inError = follower(TP);
        Partition healthy = follower(OTHER);
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "delaying-fetcher");
            try {
                fetcher.add(inError);
                fetcher.add(healthy);
                fetcher.start();
                Socket peer = leader.accept(30_000);
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FETCH);
                ScriptedBroker.Received first = ScriptedBroker.read(peer);
                assertEquals(Map.of(TP, 0L, OTHER, 0L), fetched(first));
                long erredAt = System.nanoTime();
                ScriptedBroker.answer(peer, first, answerOf(TP.topic(),
                        partition(TP, Errors.NOT_LEADER_OR_FOLLOWER.code(), null, -1),
                        partition(OTHER, Errors.NONE.code(), oneRecord(), 1)));
                // The healthy partition goes on at once, from past what it appended; the other is left out.
                ScriptedBroker.Received second = ScriptedBroker.read(peer);
                assertEquals(Map.of(OTHER, 1L), fetched(second), "the next fetch names only the healthy partition");
                assertEquals(1, healthy.logEndOffset());
                Map<TopicPartition, Long> named = fetched(second);
                ScriptedBroker.Received next = second;
                while (!named.containsKey(TP)) {
                    answerEmpty(peer, next, named);
                    next = ScriptedBroker.read(peer);
                    named = fetched(next);
                    long sinceMs = (System.nanoTime() - erredAt) / 1_000_000;
                    assertTrue(sinceMs < 10_000, "the partition in error not fetched again after " + sinceMs + " ms");
                }
                long resumedMs = (System.nanoTime() - erredAt) / 1_000_000;
                assertTrue(resumedMs >= BACKOFF_MS - 50, "fetched again " + resumedMs + " ms after its error");
                assertEquals(0L, named.get(TP));
                assertEquals(1L, named.get(OTHER));
            } finally {
                stop(fetcher);
            }
        }
    }

    /**
     * Kafka's onPartitionFenced: FENCED_LEADER_EPOCH for the epoch this replica still has marks the partition failed,
     * so it is not fetched again (the backoff passing changes nothing) until the controller's next LeaderAndIsr adds
     * it back; the other partition goes on meanwhile.
     */
    @Test
    void shouldStopFetchingAPartitionFencedAtItsEpochUntilItIsAddedAgain() throws Exception {
        Partition fenced = follower(TP);
        Partition healthy = follower(OTHER);
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "fenced-fetcher");
            try {
                fetcher.add(fenced);
                fetcher.add(healthy);
                fetcher.start();
                Socket peer = leader.accept(30_000);
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FETCH);
                ScriptedBroker.Received first = ScriptedBroker.read(peer);
                assertEquals(Map.of(TP, 0L, OTHER, 0L), fetched(first));
                ScriptedBroker.answer(peer, first, answerOf(TP.topic(),
                        partition(TP, Errors.FENCED_LEADER_EPOCH.code(), null, -1),
                        partition(OTHER, Errors.NONE.code(), null, 0)));
                long until = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(3L * BACKOFF_MS);
                ScriptedBroker.Received next;
                Map<TopicPartition, Long> named;
                int fetches = 0;
                do {
                    next = ScriptedBroker.read(peer);
                    named = fetched(next);
                    assertEquals(Set.of(OTHER), named.keySet(), "fetch " + fetches + " names the fenced partition");
                    fetches++;
                    answerEmpty(peer, next, named);
                } while (System.nanoTime() - until < 0);
                // The controller's next word: a new leader epoch, and the partition is added again.
                fenced.makeFollower(LEADER, 1, List.of(LEADER, FOLLOWER));
                fetcher.add(fenced);
                do {
                    next = ScriptedBroker.read(peer);
                    named = fetched(next);
                    if (!named.containsKey(TP)) answerEmpty(peer, next, named);
                } while (!named.containsKey(TP));
                FetchRequest request = (FetchRequest) next.body();
                assertEquals(1, request.topics.get(0).partitions.stream().filter(p -> p.partition == TP.partition())
                        .findFirst().orElseThrow().currentLeaderEpoch, "fetched at its new epoch");
            } finally {
                stop(fetcher);
            }
        }
    }

    /**
     * The controller's LeaderAndIsr for a new epoch may be applied while the fetcher handles an answer that fenced the
     * old one: Kafka's fetcher judges the answer and drops the partition under the lock its addPartitions takes, so a
     * partition added again at the new epoch is never dropped by the stale answer, and it is fetched at once.
     */
    @Test
    void shouldKeepFetchingAPartitionAddedAtANewEpochWhileItsFencedAnswerWasHandled() throws Exception {
        Partition fenced = follower(TP);
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "fenced-race-fetcher");
            // What ReplicaManager does for the LeaderAndIsr, between the answer's judgement and the partition's drop.
            fetcher.beforeFailingForTests(tp -> {
                fetcher.remove(tp);
                fenced.makeFollower(LEADER, 1, List.of(LEADER, FOLLOWER));
                fetcher.add(fenced);
            });
            try {
                fetcher.add(fenced);
                fetcher.start();
                Socket peer = leader.accept(30_000);
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FETCH);
                ScriptedBroker.Received first = ScriptedBroker.read(peer);
                assertEquals(Map.of(TP, 0L), fetched(first));
                ScriptedBroker.answer(peer, first, answerOf(TP.topic(),
                        partition(TP, Errors.FENCED_LEADER_EPOCH.code(), null, -1)));
                // Without the lock the partition was gone: no fetch came again, the read timed out.
                ScriptedBroker.Received next = ScriptedBroker.read(peer);
                assertEquals(Map.of(TP, 0L), fetched(next), "the partition is fetched again");
                FetchRequest request = (FetchRequest) next.body();
                assertEquals(1, request.topics.get(0).partitions.get(0).currentLeaderEpoch, "at its new epoch");
            } finally {
                stop(fetcher);
            }
        }
    }

    /** One record at {@code offset}, leader epoch 0, in a batch of its own (a log truncates by whole batches). */
    private ByteBuf recordAt(long offset) {
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch).baseOffset(offset).partitionLeaderEpoch(0)) {
            builder.append(fixture.now, null, ("r" + offset).getBytes());
            builder.build();
        }
        return batch;
    }

    /** Reads the follower's ListOffsets for {@link #TP} at {@code expectedTimestamp} and answers {@code offset}. */
    private static void answerListOffsets(Socket peer, long expectedTimestamp, long offset) throws Exception {
        ScriptedBroker.Received received = ScriptedBroker.read(peer);
        assertEquals(ApiKey.LIST_OFFSETS, received.key(), "the leader is asked for its offsets");
        ListOffsetsRequest request = (ListOffsetsRequest) received.body();
        assertEquals(FOLLOWER, request.replicaId, "asked as a replica, so the leader answers from its log end");
        ListOffsetsRequest.ListOffsetsPartition asked = request.topics.get(0).partitions.get(0);
        assertEquals(TP.topic(), request.topics.get(0).name);
        assertEquals(TP.partition(), asked.partitionIndex);
        assertEquals(expectedTimestamp, asked.timestamp);
        assertEquals(0, asked.currentLeaderEpoch);
        ListOffsetsResponse.ListOffsetsPartitionResponse part = new ListOffsetsResponse.ListOffsetsPartitionResponse();
        part.partitionIndex = TP.partition();
        part.errorCode = Errors.NONE.code();
        part.offset = offset;
        part.leaderEpoch = 0;
        part.timestamp = -1;
        ListOffsetsResponse.ListOffsetsTopicResponse topic = new ListOffsetsResponse.ListOffsetsTopicResponse();
        topic.name = TP.topic();
        topic.partitions.add(part);
        ListOffsetsResponse response = new ListOffsetsResponse();
        response.topics.add(topic);
        ScriptedBroker.answer(peer, received, response);
    }

    /**
     * OFFSET_OUT_OF_RANGE as Kafka's AbstractFetcherThread.fetchOffsetAndTruncate: the follower asks the leader's
     * latest offset; ahead of it (an unclean election gave the lead to a shorter log) it truncates to it and fetches
     * from there at once; otherwise it asks the leader's earliest offset and, behind it, starts again there with an
     * empty log; within the leader's log it keeps its own and fetches again. The fetch answers carry a log start of 0,
     * so only the leader's ListOffsets answers can tell the follower where to go.
     */
    @Test
    void shouldAskTheLeaderForItsOffsetsOnOffsetOutOfRangeAndTruncateOrRestartAsKafka() throws Exception {
        Partition partition = follower();
        for (long offset = 0; offset < 3; offset++) partition.appendAsFollower(recordAt(offset));
        assertEquals(3, partition.logEndOffset());
        try (ScriptedBroker leader = new ScriptedBroker()) {
            ReplicaFetcher fetcher = fetcher(leader, "out-of-range-fetcher");
            try {
                fetcher.add(partition);
                fetcher.start();
                Socket peer = leader.accept(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FETCH, ApiKey.LIST_OFFSETS);
                // Ahead of the leader: its log ends at 1, the follower's at 3.
                ScriptedBroker.Received first = ScriptedBroker.read(peer);
                assertEquals(3, fetchOffset(first));
                ScriptedBroker.answer(peer, first, answerOf(TP.topic(),
                        partition(TP, Errors.OFFSET_OUT_OF_RANGE.code(), null, -1)));
                answerListOffsets(peer, -1, 1);
                ScriptedBroker.Received second = ScriptedBroker.read(peer);
                assertEquals(1, fetchOffset(second), "truncated to the leader's log end");
                assertEquals(1, partition.logEndOffset());
                // Within the leader's log [0, 10): the follower keeps its log and fetches from its own end again.
                ScriptedBroker.answer(peer, second, answerOf(TP.topic(),
                        partition(TP, Errors.OFFSET_OUT_OF_RANGE.code(), null, -1)));
                answerListOffsets(peer, -1, 10);
                answerListOffsets(peer, -2, 0);
                ScriptedBroker.Received third = ScriptedBroker.read(peer);
                assertEquals(1, fetchOffset(third), "fetches again from its own end");
                assertEquals(1, partition.logEndOffset());
                // Behind the leader's log start (it deleted up to 5): the follower starts again there, empty.
                ScriptedBroker.answer(peer, third, answerOf(TP.topic(),
                        partition(TP, Errors.OFFSET_OUT_OF_RANGE.code(), null, -1)));
                answerListOffsets(peer, -1, 12);
                answerListOffsets(peer, -2, 5);
                ScriptedBroker.Received fourth = ScriptedBroker.read(peer);
                assertEquals(5, fetchOffset(fourth), "starts again at the leader's log start");
                assertEquals(5, partition.logStartOffset());
                assertEquals(5, partition.logEndOffset());
            } finally {
                stop(fetcher);
            }
        }
    }

    /** Stops the fetcher and waits for its thread, so the next test counts only its own fetcher threads. */
    private static void stop(ReplicaFetcher fetcher) throws InterruptedException {
        fetcher.shutdown();
        assertTrue(fetcher.awaitShutdown(10_000), "the fetcher thread ends within 10 s");
    }

    private static int threads(String prefix) {
        return TestThreads.named(prefix);
    }
}
