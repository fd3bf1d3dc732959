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
 * Kafka 3.9's DelayedFetch.tryComplete case F, "fetching older segments": a fetch whose offset lies on an older
 * segment than the end it reads to completes at once, whatever its min.bytes (the read stops at that segment's end,
 * so waiting for more bytes only delays what can be sent). The fetch offset's segment is the one it lay on when the
 * fetch was first read (Kafka keeps that LogOffsetMetadata), so a fetch parked at the log end is answered as soon
 * as the log rolls and a record lands on the new segment. Tandem counted bytes toward min.bytes in both cases and
 * answered at max.wait.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ParkedFetchOlderSegmentTest {
    private static final String TOPIC = "rolling";
    private static final int MAX_WAIT_MS = 10_000;
    /** Far more than the test's records: only case F can answer before max.wait. */
    private static final int MIN_BYTES = 4 << 20;
    /** Each record (700 bytes of value) fills most of a 1 KiB segment, so every record rolls a new one. */
    private static final String VALUE = "v".repeat(700);

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(1, Map.of());

    @Test
    void shouldAnswerAFetchOnAnOlderSegmentAtOnceWhateverItsMinBytes() throws Exception {
        createTopic();
        produce(3);
        long started = System.nanoTime();
        FetchResponseData.PartitionData answer = fetch(0);
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMs < MAX_WAIT_MS / 2, "answered after " + tookMs + " ms, at its wait's end");
        assertEquals(Errors.NONE.code(), answer.errorCode());
        assertEquals(3, answer.highWatermark());
        assertTrue(FetchResponse.recordsOrFail(answer).sizeInBytes() > 0, "the first segment's records");
    }

    @Test
    void shouldAnswerAFetchParkedAtTheEndOnceTheLogRollsPastIt() throws Exception {
        createTopic();
        produce(1);
        CompletableFuture<FetchResponseData.PartitionData> parked = CompletableFuture.supplyAsync(() -> {
            try {
                return fetch(1);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(500);
        assertFalse(parked.isDone(), "a fetch at the log end was answered before any record");
        long started = System.nanoTime();
        produce(1); // does not fit the first segment: the log rolls, the record is the new segment's first
        FetchResponseData.PartitionData answer = parked.get(30, TimeUnit.SECONDS);
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMs < MAX_WAIT_MS / 2, "answered " + tookMs + " ms after the roll, at its wait's end");
        assertEquals(Errors.NONE.code(), answer.errorCode());
        assertEquals(2, answer.highWatermark());
    }

    private void createTopic() throws Exception {
        kafka.admin().createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("segment.bytes",
                "1024")))).all().get(30, TimeUnit.SECONDS);
    }

    private void produce(int records) throws Exception {
        try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "1", "false")) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, VALUE)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** A consumer's Fetch v12 of partition 0 from {@code offset}, waiting up to max.wait for {@link #MIN_BYTES}. */
    private FetchResponseData.PartitionData fetch(long offset) throws Exception {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(TOPIC, 0), new FetchRequest.PartitionData(Uuid.ZERO_UUID, offset, 0,
                MIN_BYTES, Optional.empty()));
        try (OfficialClientConnection connection = new OfficialClientConnection(
                kafka.cluster().broker(1).kafkaPort())) {
            FetchResponse response = connection.call(FetchRequest.Builder.forConsumer((short) 12, MAX_WAIT_MS,
                    MIN_BYTES, partitions).setMaxBytes(MIN_BYTES).build((short) 12));
            return response.data().responses().get(0).partitions().get(0);
        }
    }
}
