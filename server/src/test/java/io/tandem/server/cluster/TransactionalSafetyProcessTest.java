package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.cluster.TransactionalWorkload.Outcome;
import io.tandem.server.cluster.TransactionalWorkload.Txn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transactional safety check against real processes (issue 10 part 6): three Tandem nodes (ZooKeeper members and
 * brokers), four transactional writers committing and aborting multi-partition transactions on a topic with three
 * replicas and min.insync.replicas=2, while the node leading the transaction coordinator's partition is SIGKILLed and
 * restarted, then the leader of a data partition. Afterwards a read_committed consumer reads every partition from the
 * start, and {@link TransactionalChecker} finds no aborted read, no lost committed write, no partly visible
 * transaction, no duplicate and no writer out of order; write cycles (G0) are counted and printed.
 */
// A hang guard, not under test: the start on a loaded machine, then 210 s for the rest.
@Timeout(value = ProcessCluster.START_AWAIT_S + 210, unit = TimeUnit.SECONDS)
class TransactionalSafetyProcessTest {
    private static final String NAME = "TransactionalSafetyProcessTest";
    private static final String TOPIC = "txn-safety";
    private static final String TXN_STATE = "__transaction_state";
    private static final int PARTITIONS = 4;
    private static final int WRITERS = 4;

    @TempDir
    Path dir;
    private ProcessCluster cluster;
    private TransactionalWorkload workload;

    @AfterEach
    void stopEverything() throws Exception {
        if (workload != null) workload.close();
        if (cluster != null) cluster.close();
    }

    @Test
    void noAbortedReadNoLostCommitAndAtomicTransactionsAcrossCoordinatorAndLeaderKills() throws Throwable {
        Map<String, String> settings = new HashMap<>(KafkaClusterProcessTest.clusterSettings());
        settings.put("transaction.state.log.replication.factor", "3");
        settings.put("transaction.state.log.min.isr", "2");
        settings.put("transaction.state.log.num.partitions", "1");
        settings.put("offsets.topic.num.partitions", "1");
        cluster = new ProcessCluster(dir, 3, settings);
        try {
            cluster.startAll();
            cluster.createTopic(TOPIC, PARTITIONS, 3);
            cluster.awaitAllInSync(TOPIC, PARTITIONS, "the new topic");
            workload = new TransactionalWorkload(cluster.bootstrapServers(), TOPIC, PARTITIONS, WRITERS);
            awaitCommits(20, "the first commits");
            cluster.awaitAllInSync(TXN_STATE, 1, "the coordinator's partition");

            killAndRestart(cluster.leader(TXN_STATE, 0), "transaction coordinator");
            awaitCommits(workload.count(Outcome.COMMITTED) + 20, "commits after the coordinator's restart");
            killAndRestart(cluster.leader(TOPIC, 0), "leader of partition 0");
            awaitCommits(workload.count(Outcome.COMMITTED) + 20, "commits after the leader's restart");

            Map<String, Txn> txns = workload.finish();
            workload = null;
            Map<Integer, List<String>> read = readCommitted();
            TransactionalChecker.Report report = TransactionalChecker.check(txns, read);
            long committed = txns.values().stream().filter(t -> t.outcome() == Outcome.COMMITTED).count();
            long aborted = txns.values().stream().filter(t -> t.outcome() == Outcome.ABORTED).count();
            System.out.println(NAME + ": " + txns.size() + " transactions (" + committed + " committed, " + aborted
                    + " aborted, " + (txns.size() - committed - aborted) + " unknown), " + report.visibleTxns()
                    + " visible; write cycles (G0, allowed by Kafka's design): " + report.writeCycles());
            assertTrue(report.errors().isEmpty(), String.join("\n", report.errors()));
            assertTrue(committed >= 60, "the workload made progress: " + committed);
        } catch (Throwable t) {
            cluster.printLogDigests();
            throw t;
        }
    }

    private void awaitCommits(int count, String what) throws Exception {
        cluster.await(what + " (" + count + ")", () -> workload.count(Outcome.COMMITTED) >= count ? true : null);
    }

    private void killAndRestart(int id, String what) throws Exception {
        cluster.kill(id);
        System.out.println(NAME + ": " + what + " (node " + id + ") killed with SIGKILL");
        cluster.await("another leader after the kill of node " + id, () -> {
            int leader = cluster.leader(TXN_STATE, 0);
            return leader != id && leader > 0 ? true : null;
        });
        cluster.start(id);
        cluster.awaitAllInSync(TOPIC, PARTITIONS, "node " + id + " restarted");
        cluster.awaitAllInSync(TXN_STATE, 1, "node " + id + " restarted");
    }

    /** Every partition from its start to its end at read_committed, once no transaction is open any more. */
    private Map<Integer, List<String>> readCommitted() throws Exception {
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) partitions.add(new TopicPartition(TOPIC, p));
        try (KafkaConsumer<String, String> committed = consumer("read_committed");
             KafkaConsumer<String, String> uncommitted = consumer("read_uncommitted")) {
            // A transaction left open by a writer that gave up is aborted by its timeout: the stable offset then
            // reaches the end of each partition.
            Map<TopicPartition, Long> ends = cluster.await("no open transaction left", () -> {
                Map<TopicPartition, Long> stable = committed.endOffsets(partitions, Duration.ofSeconds(10));
                Map<TopicPartition, Long> high = uncommitted.endOffsets(partitions, Duration.ofSeconds(10));
                return stable.equals(high) ? stable : null;
            });
            committed.assign(partitions);
            committed.seekToBeginning(partitions);
            Map<Integer, List<String>> read = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) read.put(p, new ArrayList<>());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partitions.stream().anyMatch(tp -> committed.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) throw new AssertionError("could not read to the end: " + ends);
                for (ConsumerRecord<String, String> record : committed.poll(Duration.ofMillis(500))) {
                    read.get(record.partition()).add(record.value());
                }
            }
            return read;
        }
    }

    private KafkaConsumer<String, String> consumer(String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
