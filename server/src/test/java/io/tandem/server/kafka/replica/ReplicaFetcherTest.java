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
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.ScriptedBroker;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.storage.log.LogConfig;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower's fetcher on real sockets, against a leader the test plays: as Kafka's ReplicaFetcherThread over its
 * BlockingSend, a fetch survives the leader's restart (the next fetch goes on a new connection and its records are
 * appended), a fetch left unanswered is given up after request.timeout.ms and sent again, and stopping the fetcher
 * leaves no thread behind.
 */
@Timeout(120)
class ReplicaFetcherTest {
    private static final int LEADER = 1;
    private static final int FOLLOWER = 2;
    private static final int REQUEST_TIMEOUT_MS = 1_500;
    private static final TopicPartition TP = new TopicPartition("followed", 0);

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();

    private ReplicaFetcher fetcher(ScriptedBroker leader, String clientId) {
        return new ReplicaFetcher(FOLLOWER, new BrokerRegistration(LEADER, "127.0.0.1", leader.port(), "PLAINTEXT",
                null, 0), InterBrokerSecurity.PLAINTEXT, 1024 * 1024,
                InterBrokerClient.Settings.kafkaBlocking(clientId, REQUEST_TIMEOUT_MS));
    }

    private Partition follower() throws Exception {
        Partition p = fixture.logs(dir, FOLLOWER).getOrCreate(TP, LogConfig.defaults());
        p.makeFollower(LEADER, 0, List.of(LEADER, FOLLOWER));
        return p;
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
                fetcher.shutdown();
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
                // request.timeout.ms runs from the hand-over, which comes after this.
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
                assertTrue(backedOffMs >= ReplicaFetcher.BACKOFF_MS - 100, "fetched again after " + backedOffMs);
            } finally {
                fetcher.shutdown();
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
                    old.port(), "PLAINTEXT", null, 0), InterBrokerSecurity.PLAINTEXT, 1024 * 1024,
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
                fetcher.shutdown();
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
            fetcher.shutdown();
            assertTrue(fetcher.awaitShutdown(10_000));
            assertTrue(TestThreads.noneNamed(fetcherThread));
            assertTrue(TestThreads.noneNamed("counted-fetcher-"));
        }
    }

    private static int threads(String prefix) {
        return TestThreads.named(prefix);
    }
}
