package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.MetadataWait;
import io.tandem.server.kafka.txn.ImplicitPartitionAdder;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many transaction version 2 producers writing to one broker: the broker adds their partitions to their transactions
 * (Produce v12+) with fewer AddPartitionsToTxn requests than produce requests needing the add, as Kafka's
 * AddPartitionsToTxnManager gathers the adds waiting for one coordinator while its request is under way, whether the
 * coordinator is another broker or the partition's leader itself, and every committed record is read back. The state
 * log is replicated to all three brokers, so each of its writes waits for the followers and the adds arriving
 * meanwhile have a request to wait behind.
 */
class ImplicitAddBatchingTest {
    private static final int PRODUCERS = 12;
    private static final int TRANSACTIONS = 8;
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("transaction.state.log.num.partitions", "1",
            "transaction.state.log.replication.factor", "3", "transaction.state.log.min.isr", "2"));

    @Test
    void concurrentProducersShouldHaveTheirAddsGatheredPerCoordinator() throws Exception {
        String bootstrap = kafka.cluster().runningBootstrapServers();
        int coordinator = coordinator(bootstrap);
        int leader = coordinator % 3 + 1;
        kafka.admin().createTopics(List.of(new NewTopic("gathered", Map.of(0, List.of(leader)))))
                .all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(kafka.cluster(), "gathered", 1);
        ImplicitPartitionAdder adder = kafka.cluster().broker(leader).kafkaBroker().transactions().partitionAdder();
        long addsBefore = adder.remoteAdds();
        long requestsBefore = adder.requestsSent();

        produceConcurrently(bootstrap);

        long adds = adder.remoteAdds() - addsBefore;
        long requests = adder.requestsSent() - requestsBefore;
        // Each transaction's first produce needs the add (a retried one again).
        assertTrue(adds >= PRODUCERS * TRANSACTIONS, "adds: " + adds);
        assertTrue(requests < adds, requests + " AddPartitionsToTxn requests for " + adds + " adds");
        assertAllCommittedReadBack(bootstrap);
    }

    @Test
    void addsForTheLeadersOwnCoordinatorShouldBeGatheredToo() throws Exception {
        String bootstrap = kafka.cluster().runningBootstrapServers();
        int coordinator = coordinator(bootstrap);
        kafka.admin().createTopics(List.of(new NewTopic("gathered", Map.of(0, List.of(coordinator)))))
                .all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(kafka.cluster(), "gathered", 1);
        ImplicitPartitionAdder adder = kafka.cluster().broker(coordinator).kafkaBroker().transactions()
                .partitionAdder();
        long addsBefore = adder.localAdds();
        long callsBefore = adder.localCalls();

        produceConcurrently(bootstrap);

        long adds = adder.localAdds() - addsBefore;
        long calls = adder.localCalls() - callsBefore;
        assertTrue(adds >= PRODUCERS * TRANSACTIONS, "adds: " + adds);
        assertTrue(calls < adds, calls + " coordinator calls for " + adds + " adds");
        assertEquals(0, adder.remoteAdds(), "the coordinator is the leader itself");
        assertAllCommittedReadBack(bootstrap);
    }

    /** The broker coordinating every transactional id (the state log has one partition), made by a first lookup. */
    private int coordinator(String bootstrap) throws Exception {
        try (KafkaProducer<String, String> first = producer(bootstrap, "txn-0")) {
            first.initTransactions();
        }
        return kafka.admin().describeTransactions(List.of("txn-0")).description("txn-0")
                .get(30, TimeUnit.SECONDS).coordinatorId();
    }

    /** {@value #PRODUCERS} producers at once, each committing {@value #TRANSACTIONS} one-record transactions. */
    private static void produceConcurrently(String bootstrap) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PRODUCERS);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                String id = "txn-" + p;
                runs.add(pool.submit(() -> {
                    try (KafkaProducer<String, String> producer = producer(bootstrap, id)) {
                        producer.initTransactions();
                        for (int t = 0; t < TRANSACTIONS; t++) {
                            producer.beginTransaction();
                            producer.send(new ProducerRecord<>("gathered", 0, null, id + "/" + t));
                            producer.commitTransaction();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) run.get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    private void assertAllCommittedReadBack(String bootstrap) throws Exception {
        Set<String> expected = new HashSet<>();
        for (int p = 0; p < PRODUCERS; p++) for (int t = 0; t < TRANSACTIONS; t++) expected.add("txn-" + p + "/" + t);
        List<String> read = readCommitted(bootstrap, expected.size());
        assertEquals(expected, new HashSet<>(read));
        assertEquals(expected.size(), read.size(), "each record once");
    }

    private static KafkaProducer<String, String> producer(String bootstrap, String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        // The coordinator aborts a transaction open longer than this, and the producer's commit under way then fails
        // (INVALID_TXN_STATE in Kafka 4.4, PRODUCER_FENCED from Tandem before it bumped once): the default 60 s is
        // what a producer may wait here anyway (delivery, max block), so a loaded machine could time one out. The
        // test checks the gathering of the adds, not timeouts.
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 300_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** The committed records, once no transaction is open on the partition (its LSO is its log end). */
    private List<String> readCommitted(String bootstrap, int count) throws Exception {
        TopicPartition tp = new TopicPartition("gathered", 0);
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            long stable = kafka.admin().listOffsets(Map.of(tp, OffsetSpec.latest()),
                    new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get(30, TimeUnit.SECONDS).get(tp)
                    .offset();
            long end = kafka.admin().listOffsets(Map.of(tp, OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS)
                    .get(tp).offset();
            if (stable == end) break;
            assertTrue(System.currentTimeMillis() < deadline, "transactions still open");
            Thread.sleep(20);
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> values = new ArrayList<>();
            long readBy = System.currentTimeMillis() + 30_000;
            while (values.size() < count && System.currentTimeMillis() < readBy) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) values.add(r.value());
            }
            return values;
        }
    }
}
