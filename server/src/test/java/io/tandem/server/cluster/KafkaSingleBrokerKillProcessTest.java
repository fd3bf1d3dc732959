package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One node (ZooKeeper and Kafka in one process) SIGKILLed under acks=all idempotent produce load while a consumer
 * group commits, then restarted on the same data directory (issue 12.7): every acknowledged record is there, the
 * idempotent producer carries on (its retries of batches in flight at the kill are neither duplicated nor refused
 * as out of sequence, so the broker kept each producer's state), and the group's committed offsets are the last ones
 * the broker acknowledged.
 */
// A hang guard, not under test: the start on a loaded machine, then 210 s for the rest.
@Timeout(value = ProcessCluster.START_AWAIT_S + 210, unit = TimeUnit.SECONDS)
class KafkaSingleBrokerKillProcessTest extends SequenceLoadProcessTest {
    private static final String NAME = "KafkaSingleBrokerKillProcessTest";
    private static final String TOPIC = "sequence";
    private static final String GROUP = "committer";
    private static final int PARTITIONS = 3;

    @Test
    void shouldKeepAcknowledgedRecordsProducerStateAndCommittedOffsetsAcrossSigkill() throws Throwable {
        // A short broker session: the killed broker's registration (kept by the restarted ZooKeeper) goes soon.
        cluster = new ProcessCluster(dir, 1, Map.of("zookeeper.session.timeout.ms", "6000"), false);
        Committer committer = null;
        try {
            cluster.startAll();
            produceTo(TOPIC, PARTITIONS, 1_000);
            committer = new Committer(cluster.bootstrapServers());
            Committer running = committer;
            cluster.await("acknowledged records and commits", () ->
                    producer.ackCount() >= 2_000 && running.commits.get() >= 20 ? true : null);

            cluster.kill(1);
            long killedAcks = producer.ackCount();
            long restartedAt = System.nanoTime();
            cluster.start(1);
            SequenceProducer.Failover resumed = producer.watchFailover(java.util.Set.of());
            cluster.await("an acknowledged record after the restart", () ->
                    resumed.firstAckNanos().get() != 0 ? true : null);
            System.out.println(NAME + ": killed after " + killedAcks + " acknowledged records; the restarted broker"
                    + " acknowledged again " + TimeUnit.NANOSECONDS.toMillis(resumed.firstAckNanos().get()
                    - restartedAt) + " ms after its process started");
            long afterRestart = producer.ackCount() + 1_000;
            cluster.await("more acknowledged records", () -> producer.ackCount() >= afterRestart ? true : null);
            long commitsBefore = committer.commits.get();
            cluster.await("commits after the restart", () ->
                    running.commits.get() >= commitsBefore + 5 ? true : null);

            committer.close();
            Map<TopicPartition, Long> stored;
            try (Admin admin = cluster.admin()) {
                stored = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                        .get(ProcessCluster.AWAIT_MS, TimeUnit.MILLISECONDS).entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            }
            assertFalse(committer.lastAcknowledged.isEmpty(), "the group committed");
            assertEquals(committer.committedPartitions(), stored.keySet(), "offsets of the partitions committed");
            for (Map.Entry<TopicPartition, Long> e : stored.entrySet()) {
                assertTrue(committer.possible(e.getKey()).contains(e.getValue()), e.getKey() + ": stored offset "
                        + e.getValue() + ", but the last acknowledged commit and the later unanswered ones were "
                        + committer.possible(e.getKey()));
            }
            System.out.println(NAME + ": committed offsets " + stored + " after " + committer.commits.get()
                    + " acknowledged commits");
            producer.finish();
            producer.verifyEveryAcknowledgedRecordOnce(NAME);
        } catch (Throwable t) {
            cluster.printLogDigests();
            throw t;
        } finally {
            if (committer != null) committer.close();
        }
    }

    /**
     * A group member that consumes the topic and commits what it consumed after each poll (commitSync), remembering
     * the offsets of the last commit the broker acknowledged and of the commits after it whose answer never came
     * (the broker died, the call timed out or was woken up): those may or may not have been applied, as for any
     * Kafka client, so the stored offset must be one of them. Commits are made one at a time, in order.
     */
    private static final class Committer implements AutoCloseable {
        final Map<TopicPartition, Long> lastAcknowledged = new ConcurrentHashMap<>();
        /** Per partition: offsets of commits sent after the last acknowledged one, with no answer. */
        final Map<TopicPartition, java.util.Set<Long>> unanswered = new ConcurrentHashMap<>();
        final AtomicLong commits = new AtomicLong();
        private final KafkaConsumer<String, String> consumer;
        private final Thread thread;
        private volatile boolean running = true;

        Committer(String bootstrapServers) {
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
            consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
            thread = new Thread(this::run, "group-committer");
            thread.start();
        }

        private void run() {
            try {
                consumer.subscribe(List.of(TOPIC));
                while (running) {
                    try {
                        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                        if (records.isEmpty()) continue;
                        Map<TopicPartition, OffsetAndMetadata> offsets = new java.util.HashMap<>();
                        for (TopicPartition tp : records.partitions()) {
                            var list = records.records(tp);
                            offsets.put(tp, new OffsetAndMetadata(list.get(list.size() - 1).offset() + 1));
                        }
                        offsets.forEach((tp, o) -> unanswered.computeIfAbsent(tp,
                                k -> ConcurrentHashMap.newKeySet()).add(o.offset()));
                        consumer.commitSync(offsets, Duration.ofSeconds(5));
                        offsets.forEach((tp, o) -> {
                            lastAcknowledged.put(tp, o.offset());
                            unanswered.remove(tp);
                        });
                        commits.incrementAndGet();
                    } catch (WakeupException e) {
                        return;
                    } catch (RuntimeException e) {
                        // The broker is down or the group is rebalancing: not acknowledged, the next commit covers it.
                    }
                }
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }

        java.util.Set<TopicPartition> committedPartitions() {
            java.util.Set<TopicPartition> all = new java.util.HashSet<>(lastAcknowledged.keySet());
            all.addAll(unanswered.keySet());
            return all;
        }

        /** The offsets the broker may hold for {@code tp}: the last acknowledged one and any unanswered since. */
        java.util.Set<Long> possible(TopicPartition tp) {
            java.util.Set<Long> offsets = new java.util.TreeSet<>(unanswered.getOrDefault(tp, java.util.Set.of()));
            Long acknowledged = lastAcknowledged.get(tp);
            if (acknowledged != null) offsets.add(acknowledged);
            return offsets;
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            consumer.wakeup();
            thread.join(ProcessCluster.AWAIT_MS);
            assertTrue(!thread.isAlive(), "the committer stopped");
        }
    }
}
