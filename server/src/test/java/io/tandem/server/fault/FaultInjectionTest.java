package io.tandem.server.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.server.Tandem;
import io.tandem.server.junit.TandemExtension;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Faults injected into a real node, seen by Apache's own Kafka and ZooKeeper clients. */
class FaultInjectionTest {
    @RegisterExtension
    static TandemExtension node = TandemExtension.configured(c -> c.set("num.partitions", "1"));

    @AfterEach
    void clearFaults() {
        node.tandem().faults().clear();
    }

    @Test
    void shouldLetTheProducerRetryThroughTwoInjectedNotLeaderErrorsAndStoreTheRecordOnce() throws Exception {
        Tandem tandem = node.tandem();
        createTopic(tandem, "retried");
        FaultRule rule = tandem.faults().kafka(ApiKey.PRODUCE).times(2).error(Errors.NOT_LEADER_OR_FOLLOWER);
        try (KafkaProducer<String, String> producer = producer(tandem)) {
            RecordMetadata sent = producer.send(new ProducerRecord<>("retried", "k", "v")).get(30, TimeUnit.SECONDS);
            assertEquals(0, sent.offset(), "the third attempt stored the record first in the partition");
            assertEquals(2, rule.matched(), "both injected errors were answered");
            assertFalse(rule.isLive(), "the rule is used up");
            assertTrue(metric(producer, "record-retry-total") >= 2, "the producer retried after each error");
        }
        assertEquals(1, endOffset(tandem, "retried"), "the record is stored once");
    }

    @Test
    void shouldLetTheProducerReconnectAfterAnInjectedDroppedConnection() throws Exception {
        Tandem tandem = node.tandem();
        createTopic(tandem, "dropped");
        FaultRule rule = tandem.faults().kafka(ApiKey.PRODUCE).times(1).drop();
        try (KafkaProducer<String, String> producer = producer(tandem)) {
            producer.send(new ProducerRecord<>("dropped", "k", "v")).get(30, TimeUnit.SECONDS);
            assertEquals(1, rule.matched());
            assertTrue(metric(producer, "connection-close-total") >= 1, "the producer saw its connection close");
        }
        assertEquals(1, endOffset(tandem, "dropped"));
    }

    @Test
    void shouldDelayKafkaRequestsOfTheRuledApiOnly() throws Exception {
        Tandem tandem = node.tandem();
        createTopic(tandem, "delayed");
        tandem.faults().kafka(ApiKey.LIST_OFFSETS).delay(Duration.ofMillis(600)).times(1).install();
        long started = System.nanoTime();
        assertEquals(0, endOffset(tandem, "delayed"));
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMs >= 600, "ListOffsets waited out the delay: " + tookMs + " ms");
    }

    @Test
    void shouldDelayAZooKeeperReadAndKeepTheSessionsRepliesInOrder() throws Exception {
        try (ZooKeeper zk = connect(node.tandem())) {
            zk.create("/slow", "x".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            FaultRule rule = node.tandem().faults().zookeeper(OpCode.GET_DATA).delay(Duration.ofMillis(400)).times(1)
                    .install();
            List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
            CountDownLatch both = new CountDownLatch(2);
            long started = System.nanoTime();
            zk.getData("/slow", false, (rc, path, ctx, data, stat) -> {
                order.add("getData " + rc);
                both.countDown();
            }, null);
            zk.exists("/slow", false, (rc, path, ctx, stat) -> {
                order.add("exists " + rc);
                both.countDown();
            }, null);
            assertTrue(both.await(10, TimeUnit.SECONDS));
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(tookMs >= 400, "the read waited out the delay: " + tookMs + " ms");
            assertEquals(List.of("getData 0", "exists 0"), order, "the later request is answered after it");
            assertEquals(1, rule.matched());
            assertArrayEquals("x".getBytes(), zk.getData("/slow", false, null), "the next read is not delayed");
        }
    }

    @Test
    void shouldAnswerAZooKeeperWriteWithTheInjectedErrorWithoutApplyingIt() throws Exception {
        try (ZooKeeper zk = connect(node.tandem())) {
            node.tandem().faults().zookeeper(OpCode.CREATE).times(1).error(KeeperCode.NO_AUTH);
            assertThrows(KeeperException.NoAuthException.class, () -> zk.create("/refused", new byte[0],
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            assertEquals(null, zk.exists("/refused", false), "the failed create changed nothing");
            zk.create("/refused", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
    }

    @Test
    void shouldLetTheZooKeeperClientReconnectToItsSessionAfterADroppedConnection() throws Exception {
        try (ZooKeeper zk = connect(node.tandem())) {
            long session = zk.getSessionId();
            zk.create("/kept", "v".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            node.tandem().faults().zookeeper(OpCode.GET_DATA).times(1).drop();
            assertThrows(KeeperException.ConnectionLossException.class, () -> zk.getData("/kept", false, null));
            // A request made while the client is still tearing the old connection down fails the same way; the
            // client then reconnects on its own.
            byte[] data = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (data == null) {
                try {
                    data = zk.getData("/kept", false, null);
                } catch (KeeperException.ConnectionLossException e) {
                    assertTrue(System.nanoTime() - deadline < 0, "the client reconnected");
                    Thread.sleep(20);
                }
            }
            assertArrayEquals("v".getBytes(), data, "reconnected; the ephemeral is kept");
            assertEquals(session, zk.getSessionId(), "the same session");
        }
    }

    @Test
    void shouldHoldEveryRequestOfAPausedNodeUntilItIsResumed() throws Exception {
        try (ZooKeeper zk = connect(node.tandem())) {
            node.tandem().faults().pause(Tandem.NODE_NAME);
            CompletableFuture<Integer> answered = new CompletableFuture<>();
            zk.exists("/", false, (rc, path, ctx, stat) -> answered.complete(rc), null);
            Thread.sleep(300);
            assertFalse(answered.isDone(), "a paused node answers nothing");
            assertTrue(node.tandem().faults().resume(Tandem.NODE_NAME));
            assertEquals(0, answered.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldRefuseAnErrorRuleForAnApiItCannotAnswer() {
        FaultController faults = node.tandem().faults();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> faults.kafka(ApiKey.CREATE_TOPICS).error(Errors.NOT_CONTROLLER));
        assertTrue(e.getMessage().contains("CreateTopics") && e.getMessage().contains("Produce"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> faults.kafkaAny().error(Errors.NOT_CONTROLLER));
        assertThrows(IllegalArgumentException.class, () -> faults.zookeeper(OpCode.CREATE).install(),
                "a rule that does nothing");
        assertTrue(faults.rules().isEmpty(), "nothing was armed");
    }

    static void createTopic(Tandem tandem, String name) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                tandem.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    static long endOffset(Tandem tandem, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                tandem.bootstrapServers()))) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return admin.listOffsets(Map.of(partition, org.apache.kafka.clients.admin.OffsetSpec.latest())).all()
                    .get(30, TimeUnit.SECONDS).get(partition).offset();
        }
    }

    static KafkaProducer<String, String> producer(Tandem tandem) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, "10");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    static double metric(KafkaProducer<?, ?> producer, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : producer.metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals("producer-metrics")) {
                return ((Number) e.getValue().metricValue()).doubleValue();
            }
        }
        throw new AssertionError("no producer metric " + name);
    }

    static ZooKeeper connect(Tandem tandem) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(tandem.zookeeperConnect(), 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS), "connected");
        return zk;
    }
}
