package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.kafka.PartitionWaits;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.ShareClusterClients.admin;
import static io.tandem.server.ShareClusterClients.shareCoordinator;
import static io.tandem.server.ShareClusterClients.startWithOneShareCoordinator;
import static io.tandem.server.ShareClusterClients.produce;
import static io.tandem.server.ShareClusterClients.shareConsumer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Tandem broker's requests to another broker go at the highest version both serve, as Kafka's NetworkClient picks
 * them from the peer's ApiVersions, and not at all when the peer serves none the sender can use. The peers are real
 * Tandem brokers made to advertise less ({@link NarrowedApiVersions}), as a broker of an older release would: one
 * that serves WriteTxnMarkers v0 only gets its transaction markers at v0 (and the transactions complete), one that
 * serves no WriteTxnMarkers gets none, and its partitions' markers are skipped as Kafka's coordinator skips an
 * UNSUPPORTED_VERSION answer, so the transaction still completes. A share coordinator that serves
 * WriteShareGroupState v0 only gets the share-partition leader's state writes at v0.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InterBrokerVersionsTest {
    private static final String TOPIC = "narrow";

    @TempDir
    Path dir;

    @Test
    void transactionMarkersShouldGoAtTheHighestVersionTheLeaderServes() throws Exception {
        List<String> received = markersTo(NarrowedApiVersions.Range.of(0, 0), true);
        assertFalse(received.isEmpty(), "the other broker's partition got its markers over the wire");
        for (String r : received) assertEquals("WriteTxnMarkers v0", r, received.toString());
    }

    @Test
    void aLeaderServingNoWriteTxnMarkersShouldNotBeSentAnyAndTheTransactionShouldComplete() throws Exception {
        List<String> received = markersTo(null, false);
        assertEquals(List.of(), received, "nothing was sent to a broker that serves no WriteTxnMarkers");
    }

    @Test
    void shareStateWritesShouldGoAtTheHighestVersionTheShareCoordinatorServes() throws Exception {
        try (TandemCluster cluster = startWithOneShareCoordinator(dir, 2);
             Admin admin = admin(cluster)) {
            int shareCoordinator = shareCoordinator(cluster);
            int partitionLeader = shareCoordinator % 2 + 1;
            NarrowedApiVersions coordinator = NarrowedApiVersions.apply(cluster.broker(shareCoordinator)
                    .kafkaBroker(), Map.of(ApiKey.WRITE_SHARE_GROUP_STATE, NarrowedApiVersions.Range.of(0, 0)));
            admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(partitionLeader)))))
                    .all().get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitTopicOnEveryBroker(admin, cluster, TOPIC, 1);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, "narrow-share"),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            produce(cluster, TOPIC, 1, 3, "v");
            int accepted = 0;
            long deadline = System.currentTimeMillis() + 90_000;
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, "narrow-share")) {
                consumer.subscribe(List.of(TOPIC));
                while (accepted < 3) {
                    assertTrue(System.currentTimeMillis() < deadline, "accepted only " + accepted);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                        accepted++;
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
            }
            List<String> received = coordinator.received();
            assertFalse(received.isEmpty(), "the leader wrote the share-partition's state to the coordinator");
            for (String r : received) assertEquals("WriteShareGroupState v0", r, received.toString());
        }
    }

    /**
     * Two brokers, both advertising WriteTxnMarkers as {@code range} (null: not at all); a partition on each, so
     * whichever coordinates the transactions writes one partition's markers over the wire. A committed then an
     * aborted transaction over both; then a third one begins, which only a completed abort lets it do. Returns the
     * WriteTxnMarkers requests the brokers got; with {@code markersWritten} a read_committed consumer must see exactly
     * the committed records.
     */
    private List<String> markersTo(NarrowedApiVersions.Range range, boolean markersWritten) throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, c -> c
                .set("transaction.state.log.num.partitions", "1")
                .set("transaction.state.log.replication.factor", "2")
                .set("transaction.state.log.min.isr", "1")
                .set("offsets.topic.num.partitions", "1"));
             Admin admin = admin(cluster)) {
            Map<ApiKey, NarrowedApiVersions.Range> narrowed = new HashMap<>();
            narrowed.put(ApiKey.WRITE_TXN_MARKERS, range);
            List<NarrowedApiVersions> brokers = List.of(
                    NarrowedApiVersions.apply(cluster.broker(1).kafkaBroker(), narrowed),
                    NarrowedApiVersions.apply(cluster.broker(2).kafkaBroker(), narrowed));
            admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1), 1, List.of(2)))))
                    .all().get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitTopicOnEveryBroker(admin, cluster, TOPIC, 2);
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
            props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "narrow-txn");
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int p = 0; p < 2; p++) producer.send(new ProducerRecord<>(TOPIC, p, null, "commit-" + p));
                producer.commitTransaction();
                producer.beginTransaction();
                for (int p = 0; p < 2; p++) producer.send(new ProducerRecord<>(TOPIC, p, null, "abort-" + p));
                producer.flush();
                producer.abortTransaction();
                // The coordinator takes a new transaction only once the last one's markers are all done.
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, 0, null, "last")).get(60, TimeUnit.SECONDS);
                producer.commitTransaction();
            }
            if (markersWritten) {
                assertEquals(List.of("commit-0", "commit-1", "last"), readCommitted(cluster));
            }
            List<String> received = new ArrayList<>();
            for (NarrowedApiVersions b : brokers) received.addAll(b.received());
            return received;
        }
    }

    private static List<String> readCommitted(TandemCluster cluster) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<TopicPartition> tps = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            List<String> values = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (values.size() < 3 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
            values.sort(null);
            assertTrue(System.currentTimeMillis() < deadline, "read_committed saw only " + values);
            return values;
        }
    }
}
