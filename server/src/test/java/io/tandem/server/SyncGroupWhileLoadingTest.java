package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.KafkaBroker;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A classic Java consumer whose SyncGroup reaches its coordinator while the group's {@code __consumer_offsets}
 * partition loads rejoins and goes on consuming: the SyncGroup is answered REBALANCE_IN_PROGRESS, as Kafka 3.9's
 * GroupCoordinator answers it. Kafka 4.4's coordinator runtime answers COORDINATOR_LOAD_IN_PROGRESS there instead,
 * which the Java client's SyncGroup handling (3.9 and 4.4 alike) has no case for: it fails the consumer's poll with
 * "Unexpected error from SyncGroup" (see GroupCoordinator#syncGroup for why Tandem keeps 3.9's answer). The load is
 * the coordinator's own state while it reads the partition, set by the test while the consumer's first JoinGroup
 * waits out the initial rebalance delay, so the SyncGroup that follows the JoinGroup answer finds it loading.
 */
class SyncGroupWhileLoadingTest {
    private static final String GROUP = "g";
    private static final int INITIAL_DELAY_MS = 3_000;
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(1, Map.of("offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1",
            "group.initial.rebalance.delay.ms", String.valueOf(INITIAL_DELAY_MS)));

    @Test
    void aSyncGroupDuringTheLoadShouldMakeTheConsumerRejoinNotFail() throws Exception {
        String bootstrap = kafka.cluster().runningBootstrapServers();
        kafka.admin().createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("t", "k", "v")).get(30, TimeUnit.SECONDS);
        }
        KafkaBroker broker = kafka.cluster().broker(1).kafkaBroker();

        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<ConsumerRecord<String, String>> consumed = pool.submit(() -> {
                try (KafkaConsumer<String, String> consumer = consumer(bootstrap)) {
                    consumer.subscribe(List.of("t"));
                    long deadline = System.currentTimeMillis() + 60_000;
                    while (System.currentTimeMillis() < deadline) {
                        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) return r;
                    }
                    return null;
                }
            });
            // The first JoinGroup waits out the initial delay: the group is PreparingRebalance meanwhile.
            long deadline = System.currentTimeMillis() + 30_000;
            while (groupState() != GroupState.PREPARING_REBALANCE) {
                assertTrue(System.currentTimeMillis() < deadline, "the consumer never joined");
                Thread.sleep(10);
            }
            broker.groups().partitionLoading(0);
            try {
                // The delay ends, the JoinGroup is answered and the SyncGroup after it finds the partition loading;
                // the consumer's rejoins meanwhile are answered COORDINATOR_LOAD_IN_PROGRESS, which it retries.
                Thread.sleep(INITIAL_DELAY_MS + 1_500);
                assertTrue(!consumed.isDone() || consumed.get() == null, "consumed while the group loads");
            } finally {
                broker.groups().partitionLoaded(0);
            }
            ConsumerRecord<String, String> record = consumed.get(60, TimeUnit.SECONDS);
            assertEquals("v", record == null ? null : record.value(), "the consumer rejoined and consumed");
        } finally {
            pool.shutdownNow();
        }
    }

    /** The group's state, or null before the consumer's first JoinGroup made it. */
    private GroupState groupState() throws Exception {
        try {
            return kafka.admin().describeConsumerGroups(List.of(GROUP)).all().get(30, TimeUnit.SECONDS).get(GROUP)
                    .groupState();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) return null;
            throw e;
        }
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
