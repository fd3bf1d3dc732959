package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's DelayedFetch.tryComplete case F: a fetch whose offset is past the end it reads to (a consumer's: the high
 * watermark) is answered at once, since waiting cannot bring it records; Kafka reaches it when a truncation moves
 * the end below a parked fetch, and when a consumer asks past the high watermark of the replica it fetches from
 * (UnifiedLog.read answers such an offset with nothing, and the fetch purgatory completes it at once). Here the
 * follower is cut off, so the leader holds a record above its high watermark for as long as the test runs; a
 * consumer's fetch of that offset is answered at once with no records, while one at the high watermark still waits.
 * Tandem parked the fetch past the end until its max.wait.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ParkedFetchPastEndTest {
    private static final String TOPIC = "past-end";
    private static final int MAX_WAIT_MS = 10_000;

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(2, Map.of("auto.leader.rebalance.enable", "false",
            "replica.lag.time.max.ms", "120000"));

    @Test
    void shouldAnswerAFetchPastTheHighWatermarkAtOnce() throws Exception {
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 2);
        try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "all", "true")) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, "committed")).get(30, TimeUnit.SECONDS);
        }
        // The follower's fetches get no answer now: the leader's high watermark stays at 1, its log end goes to 2.
        kafka.cluster().partition(1, 2);
        try {
            try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "1",
                    "false")) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "uncommitted")).get(30, TimeUnit.SECONDS);
            }
            assertEquals(1, fetch(1, 0, 0).highWatermark(), "the leader's high watermark");

            CompletableFuture<FetchResponseData.PartitionData> atHighWatermark =
                    CompletableFuture.supplyAsync(() -> fetchUnchecked(1, 1, MAX_WAIT_MS));
            long started = System.nanoTime();
            FetchResponseData.PartitionData pastIt = fetch(1, 2, MAX_WAIT_MS);
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(tookMs < MAX_WAIT_MS / 2, "answered after " + tookMs + " ms, at its wait's end");
            assertEquals(Errors.NONE.code(), pastIt.errorCode());
            assertEquals(1, pastIt.highWatermark());
            assertEquals(0, FetchResponse.recordsOrFail(pastIt).sizeInBytes(), "no records past the high watermark");
            // At the high watermark there may be news any time: that fetch waits.
            Thread.sleep(500);
            assertFalse(atHighWatermark.isDone(), "a fetch at the high watermark was answered at once");
        } finally {
            kafka.cluster().heal(1, 2);
        }
    }

    private FetchResponseData.PartitionData fetchUnchecked(int broker, long offset, int maxWaitMs) {
        try {
            return fetch(broker, offset, maxWaitMs);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A consumer's Fetch v12 of partition 0 from {@code offset}, waiting up to {@code maxWaitMs} for a byte. */
    private FetchResponseData.PartitionData fetch(int broker, long offset, int maxWaitMs) throws Exception {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(TOPIC, 0), new FetchRequest.PartitionData(Uuid.ZERO_UUID, offset, 0, 1 << 20,
                Optional.empty()));
        try (OfficialClientConnection connection = new OfficialClientConnection(
                kafka.cluster().broker(broker).kafkaPort())) {
            FetchResponse response = connection.call(FetchRequest.Builder.forConsumer((short) 12, maxWaitMs, 1,
                    partitions).build((short) 12));
            return response.data().responses().get(0).partitions().get(0);
        }
    }
}
