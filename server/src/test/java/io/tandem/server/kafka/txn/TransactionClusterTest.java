package io.tandem.server.kafka.txn;

import io.tandem.server.Tandem;
import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.MetadataWait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Transactions on three Tandem brokers: the coordinator writes markers over the wire (WriteTxnMarkers) to partition
 * leaders on other brokers, and a transaction opened with one coordinator commits through the next one when the
 * leadership of its {@code __transaction_state} partition moves.
 */
class TransactionClusterTest {
    private static final int BROKERS = 3;
    private static final Map<String, String> SETTINGS = Map.of("transaction.state.log.num.partitions", "1",
            "transaction.state.log.replication.factor", "3", "transaction.state.log.min.isr", "2",
            "offsets.topic.num.partitions", "1", "offsets.topic.replication.factor", "3",
            "group.initial.rebalance.delay.ms", "0");
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(BROKERS, SETTINGS);

    private String bootstrap() {
        return kafka.cluster().runningBootstrapServers();
    }

    private KafkaProducer<String, String> producer(String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /**
     * Every record a read_committed consumer sees, once every transaction on the partitions is complete: EndTxn is
     * answered once PrepareCommit/PrepareAbort is replicated and the markers follow (as Kafka's), so until the last
     * stable offset reaches the log end offset a partition's committed records are not readable yet.
     */
    private List<String> readCommitted(String topic, int partitions) throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartition tp : tps) latest.put(tp, OffsetSpec.latest());
        long settled = System.currentTimeMillis() + 30_000;
        while (true) {
            var stable = kafka.admin().listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                    .all().get(30, TimeUnit.SECONDS);
            var logEnd = kafka.admin().listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            if (tps.stream().allMatch(tp -> stable.get(tp).offset() == logEnd.get(tp).offset())) break;
            assertTrue(System.currentTimeMillis() < settled, "transactions still open on " + topic);
            Thread.sleep(20);
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
            List<String> values = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                    && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) values.add(r.value());
            }
            return values;
        }
    }

    private TopicDescription describe(String topic) throws Exception {
        return kafka.admin().describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    }

    @Test
    void aTransactionVersionUpdateThroughOneBrokerShouldReachEveryBroker() throws Exception {
        try (Admin first = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.cluster().broker(1).bootstrapServers()))) {
            assertEquals(2, first.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS).finalizedFeatures()
                    .get("transaction.version").maxVersionLevel());
            first.updateFeatures(Map.of("transaction.version", new org.apache.kafka.clients.admin.FeatureUpdate(
                    (short) 1, org.apache.kafka.clients.admin.FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)),
                    new org.apache.kafka.clients.admin.UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS);
        }
        // Each broker learns it from the /feature znode's watch, and reports it with a newer epoch.
        for (int id = 1; id <= BROKERS; id++) {
            Tandem broker = kafka.cluster().broker(id);
            try (Admin one = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers()))) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (true) {
                    var features = one.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS);
                    var level = features.finalizedFeatures().get("transaction.version");
                    if (level != null && level.maxVersionLevel() == 1) {
                        assertTrue(features.finalizedFeaturesEpoch().orElseThrow() > 0);
                        break;
                    }
                    assertTrue(System.nanoTime() < deadline, broker.bootstrapServers() + " still reports " + level);
                    Thread.sleep(50);
                }
            }
        }
    }

    @Test
    void markersShouldReachPartitionLeadersOnOtherBrokers() throws Exception {
        Admin admin = kafka.admin();
        // One partition on each broker, so whichever broker coordinates, two markers go over the wire.
        admin.createTopics(List.of(new NewTopic("spread", Map.of(0, List.of(1), 1, List.of(2), 2, List.of(3)))))
                .all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(kafka.cluster(), "spread", 3);
        try (KafkaProducer<String, String> producer = producer("spread-txn")) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int p = 0; p < 3; p++) producer.send(new ProducerRecord<>("spread", p, null, "commit-" + p));
            producer.commitTransaction();
            producer.beginTransaction();
            for (int p = 0; p < 3; p++) producer.send(new ProducerRecord<>("spread", p, null, "abort-" + p));
            producer.flush();
            producer.abortTransaction();
        }
        Set<Integer> leaders = new HashSet<>();
        for (var p : describe("spread").partitions()) leaders.add(p.leader().id());
        assertEquals(Set.of(1, 2, 3), leaders);
        List<String> values = readCommitted("spread", 3);
        assertEquals(Set.of("commit-0", "commit-1", "commit-2"), new HashSet<>(values), values.toString());
        assertEquals(3, values.size());
    }

    @Test
    void aTransactionShouldCommitThroughTheNextCoordinatorWhenItsStatePartitionMoves() throws Exception {
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic("moving", 3, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                .all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(kafka.cluster(), "moving", 3);
        try (KafkaProducer<String, String> producer = producer("moving-txn")) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int p = 0; p < 3; p++) producer.send(new ProducerRecord<>("moving", p, null, "v" + p)).get();
            int coordinator = admin.describeTransactions(List.of("moving-txn")).description("moving-txn")
                    .get(30, TimeUnit.SECONDS).coordinatorId();
            // The coordinator created its state topic (InitProducerId); the others hear of it from the controller.
            MetadataWait.propagated(kafka.cluster(), "__transaction_state", 1);
            Node before = describe("__transaction_state").partitions().get(0).leader();
            assertEquals(before.id(), coordinator, "the coordinator is the state partition's leader");
            kafka.cluster().stopBroker(coordinator);
            // The new leader of the state partition loads the Ongoing transaction; the producer finds it and commits.
            producer.commitTransaction();
        }
        List<String> values = readCommitted("moving", 3);
        assertEquals(Set.of("v0", "v1", "v2"), new HashSet<>(values), values.toString());
        int newCoordinator = admin.describeTransactions(List.of("moving-txn")).description("moving-txn")
                .get(30, TimeUnit.SECONDS).coordinatorId();
        // EndTxn is answered once PrepareCommit is replicated, as Kafka's; CompleteCommit follows once every
        // marker is, so it is awaited rather than expected at once.
        long deadline = System.currentTimeMillis() + 30_000;
        String state;
        while (!(state = admin.describeTransactions(List.of("moving-txn")).description("moving-txn")
                .get(30, TimeUnit.SECONDS).state().toString()).equals("CompleteCommit")
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals("CompleteCommit", state, "coordinator " + newCoordinator);
    }
}
