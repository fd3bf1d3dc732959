package io.tandem.compat.kafka.differential;

import io.tandem.server.ReplicaFetchSessionProbe;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.replica.FetchSessionHandler;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Kafka cluster of one Tandem broker and one Apache Kafka 3.9.1 broker (ZooKeeper mode, a separate JVM) on a
 * Tandem ZooKeeper, talking Kafka's own inter-broker protocol: the Tandem broker starts first and is the controller,
 * partitions with a replica on each kind are led by either, each kind follows the other, and clients produce and
 * consume through either.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MixedClusterTest {
    /**
     * Both brokers retry a controlled shutdown they cannot complete (the last broker still leading partitions with two
     * replicas) 100 ms apart, as Kafka's own test brokers do (TestUtils.createBrokerConfig), instead of Kafka's 5 s, so
     * the end of a test does not wait 10 s for the three tries to run out.
     */
    private static final String RETRY_BACKOFF = "controlled.shutdown.retry.backoff.ms";
    private static final String FAST_RETRY = "100";

    @TempDir
    Path dir;

    @Test
    void shouldReplicateBetweenATandemBrokerAndAnApacheBroker() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             Tandem tandem = startTandemBroker(zookeeper);
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Map.of("broker.id", "2", "offsets.topic.replication.factor", "2",
                             "group.initial.rebalance.delay.ms", "0", RETRY_BACKOFF, FAST_RETRY))) {
            String bootstrap = tandem.bootstrapServers() + ",127.0.0.1:" + apache.port();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                long deadline = System.currentTimeMillis() + 120_000;
                while (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() < 2) {
                    assertTrue(apache.alive(), "Apache Kafka stopped:\n" + apache.logTail());
                    assertTrue(System.currentTimeMillis() < deadline, "Apache Kafka never registered:\n" + apache.logTail());
                    Thread.sleep(200);
                }
                // Leaders on both kinds: partition 0 led by Tandem (1), partition 1 by Apache (2).
                admin.createTopics(List.of(new NewTopic("mixed", Map.of(0, List.of(1, 2), 1, List.of(2, 1)))))
                        .all().get(60, TimeUnit.SECONDS);
                Properties producerProps = new Properties();
                producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps, new StringSerializer(),
                        new StringSerializer())) {
                    produceForty(producer, "mixed", 2, bootstrap, apache);
                }
                deadline = System.currentTimeMillis() + 60_000;
                while (true) {
                    TopicDescription d = admin.describeTopics(List.of("mixed")).allTopicNames().get(30, TimeUnit.SECONDS)
                            .get("mixed");
                    boolean allInSync = d.partitions().stream().allMatch(p -> p.isr().size() == 2);
                    if (allInSync) {
                        for (TopicPartitionInfo p : d.partitions()) assertEquals(p.replicas().get(0), p.leader());
                        break;
                    }
                    assertTrue(System.currentTimeMillis() < deadline, "followers never caught up: " + d
                            + "\n" + apache.logTail());
                    Thread.sleep(200);
                }
            }
            assertEquals(40, consume(bootstrap, "mixed").size(), "every record through either kind of broker");
            // Both kinds replicate through incremental fetch sessions (KIP-227): Apache's follower keeps one with the
            // Tandem leader (it always does; the catch-up above went through it), and the Tandem follower holds one
            // that the Apache leader granted and carries on incrementally.
            long deadline = System.currentTimeMillis() + 30_000;
            while (true) {
                FetchSessionHandler.Stats session = ReplicaFetchSessionProbe.fetchSessions(tandem).get(2);
                // Idle fetches name no partition: fewer named than held once the records are in.
                if (session != null && session.sessionId() != 0 && session.incrementalFetches() >= 3
                        && session.incrementalPartitionsSent() < session.incrementalSessionPartitions()) {
                    break;
                }
                assertTrue(System.currentTimeMillis() < deadline, "no incremental session with the Apache leader"
                        + " naming only changed partitions: " + session + "\n" + apache.logTail());
                Thread.sleep(100);
            }

            // The Apache broker stops: the Tandem controller moves partition 1 to the Tandem broker, whose follower
            // copy of the Apache leader's log then serves all of it.
            apache.close();
            awaitLeader(tandem.bootstrapServers(), "mixed", 1, 1);
            assertEquals(40, consume(tandem.bootstrapServers(), "mixed").size(),
                    "the Tandem follower had every record the Apache leader acknowledged");
        }
    }

    @Test
    void shouldLetAnApacheControllerTakeOverFromATandemController() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            Tandem tandem = startTandemBroker(zookeeper);
            // The Tandem broker is the controller before Apache's starts, so that what Apache takes over is the state
            // a Tandem controller wrote (the first broker to create /controller wins; both racing, either could).
            try {
                awaitController(tandem.bootstrapServers(), 1, () -> "");
            } catch (Exception | Error e) {
                tandem.close();
                throw e;
            }
            try (ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                    Map.of("broker.id", "2", RETRY_BACKOFF, FAST_RETRY))) {
                String bootstrap = tandem.bootstrapServers() + ",127.0.0.1:" + apache.port();
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    long deadline = System.currentTimeMillis() + 120_000;
                    while (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() < 2) {
                        assertTrue(System.currentTimeMillis() < deadline, "Apache Kafka never registered:\n" + apache.logTail());
                        Thread.sleep(200);
                    }
                    admin.createTopics(List.of(new NewTopic("handed", Map.of(0, List.of(1, 2)))))
                            .all().get(60, TimeUnit.SECONDS);
                    Properties producerProps = new Properties();
                    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                    producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
                    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps,
                            new StringSerializer(), new StringSerializer())) {
                        produceForty(producer, "handed", 1, bootstrap, apache);
                    }
                }
                // The Tandem broker (leader and controller) stops: Apache's broker becomes controller, reads the
                // state Tandem's controller wrote, leads the partition and serves every acknowledged record.
                tandem.close();
                String apacheOnly = "127.0.0.1:" + apache.port();
                awaitLeader(apacheOnly, "handed", 0, 2);
                assertEquals(40, consumeOne(apacheOnly, "handed").size(), "the Apache follower had every record:\n"
                        + apache.logTail());
            } finally {
                tandem.close();
            }
        }
    }

    @Test
    void shouldFollowAnApacheControllerAsATandemBroker() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ApacheBroker apache = ApacheBroker.zookeeperMode(dir.resolve("apache"), zookeeper.zookeeperConnect(),
                     Map.of("broker.id", "2", RETRY_BACKOFF, FAST_RETRY))) {
            String apacheOnly = "127.0.0.1:" + apache.port();
            awaitController(apacheOnly, 2, apache::logTail);
            // Apache's broker is the controller; the Tandem broker joins and leads a partition Apache follows.
            try (Tandem tandem = startTandemBroker(zookeeper);
                 Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                         apacheOnly + "," + tandem.bootstrapServers()))) {
                long deadline = System.currentTimeMillis() + 120_000;
                while (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() < 2) {
                    assertTrue(System.currentTimeMillis() < deadline, "the Tandem broker never joined");
                    Thread.sleep(200);
                }
                admin.createTopics(List.of(new NewTopic("followed", Map.of(0, List.of(1, 2)))))
                        .all().get(60, TimeUnit.SECONDS);
                awaitLeader(apacheOnly, "followed", 0, 1);
                Properties producerProps = new Properties();
                producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, apacheOnly + "," + tandem.bootstrapServers());
                producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps,
                        new StringSerializer(), new StringSerializer())) {
                    produceForty(producer, "followed", 1, apacheOnly + "," + tandem.bootstrapServers(), apache);
                }
                assertEquals(40, consumeOne(tandem.bootstrapServers(), "followed").size(), apache.logTail());
            }
            // The Tandem leader is gone: the Apache controller makes its own follower the leader, with every record.
            awaitLeader(apacheOnly, "followed", 0, 2);
            assertEquals(40, consumeOne(apacheOnly, "followed").size(), apache.logTail());
        }
    }

    /** The Tandem broker, id 1, on {@code zookeeper}, retrying its controlled shutdown as {@link #FAST_RETRY} says. */
    private Tandem startTandemBroker(Tandem zookeeper) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("tandem"))
                .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", "1")
                .set("zookeeper.connect", zookeeper.zookeeperConnect())
                .set(RETRY_BACKOFF, FAST_RETRY));
    }

    /**
     * Sends records v0..v39 round-robin over {@code partitions}, each acknowledged before the next; a record not
     * acknowledged in time fails with what the next engineer needs to see: who leads, who is in sync, what Apache said.
     */
    private static void produceForty(KafkaProducer<String, String> producer, String topic, int partitions,
                                     String bootstrap, ApacheBroker apache) throws Exception {
        for (int i = 0; i < 40; i++) {
            try {
                producer.send(new ProducerRecord<>(topic, i % partitions, null, "v" + i)).get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException stalled) {
                String state;
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    state = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).toString();
                } catch (Exception e) {
                    state = "(describe failed: " + e + ")";
                }
                throw new AssertionError("record " + i + " to partition " + (i % partitions) + " not acknowledged: "
                        + state + "\nApache's log:\n" + apache.logTail(), stalled);
            }
        }
    }

    /** Waits until the controller, as the brokers at {@code bootstrap} describe it, is broker {@code id}. */
    private static void awaitController(String bootstrap, int id, java.util.function.Supplier<String> log)
            throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            long deadline = System.currentTimeMillis() + 120_000;
            while (true) {
                org.apache.kafka.common.Node controller = null;
                try {
                    controller = admin.describeCluster().controller().get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException notYet) {
                    // A broker still starting (a JVM start on a loaded machine) answers nothing yet: ask again.
                }
                if (controller != null && controller.id() == id) return;
                assertTrue(System.currentTimeMillis() < deadline, "broker " + id + " never became controller ("
                        + controller + "):\n" + log.get());
                Thread.sleep(200);
            }
        }
    }

    private static void awaitLeader(String bootstrap, String topic, int partition, int leader) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            long deadline = System.currentTimeMillis() + 90_000;
            while (true) {
                try {
                    TopicPartitionInfo p = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                            .get(topic).partitions().get(partition);
                    if (p.leader() != null && p.leader().id() == leader) return;
                } catch (java.util.concurrent.ExecutionException e) {
                    // the cluster is changing hands; ask again
                }
                assertTrue(System.currentTimeMillis() < deadline, "broker " + leader + " never led " + topic + "-" + partition);
                Thread.sleep(200);
            }
        }
    }

    private static List<String> consumeOne(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            long deadline = System.currentTimeMillis() + 60_000;
            while (values.size() < 40 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }

    private static List<String> consume(String bootstrap, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
            long deadline = System.currentTimeMillis() + 60_000;
            while (values.size() < 40 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }
}
