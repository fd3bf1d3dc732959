package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * KIP-392 on three brokers in racks rack-1..rack-3 with Kafka's RackAwareReplicaSelector: a consumer's Fetch v11+
 * (client metadata) is served by a follower from its own log up to its own high watermark, as Kafka's
 * FetchParams.fetchOnlyLeader (true only for replica fetches and consumer fetches below v11) and
 * Partition.fetchRecords; above the follower's log end it is OFFSET_OUT_OF_RANGE, as UnifiedLog.read. The leader
 * answers a consumer in another replica's rack with that replica as preferred_read_replica, at once and without
 * records (ReplicaManager.findPreferredReadReplica), and the real Java consumer then fetches from it. Tandem
 * answered NOT_LEADER_OR_FOLLOWER on a follower and ignored replica.selector.class.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FetchFromFollowerTest {
    private static final String TOPIC = "racked";
    private static final int RECORDS = 20;
    private static final String SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector";

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.startedByEachTest();

    private int epoch;
    private Uuid topicId;

    @BeforeEach
    void startRackedBrokersWithATopicLedByBroker1() throws Exception {
        kafka.start(3, config -> config.set("broker.rack", "rack-" + config.get("broker.id"))
                .set("replica.selector.class", SELECTOR)
                .set("auto.leader.rebalance.enable", "false"), zookeeperConnect -> { });
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 2, 3))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 3);
        try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "all", "true")) {
            for (int i = 0; i < RECORDS; i++) producer.send(new ProducerRecord<>(TOPIC, 0, null, "record-" + i));
            producer.flush();
        }
        MetadataResponseData.MetadataResponsePartition partition = metadata(port(1)).partitions().get(0);
        assertEquals(1, partition.leaderId());
        epoch = partition.leaderEpoch();
        topicId = metadata(port(1)).topicId();
        // The followers learn the high watermark from their next fetch's answer.
        for (int broker = 2; broker <= 3; broker++) awaitHighWatermark(broker, RECORDS);
    }

    @Test
    void shouldServeAConsumersFetchV11FromAFollowerAndNameTheReplicaInItsRack() throws Exception {
        // The follower serves what it holds up to its high watermark; below v11 only the leader serves.
        FetchResponseData.PartitionData fromFollower = fetch(2, 12, 0, epoch, "");
        assertEquals(Errors.NONE.code(), fromFollower.errorCode());
        assertEquals(RECORDS, fromFollower.highWatermark());
        assertEquals(RECORDS, count(fromFollower));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), fetch(2, 10, 0, epoch, "").errorCode());
        // Its log end is fetchable (nothing there yet); past it is out of range, as on a leader.
        assertEquals(Errors.NONE.code(), fetch(3, 12, RECORDS, epoch, "").errorCode());
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), fetch(3, 12, RECORDS + 5, epoch, "").errorCode());
        // The epoch still comes first.
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), fetch(2, 12, 0, epoch + 1, "").errorCode());

        // The leader sends a consumer in rack-3 to broker 3: no records, the offsets all the same.
        FetchResponseData.PartitionData sent = fetch(1, 12, 0, epoch, "rack-3");
        assertEquals(Errors.NONE.code(), sent.errorCode());
        assertEquals(3, sent.preferredReadReplica());
        assertEquals(RECORDS, sent.highWatermark());
        assertEquals(0, count(sent));
        assertEquals(2, fetch(1, 11, 0, epoch, "rack-2").preferredReadReplica());
        // Its own rack, no rack, or a rack no replica is in: the leader serves.
        for (String rack : List.of("rack-1", "", "rack-9")) {
            FetchResponseData.PartitionData served = fetch(1, 12, 0, epoch, rack);
            assertEquals(-1, served.preferredReadReplica(), rack);
            assertEquals(RECORDS, count(served), rack);
        }
        // A follower never names another replica; neither does the leader past a follower's log end.
        assertEquals(-1, fetch(2, 12, 0, epoch, "rack-3").preferredReadReplica());
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), fetch(1, 12, RECORDS + 5, epoch, "rack-3").errorCode());
    }

    @Test
    void shouldLetTheJavaConsumerFetchFromTheFollowerInItsRack() throws Exception {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.cluster().bootstrapServers(),
                ConsumerConfig.CLIENT_RACK_CONFIG, "rack-3",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(tp));
            List<String> values = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (values.size() < RECORDS) {
                assertTrue(System.currentTimeMillis() < deadline, "consumed only " + values);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
            assertEquals("record-0", values.get(0));
            assertEquals("record-" + (RECORDS - 1), values.get(RECORDS - 1));

            // From now on its fetches go to broker 3 alone: in a window of long polls the leader gets none.
            double leaderBefore = requests(consumer, 1);
            double followerBefore = requests(consumer, 3);
            try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "all",
                    "true")) {
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "later")).get(30, TimeUnit.SECONDS);
            }
            List<String> later = new ArrayList<>();
            deadline = System.currentTimeMillis() + 30_000;
            while (later.isEmpty()) {
                assertTrue(System.currentTimeMillis() < deadline, "the record produced later never came");
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) later.add(r.value());
            }
            assertEquals(List.of("later"), later);
            long windowEnd = System.currentTimeMillis() + 1_500;
            while (System.currentTimeMillis() < windowEnd) consumer.poll(Duration.ofMillis(200));
            assertEquals(leaderBefore, requests(consumer, 1), "requests sent to the leader, broker 1");
            assertTrue(requests(consumer, 3) >= followerBefore + 3,
                    "fetches sent to broker 3: " + (requests(consumer, 3) - followerBefore));
        }
    }

    /** The consumer's count of requests sent to broker {@code id} (its per-node request-total metric). */
    private static double requests(KafkaConsumer<?, ?> consumer, int id) {
        for (Map.Entry<MetricName, ? extends Metric> e : consumer.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (name.name().equals("request-total") && name.group().equals("consumer-node-metrics")
                    && ("node-" + id).equals(name.tags().get("node-id"))) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        return 0;
    }

    private int port(int broker) {
        return kafka.cluster().broker(broker).kafkaPort();
    }

    /** A consumer's Fetch of partition 0 from {@code offset} that waits for nothing, from rack {@code rack}. */
    private FetchResponseData.PartitionData fetch(int broker, int version, long offset, int currentLeaderEpoch,
                                                  String rack) throws Exception {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(TOPIC, 0), new FetchRequest.PartitionData(topicId, offset, 0, 1 << 20,
                Optional.of(currentLeaderEpoch)));
        try (OfficialClientConnection connection = new OfficialClientConnection(port(broker))) {
            FetchResponse response = connection.call(FetchRequest.Builder.forConsumer((short) version, 0, 1, partitions)
                    .rackId(rack).build((short) version));
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

    private void awaitHighWatermark(int broker, long highWatermark) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (fetch(broker, 12, 0, epoch, "").highWatermark() < highWatermark) {
            assertTrue(System.currentTimeMillis() < deadline, "broker " + broker + "'s high watermark stays below "
                    + highWatermark);
            Thread.sleep(50);
        }
    }

    private static MetadataResponseData.MetadataResponseTopic metadata(int port) throws Exception {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false);
        data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            MetadataResponse response = connection.call(new MetadataRequest.Builder(data).build((short) 12));
            return response.data().topics().find(TOPIC);
        }
    }
}
