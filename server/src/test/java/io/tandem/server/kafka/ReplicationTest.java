package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replication on a cluster of three Tandem brokers on one Tandem ZooKeeper, through the controller and Kafka's
 * inter-broker protocol: followers fetch from leaders, the ISR and the high watermark say only what is true, only
 * leaders serve clients, acks=all honours min.insync.replicas (before and after the append), and when a leader
 * stops another in-sync replica takes over with every acknowledged record.
 */
class ReplicationTest {
    private static final int BROKERS = 3;
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.startedByEachTest();
    private TandemCluster cluster;
    private Admin admin;

    private void startBrokers(Map<String, String> settings) throws Exception {
        startBrokers(settings, zookeeperConnect -> { });
    }

    /** Three brokers with {@code settings}, after {@code beforeBrokers} has written what they are to find. */
    private void startBrokers(Map<String, String> settings, TandemCluster.BeforeBrokers beforeBrokers)
            throws Exception {
        cluster = kafka.start(BROKERS, settings, beforeBrokers);
        admin = kafka.admin();
    }

    @Test
    void shouldReplicateToEveryReplicaAndReportOnlyInSyncOnesInTheIsr() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("rf3", 3, (short) 3))).all().get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = producer("all", "true")) {
            for (int i = 0; i < 30; i++) producer.send(new ProducerRecord<>("rf3", i % 3, null, "v" + i)).get(30, TimeUnit.SECONDS);
        }
        TopicDescription description = PartitionWaits.describe(admin, "rf3");
        try (ZooKeeper zk = zkClient()) {
            for (TopicPartitionInfo p : description.partitions()) {
                assertEquals(3, p.replicas().size(), "three replicas are assigned");
                assertEquals(p.replicas().get(0), p.leader(), "the first live replica leads");
                assertEquals(3, p.isr().size(), "every follower fetched the acknowledged records: " + p.isr());
                String state = new String(zk.getData("/brokers/topics/rf3/partitions/" + p.partition() + "/state",
                        false, null), StandardCharsets.UTF_8);
                assertTrue(state.contains("\"leader\":" + p.leader().id()), state);
            }
        }
        // Each follower's own log holds the leader's records: stop every leader in turn and read from the next one.
        for (int round = 0; round < 2; round++) {
            Node leader = PartitionWaits.describe(admin, "rf3").partitions().get(0).leader();
            cluster.stopBroker(leader.id());
            PartitionWaits.awaitLeaderChange(admin, "rf3", 0, leader.id());
            assertEquals(30, consumeAll("rf3", 30).size(), "every acknowledged record survived leader " + leader.id());
        }
    }

    @Test
    void shouldKeepAnIdempotentProducersSequenceAndTheGroupsOffsetsAcrossLeaderChanges() throws Exception {
        startBrokers(Map.of("offsets.topic.replication.factor", "3", "offsets.topic.num.partitions", "3",
                "group.initial.rebalance.delay.ms", "0"));
        admin.createTopics(List.of(new NewTopic("moving", 1, (short) 3)
                .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "movers");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaProducer<String, String> producer = producer("all", "true")) {
            for (int i = 0; i < 20; i++) producer.send(new ProducerRecord<>("moving", "v" + i)).get(30, TimeUnit.SECONDS);
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of("moving"));
                int read = 0;
                long deadline = System.currentTimeMillis() + 30_000;
                while (read < 20 && System.currentTimeMillis() < deadline) read += consumer.poll(Duration.ofMillis(200)).count();
                assertEquals(20, read);
                consumer.commitSync(Duration.ofSeconds(30));
            }
            // The partition's leader stops and the same producer goes on; the leader returns and catches up into
            // the ISR; then the group's coordinator stops.
            int leader = PartitionWaits.describe(admin, "moving").partitions().get(0).leader().id();
            cluster.stopBroker(leader);
            PartitionWaits.awaitLeaderChange(admin, "moving", 0, leader);
            for (int i = 20; i < 30; i++) producer.send(new ProducerRecord<>("moving", "v" + i)).get(30, TimeUnit.SECONDS);
            cluster.restartBroker(leader);
            PartitionWaits.awaitIsrSize(admin, cluster, "moving", 0, 3);
            int coordinator = admin.describeConsumerGroups(List.of("movers")).all().get(30, TimeUnit.SECONDS)
                    .get("movers").coordinator().id();
            cluster.stopBroker(coordinator);
            for (int i = 30; i < 40; i++) producer.send(new ProducerRecord<>("moving", "v" + i)).get(30, TimeUnit.SECONDS);
        }
        List<String> values = consumeAll("moving", 40);
        assertEquals(40, values.size(), "nothing lost, nothing written twice: " + values);
        assertEquals(40, new java.util.HashSet<>(values).size(), "no duplicates from the producer's retries");
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        try (KafkaConsumer<String, String> resumed = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            resumed.subscribe(List.of("moving"));
            List<String> rest = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (rest.size() < 20 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : resumed.poll(Duration.ofMillis(200))) rest.add(r.value());
            }
            assertEquals("v20", rest.get(0), "the group resumed from its committed offset on the new coordinator");
            assertEquals(20, rest.size());
        }
    }

    @Test
    void shouldMoveLeadershipAwayBeforeAStoppingBrokerIsGone() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("handover", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        // The controller has elected the new partition and told its leader (a ControlledShutdown that reaches the
        // controller before the topic's creation does finds nothing to move, as in Kafka: CI saw that once).
        PartitionWaits.awaitIsrSize(admin, cluster, "handover", 0, 3);
        int leader = PartitionWaits.describe(admin, "handover").partitions().get(0).leader().id();
        cluster.stopBroker(leader);
        PartitionWaits.awaitLeaderChange(admin, "handover", 0, leader);
        // ControlledShutdown: the controller moved the leadership (and the ISR) while the broker was still
        // registered, so the state changed before the registration went (ZooKeeper's zxids order the two).
        try (ZooKeeper zk = zkClient()) {
            org.apache.zookeeper.data.Stat state = zk.exists("/brokers/topics/handover/partitions/0/state", false);
            org.apache.zookeeper.data.Stat ids = zk.exists("/brokers/ids", false);
            assertTrue(state.getMzxid() < ids.getPzxid(), "leadership moved at zxid " + state.getMzxid()
                    + ", after broker " + leader + "'s registration went at " + ids.getPzxid());
            String data = new String(zk.getData("/brokers/topics/handover/partitions/0/state", false, null),
                    StandardCharsets.UTF_8);
            assertFalse(data.matches(".*\"isr\":\\[[^\\]]*\\b" + leader + "\\b.*"), data);
        }
    }

    /**
     * Kafka 3.9's controlled shutdown retries (KafkaServer.controlledShutdown): a stopping broker whose request to the
     * controller fails asks again controlled.shutdown.retry.backoff.ms later, up to controlled.shutdown.max.retries
     * times. Broker 2 stops while the controller (broker 1, reached through a proxy) is cut off, and the link heals
     * between its first and second try: only the second can move its leadership before it is gone. Before, the tries
     * were 200 ms apart whatever the setting, and all were spent before the link healed.
     */
    @Test
    void shouldRetryAFailedControlledShutdownAfterTheBackoff() throws Exception {
        int port = io.tandem.server.ensemble.TestEnsemble.freePort();
        try (io.tandem.server.ensemble.FaultyProxy proxy = new io.tandem.server.ensemble.FaultyProxy(port)) {
            // Broker 1 starts first, so it is the controller; the others reach it through the proxy.
            cluster = kafka.start(2, config -> {
                // Broker 2's alone: the last broker to stop at the end still leads, and need not wait that long.
                if (config.get("broker.id").equals("2")) config.set("controlled.shutdown.retry.backoff.ms", "3000");
                if (config.get("broker.id").equals("1")) {
                    config.kafkaPort(port).set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                }
                return config;
            }, zookeeperConnect -> { });
            admin = kafka.admin();
            admin.createTopics(List.of(new NewTopic("retried", Map.of(0, List.of(2, 1))))).all()
                    .get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitIsrSize(admin, cluster, "retried", 0, 2);
            proxy.cut();
            java.util.concurrent.CompletableFuture<Void> stopped = java.util.concurrent.CompletableFuture.runAsync(
                    () -> cluster.stopBroker(2));
            Thread.sleep(1_000);
            proxy.heal();
            stopped.get(60, TimeUnit.SECONDS);
            assertLeadershipMovedBeforeTheBrokerWent("retried", 1);
        }
    }

    /**
     * A broker whose leadership no other in-sync replica can take is told so by every try; it waits the backoff
     * between them and then stops anyway (Kafka's "unclean shutdown" after the last try). Before, the first such
     * answer ended the controlled shutdown at once.
     */
    @Test
    void shouldTryEveryRetryWhileAPartitionCannotMoveThenStopAnyway() throws Exception {
        startBrokers(Map.of("controlled.shutdown.retry.backoff.ms", "1000"));
        admin.createTopics(List.of(new NewTopic("stuck", Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, cluster, "stuck", 0, 2);
        // Its follower goes first: then broker 1 is the partition's only in-sync replica.
        cluster.stopBroker(2);
        PartitionWaits.awaitIsrSize(admin, cluster, "stuck", 0, 1);
        long started = System.nanoTime();
        cluster.stopBroker(1);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMs >= 2_000, "three tries wait two backoffs of 1 s, but the stop took " + tookMs + " ms");
    }

    /** The partition's state names {@code leader}, written while the stopped broker was still registered. */
    private void assertLeadershipMovedBeforeTheBrokerWent(String topic, int leader) throws Exception {
        try (ZooKeeper zk = zkClient()) {
            String path = "/brokers/topics/" + topic + "/partitions/0/state";
            org.apache.zookeeper.data.Stat state = zk.exists(path, false);
            org.apache.zookeeper.data.Stat ids = zk.exists("/brokers/ids", false);
            String data = new String(zk.getData(path, false, null), StandardCharsets.UTF_8);
            assertTrue(data.contains("\"leader\":" + leader), "the leadership moved to broker " + leader + ": " + data);
            assertTrue(state.getMzxid() < ids.getPzxid(), "leadership moved at zxid " + state.getMzxid()
                    + ", the broker's registration went at " + ids.getPzxid() + ": the move must come first; " + data);
        }
    }

    @Test
    void shouldElectThePreferredLeaderBackOnRequest() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("preferred", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        int preferred = PartitionWaits.describe(admin, "preferred").partitions().get(0).replicas().get(0).id();
        cluster.stopBroker(preferred);
        PartitionWaits.awaitLeaderChange(admin, "preferred", 0, preferred);
        cluster.restartBroker(preferred);
        PartitionWaits.awaitIsrSize(admin, cluster, "preferred", 0, 3);
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("preferred", 0);
        // Kafka's Admin sends ElectLeaders to the controller it last learnt of and, unlike CreateTopics, does not look
        // again on NOT_CONTROLLER: when the stopped broker was the controller, this test's client may still name it
        // (it answers again, as a broker), as it would with Apache's brokers. A client made now learns the new one.
        try (Admin elector = Admin.create(Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap()))) {
            elector.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tp)).all()
                    .get(30, TimeUnit.SECONDS);
            assertEquals(preferred, PartitionWaits.describe(admin, "preferred").partitions().get(0).leader().id());
            ExecutionException again = assertThrows(ExecutionException.class, () -> elector.electLeaders(
                    org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tp)).all().get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.ElectionNotNeededException.class, again.getCause());
        }
    }

    @Test
    void shouldMoveLeadershipBackToThePreferredReplicaOnItsOwn() throws Exception {
        Map<String, String> fastRebalance = Map.of("leader.imbalance.check.interval.seconds", "1");
        startBrokers(fastRebalance);
        admin.createTopics(List.of(new NewTopic("rebalanced", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        int preferred = PartitionWaits.describe(admin, "rebalanced").partitions().get(0).replicas().get(0).id();
        cluster.stopBroker(preferred);
        PartitionWaits.awaitLeaderChange(admin, "rebalanced", 0, preferred);
        cluster.restartBroker(preferred);
        long deadline = System.currentTimeMillis() + 30_000;
        while (PartitionWaits.describe(admin, "rebalanced").partitions().get(0).leader() == null
                || PartitionWaits.describe(admin, "rebalanced").partitions().get(0).leader().id() != preferred) {
            assertTrue(System.currentTimeMillis() < deadline, "leadership never went back to broker " + preferred);
            Thread.sleep(100);
        }
    }

    @Test
    void shouldMoveAPartitionToOtherBrokersWithItsRecords() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("moved", Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = producer("all", "true")) {
            for (int i = 0; i < 20; i++) producer.send(new ProducerRecord<>("moved", "v" + i)).get(30, TimeUnit.SECONDS);
        }
        assertTrue(java.nio.file.Files.exists(cluster.dataDir().resolve("broker1").resolve("kafka-logs").resolve("moved-0")));
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition("moved", 0);
        admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                new org.apache.kafka.clients.admin.NewPartitionReassignment(List.of(2, 3))))).all().get(30, TimeUnit.SECONDS);
        long deadline = System.currentTimeMillis() + 30_000;
        while (!admin.listPartitionReassignments().reassignments().get(30, TimeUnit.SECONDS).isEmpty()
                || PartitionWaits.describe(admin, "moved").partitions().get(0).isr().size() != 2) {
            assertTrue(System.currentTimeMillis() < deadline, "the reassignment never finished");
            Thread.sleep(100);
        }
        TopicPartitionInfo p = PartitionWaits.describe(admin, "moved").partitions().get(0);
        assertEquals(List.of(2, 3), p.replicas().stream().map(Node::id).toList());
        assertTrue(List.of(2, 3).contains(p.leader().id()));
        deadline = System.currentTimeMillis() + 30_000;
        while (java.nio.file.Files.exists(cluster.dataDir().resolve("broker1").resolve("kafka-logs").resolve("moved-0"))) {
            assertTrue(System.currentTimeMillis() < deadline, "the removed replica's log was not deleted");
            Thread.sleep(100);
        }
        // Broker 3 got every record: it alone serves them once broker 2 is gone.
        cluster.stopBroker(2);
        PartitionWaits.awaitLeaderChange(admin, "moved", 0, 2);
        assertEquals(20, consumeAll("moved", 20).size());
    }

    @Test
    void shouldDeleteATopicAskedForUnderAdminDeleteTopics() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("doomed", 2, (short) 3))).all().get(30, TimeUnit.SECONDS);
        try (ZooKeeper zk = zkClient()) {
            // What kafka-topics.sh --zookeeper and Apache brokers write to ask the controller.
            zk.create("/admin/delete_topics/doomed", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            long deadline = System.currentTimeMillis() + 30_000;
            while (zk.exists("/brokers/topics/doomed", false) != null || zk.exists("/admin/delete_topics/doomed", false) != null) {
                assertTrue(System.currentTimeMillis() < deadline, "the controller never deleted the topic");
                Thread.sleep(50);
            }
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("doomed")) {
            assertTrue(System.currentTimeMillis() < deadline, "brokers still list the deleted topic");
            Thread.sleep(50);
        }
    }

    /**
     * Kafka's TopicDeletionManager: a deletion asked while a replica's broker is down deletes the live replicas and
     * hides the topic, but keeps its znodes (and the name taken) until that broker returns and deletes its replica
     * too; before, the topic went at once and the down broker kept its old replica for good.
     */
    @Test
    void shouldKeepADeletedTopicUntilTheReplicaOnADownBrokerIsDeletedToo() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("doomed", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitTopicOnEveryBroker(admin, cluster, "doomed", 1);
        Path[] replicas = new Path[BROKERS];
        for (int id = 1; id <= BROKERS; id++) {
            replicas[id - 1] = cluster.dataDir().resolve("broker" + id).resolve("kafka-logs").resolve("doomed-0");
            assertTrue(java.nio.file.Files.exists(replicas[id - 1]), "broker " + id + " holds a replica");
        }
        cluster.stopBroker(3);
        try (ZooKeeper zk = zkClient()) {
            long deadline = System.currentTimeMillis() + 30_000;
            while (zk.exists("/brokers/ids/3", false) != null) {
                assertTrue(System.currentTimeMillis() < deadline, "broker 3 never left");
                Thread.sleep(50);
            }
            zk.create("/admin/delete_topics/doomed", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            while (java.nio.file.Files.exists(replicas[0]) || java.nio.file.Files.exists(replicas[1])
                    || admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("doomed")) {
                assertTrue(System.currentTimeMillis() < deadline, "the live replicas were not deleted");
                Thread.sleep(50);
            }
            // Not a wait for something to happen: the topic must not go while broker 3 is down.
            long until = System.currentTimeMillis() + 1_000;
            while (System.currentTimeMillis() < until) {
                assertTrue(zk.exists("/brokers/topics/doomed", false) != null, "the topic went before its last replica");
                assertTrue(zk.exists("/admin/delete_topics/doomed", false) != null, "the request went too early");
                Thread.sleep(100);
            }
            ExecutionException taken = assertThrows(ExecutionException.class, () -> admin.createTopics(
                    List.of(new NewTopic("doomed", 1, (short) 2))).all().get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.TopicExistsException.class, taken.getCause());
            assertTrue(java.nio.file.Files.exists(replicas[2]), "broker 3 is down: its replica is still on its disk");

            cluster.restartBroker(3);
            deadline = System.currentTimeMillis() + 30_000;
            while (zk.exists("/brokers/topics/doomed", false) != null || zk.exists("/admin/delete_topics/doomed", false) != null) {
                assertTrue(System.currentTimeMillis() < deadline, "the deletion did not finish once broker 3 returned");
                Thread.sleep(50);
            }
            assertFalse(java.nio.file.Files.exists(replicas[2]), "broker 3's replica was deleted");
        }
        admin.createTopics(List.of(new NewTopic("doomed", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
    }

    @Test
    void shouldRefuseAReplicationFactorAboveTheLiveBrokerCount() throws Exception {
        startBrokers(Map.of());
        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(
                List.of(new NewTopic("rf4", 1, (short) 4))).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidReplicationFactorException.class, e.getCause());
    }

    @Test
    void shouldAnswerProduceFetchAndListOffsetsOnlyOnTheLeader() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("leaders", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitTopicOnEveryBroker(admin, cluster, "leaders", 1);
        TopicPartitionInfo p = PartitionWaits.describe(admin, "leaders").partitions().get(0);
        for (Node replica : p.replicas()) {
            Tandem broker = cluster.broker(replica.id());
            boolean leader = replica.id() == p.leader().id();
            short expected = leader ? Errors.NONE.code() : Errors.NOT_LEADER_OR_FOLLOWER.code();
            try (RawKafkaConnection c = new RawKafkaConnection(broker.kafkaPort())) {
                ProduceResponse produced = c.roundTrip(ApiKey.PRODUCE, (short) 9, (short) 1,
                        produceRequest("leaders", (short) -1), ProduceResponse::read);
                assertEquals(expected, produced.responses.get(0).partitionResponses.get(0).errorCode,
                        "produce to broker " + replica.id());
                FetchResponse fetched = c.roundTrip(ApiKey.FETCH, (short) 11, (short) 0, fetchRequest("leaders"),
                        FetchResponse::read);
                assertEquals(expected, fetched.responses.get(0).partitions.get(0).errorCode,
                        "fetch from broker " + replica.id());
                ListOffsetsResponse listed = c.roundTrip(ApiKey.LIST_OFFSETS, (short) 7, (short) 1,
                        TestRequests.latestOffsetRequest("leaders"), ListOffsetsResponse::read);
                assertEquals(expected, listed.topics.get(0).partitions.get(0).errorCode,
                        "list offsets on broker " + replica.id());
                if (leader) {
                    assertEquals(1, listed.topics.get(0).partitions.get(0).offset,
                            "acks=all answered, so the record is committed on the leader");
                }
            }
        }
    }

    @Test
    void shouldRefuseAcksAllWhenTheIsrIsBelowMinInsyncReplicas() throws Exception {
        startBrokers(Map.of());
        admin.createTopics(List.of(new NewTopic("guarded", 1, (short) 3)
                .configs(Map.of("min.insync.replicas", "3")))).all().get(30, TimeUnit.SECONDS);
        TopicPartitionInfo p = PartitionWaits.describe(admin, "guarded").partitions().get(0);
        int follower = p.replicas().get(2).id();
        cluster.stopBroker(follower);
        PartitionWaits.awaitIsrSize(admin, cluster, "guarded", 0, 2);
        try (KafkaProducer<String, String> all = producer("all", "false");
             KafkaProducer<String, String> one = producer("1", "false")) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> all.send(new ProducerRecord<>("guarded", "k", "v")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(NotEnoughReplicasException.class, e.getCause());
            assertEquals(0, one.send(new ProducerRecord<>("guarded", "k", "v")).get(30, TimeUnit.SECONDS).offset(),
                    "acks=1 does not ask for min.insync.replicas");
        }
    }

    @Test
    void shouldAnswerNotEnoughReplicasAfterAppendWhenTheIsrShrinksUnderAWaitingProduce() throws Exception {
        // Broker 1 leads; its follower reaches it only through a proxy the test can cut. Broker 1 starts first, so
        // it is also the controller and takes the ISR change itself.
        int port = io.tandem.server.ensemble.TestEnsemble.freePort();
        try (io.tandem.server.ensemble.FaultyProxy proxy = new io.tandem.server.ensemble.FaultyProxy(port)) {
            cluster = kafka.start(2, config -> {
                config.set("replica.lag.time.max.ms", "1000");
                if (config.get("broker.id").equals("1")) {
                    config.kafkaPort(port).set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                }
                return config;
            }, zookeeperConnect -> { });
            admin = kafka.admin();
            admin.createTopics(List.of(new NewTopic("shrinking", Map.of(0, List.of(1, 2)))
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
            PartitionWaits.awaitIsrSize(admin, cluster, "shrinking", 0, 2);
            proxy.cut();
            try (RawKafkaConnection c = new RawKafkaConnection(port)) {
                ProduceRequest request = produceRequest("shrinking", (short) -1);
                request.timeoutMs = 20_000;
                ProduceResponse produced = c.roundTrip(ApiKey.PRODUCE, (short) 9, (short) 1, request, ProduceResponse::read);
                assertEquals(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND.code(),
                        produced.responses.get(0).partitionResponses.get(0).errorCode,
                        "appended while both were in sync, then the follower fell out of the ISR");
            }
        }
    }

    /**
     * A follower's ListOffsets (replica id = its broker id, as Kafka's fetcher asks after OFFSET_OUT_OF_RANGE) learns
     * the leader's log end; a consumer's (replica id -1) its high watermark. The follower is cut off, so a record
     * written with acks=1 stays above the high watermark while it is in the ISR.
     */
    @Test
    void shouldAnswerAReplicasListOffsetsFromTheLogEndAndAConsumersFromTheHighWatermark() throws Exception {
        int port = io.tandem.server.ensemble.TestEnsemble.freePort();
        try (io.tandem.server.ensemble.FaultyProxy proxy = new io.tandem.server.ensemble.FaultyProxy(port)) {
            cluster = kafka.start(2, config -> {
                if (config.get("broker.id").equals("1")) {
                    config.kafkaPort(port).set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                }
                return config;
            }, zookeeperConnect -> { });
            admin = kafka.admin();
            admin.createTopics(List.of(new NewTopic("ends", Map.of(0, List.of(1, 2))))).all().get(30,
                    TimeUnit.SECONDS);
            PartitionWaits.awaitIsrSize(admin, cluster, "ends", 0, 2);
            proxy.cut();
            try (RawKafkaConnection c = new RawKafkaConnection(port)) {
                ProduceResponse produced = c.roundTrip(ApiKey.PRODUCE, (short) 9, (short) 1,
                        produceRequest("ends", (short) 1), ProduceResponse::read);
                assertEquals(Errors.NONE.code(), produced.responses.get(0).partitionResponses.get(0).errorCode);
                ListOffsetsResponse consumer = c.roundTrip(ApiKey.LIST_OFFSETS, (short) 9, (short) 1,
                        TestRequests.latestOffsetRequest("ends"), ListOffsetsResponse::read);
                assertEquals(0, consumer.topics.get(0).partitions.get(0).offset, "a consumer sees the high watermark");
                io.tandem.kafka.wire.message.ListOffsetsRequest fromReplica = TestRequests.latestOffsetRequest("ends");
                fromReplica.replicaId = 2;
                ListOffsetsResponse replica = c.roundTrip(ApiKey.LIST_OFFSETS, (short) 9, (short) 1, fromReplica,
                        ListOffsetsResponse::read);
                assertEquals(Errors.NONE.code(), replica.topics.get(0).partitions.get(0).errorCode);
                assertEquals(1, replica.topics.get(0).partitions.get(0).offset, "a replica sees the log end");
            }
        }
    }

    @Test
    void shouldDropUnregisteredBrokersFromTheIsrWhenTheControllerLoadsTheState() throws Exception {
        // What an earlier run wrote: broker 7, never registered here, is claimed in sync.
        startBrokers(Map.of(), zookeeperConnect -> {
            try (ZooKeeper zk = zkClient(zookeeperConnect)) {
                zk.create("/brokers", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create("/brokers/topics", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create("/brokers/topics/stale", ("{\"version\":3,\"partitions\":{\"0\":[1,7]},"
                        + "\"adding_replicas\":{},\"removing_replicas\":{},\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAQ\"}")
                        .getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create("/brokers/topics/stale/partitions", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT);
                zk.create("/brokers/topics/stale/partitions/0", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT);
                zk.create("/brokers/topics/stale/partitions/0/state",
                        "{\"version\":1,\"leader\":1,\"leader_epoch\":0,\"controller_epoch\":1,\"isr\":[1,7]}"
                                .getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        });
        TopicPartitionInfo p = PartitionWaits.describe(admin, "stale").partitions().get(0);
        assertEquals(1, p.leader().id());
        assertEquals(List.of(p.leader()), p.isr());
        try (ZooKeeper zk = zkClient()) {
            String state = new String(zk.getData("/brokers/topics/stale/partitions/0/state", false, null),
                    StandardCharsets.UTF_8);
            assertTrue(state.contains("\"isr\":[1]"), state);
        }
    }

    private List<String> consumeAll(String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(admin.describeTopics(List.of(topic)).allTopicNames().toCompletionStage().toCompletableFuture()
                    .join().get(topic).partitions().stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList());
            long deadline = System.currentTimeMillis() + 30_000;
            while (values.size() < expected && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }

    private String bootstrap() {
        return cluster.runningBootstrapServers();
    }

    private KafkaProducer<String, String> producer(String acks, String idempotent) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ProducerConfig.ACKS_CONFIG, acks);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
        // Without retries a refused write fails at once instead of retrying until the delivery timeout.
        if (idempotent.equals("false")) props.put(ProducerConfig.RETRIES_CONFIG, "0");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private ZooKeeper zkClient() throws Exception {
        return zkClient(cluster.zookeeperConnect());
    }

    private static ZooKeeper zkClient(String zookeeperConnect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(zookeeperConnect, 10_000, e -> connected.countDown());
        assertTrue(connected.await(10, TimeUnit.SECONDS), "ZooKeeper session");
        return zk;
    }

    private static ProduceRequest produceRequest(String topic, short acks) {
        return TestRequests.produce(topic, TestRequests.batch("v"), acks, 5000);
    }

    private static FetchRequest fetchRequest(String topic) {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = 0;
        request.minBytes = 1;
        FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
        t.topic = topic;
        FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
        p.partition = 0;
        p.partitionMaxBytes = 1 << 20;
        t.partitions.add(p);
        request.topics.add(t);
        return request;
    }
}
