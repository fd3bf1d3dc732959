package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A consumer's Fetch v12+ carrying last_fetched_epoch, as Kafka 3.9's Partition.readRecords checks it for every
 * fetcher that sends one, not only followers: records 0-4 written under epoch E0 on broker 1, records 5-7 under E1
 * on broker 2 after the leadership moved. A consumer claiming to have fetched up to offset 7 under E0 is told where
 * E0 ends here (diverging_epoch {E0, 5}, no records), by the leader and by a follower serving it (KIP-392); one whose
 * epoch agrees gets records; an epoch above every one known, or a fetch offset below the log start, is
 * OFFSET_OUT_OF_RANGE. Tandem checked only followers' fetches and served the consumer records past its divergence.
 * (The Java consumer sends no last fetched epoch; it validates its position with OffsetForLeaderEpoch instead.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConsumerDivergingEpochTest {
    private static final String TOPIC = "diverging";

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(2, Map.of("auto.leader.rebalance.enable", "false"));

    @Test
    void shouldTellAConsumerWhereItsLastFetchedEpochEnds() throws Exception {
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 2);
        produce(5, "first");
        int first = partition(port(1)).leaderEpoch();

        TopicPartition tp = new TopicPartition(TOPIC, 0);
        admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(2, 1)))))
                .all().get(30, TimeUnit.SECONDS);
        admin.electLeaders(ElectionType.PREFERRED, Set.of(tp)).all().get(30, TimeUnit.SECONDS);
        awaitLeader(2);
        produce(3, "second");
        int second = partition(port(2)).leaderEpoch();
        assertTrue(second > first, "a new epoch: " + first + " then " + second);
        awaitHighWatermark(1, 8);

        for (int broker : List.of(2, 1)) {
            String who = broker == 2 ? "the leader" : "the follower serving the consumer";
            // Fetched up to 7 under the first epoch, which ends at 5 here: diverged, told where it agrees.
            FetchResponseData.PartitionData diverged = fetch(broker, 12, 7, second, first);
            assertEquals(Errors.NONE.code(), diverged.errorCode(), who);
            assertEquals(first, diverged.divergingEpoch().epoch(), who);
            assertEquals(5, diverged.divergingEpoch().endOffset(), who);
            assertEquals(0, count(diverged), who + ": no records with a diverging epoch");
            assertEquals(8, diverged.highWatermark(), who);

            // Agreeing positions: the end of the first epoch, or within the current one.
            FetchResponseData.PartitionData atEnd = fetch(broker, 12, 5, second, first);
            assertEquals(-1, atEnd.divergingEpoch().epoch(), who);
            assertEquals(7, lastOffset(atEnd), who);
            assertEquals(7, lastOffset(fetch(broker, 12, 7, second, second)), who);
            assertEquals(7, lastOffset(fetch(broker, 12, 7, second, -1)), who + ": no last fetched epoch, no check");

            // An epoch this log never had above every one it knows: Kafka cannot say where it ends.
            assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), fetch(broker, 12, 3, second, second + 5).errorCode(), who);
        }

        // The fetch offset below the log start is out of range, whatever the divergence.
        admin.deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(6)))
                .all().get(30, TimeUnit.SECONDS);
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), fetch(2, 12, 4, second, first).errorCode());
    }

    private void produce(int records, String prefix) throws Exception {
        try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "all", "true")) {
            for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(TOPIC, 0, null, prefix + "-" + i));
            producer.flush();
        }
    }

    private int port(int broker) {
        return kafka.cluster().broker(broker).kafkaPort();
    }

    private void awaitLeader(int broker) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (partition(port(broker)).leaderId() != broker) {
            assertTrue(System.currentTimeMillis() < deadline, "broker " + broker + " never led");
            Thread.sleep(50);
        }
    }

    private void awaitHighWatermark(int broker, long highWatermark) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (fetch(broker, 12, 0, -1, -1).highWatermark() < highWatermark) {
            assertTrue(System.currentTimeMillis() < deadline, "broker " + broker + "'s high watermark stays below "
                    + highWatermark);
            Thread.sleep(50);
        }
    }

    /** A consumer's Fetch v{@code version} from {@code offset} that waits for nothing, with the epochs given. */
    private FetchResponseData.PartitionData fetch(int broker, int version, long offset, int currentLeaderEpoch,
                                                  int lastFetchedEpoch) throws Exception {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(TOPIC, 0), new FetchRequest.PartitionData(Uuid.ZERO_UUID, offset, 0, 1 << 20,
                currentLeaderEpoch < 0 ? Optional.empty() : Optional.of(currentLeaderEpoch),
                lastFetchedEpoch < 0 ? Optional.empty() : Optional.of(lastFetchedEpoch)));
        try (OfficialClientConnection connection = new OfficialClientConnection(port(broker))) {
            FetchResponse response = connection.call(FetchRequest.Builder.forConsumer((short) version, 0, 1, partitions)
                    .build((short) version));
            return response.data().responses().get(0).partitions().get(0);
        }
    }

    private static int count(FetchResponseData.PartitionData data) {
        int records = 0;
        for (RecordBatch batch : FetchResponse.recordsOrFail(data).batches()) {
            records += (int) (batch.lastOffset() - batch.baseOffset() + 1);
        }
        return records;
    }

    /** The last offset of the records answered, -1 for none. */
    private static long lastOffset(FetchResponseData.PartitionData data) {
        long last = -1;
        for (RecordBatch batch : FetchResponse.recordsOrFail(data).batches()) last = batch.lastOffset();
        return last;
    }

    private static MetadataResponseData.MetadataResponsePartition partition(int port) throws Exception {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false);
        data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            MetadataResponse response = connection.call(new MetadataRequest.Builder(data).build((short) 12));
            return response.data().topics().find(TOPIC).partitions().get(0);
        }
    }
}
