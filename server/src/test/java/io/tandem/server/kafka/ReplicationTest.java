package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.server.Tandem;
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
class ReplicationTest extends ReplicationClusterTest {
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
                // A consumer's Fetch below v11 (no client metadata) needs the leader, as Kafka's
                // FetchParams.fetchOnlyLeader; from v11 a follower serves it (KIP-392, FetchFromFollowerTest).
                FetchResponse fetched = c.roundTrip(ApiKey.FETCH, (short) 10, (short) 0, fetchRequest("leaders"),
                        FetchResponse::read);
                assertEquals(expected, fetched.responses.get(0).partitions.get(0).errorCode,
                        "fetch from broker " + replica.id());
                FetchResponse fetchedV11 = c.roundTrip(ApiKey.FETCH, (short) 11, (short) 0, fetchRequest("leaders"),
                        FetchResponse::read);
                assertEquals(Errors.NONE.code(), fetchedV11.responses.get(0).partitions.get(0).errorCode,
                        "fetch v11 from broker " + replica.id());
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
            use(kafka.start(2, config -> {
                config.set("replica.lag.time.max.ms", "1000");
                if (config.get("broker.id").equals("1")) {
                    config.kafkaPort(port).set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                }
                return config;
            }, zookeeperConnect -> { }));
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
            use(kafka.start(2, config -> {
                if (config.get("broker.id").equals("1")) {
                    config.kafkaPort(port).set("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                }
                return config;
            }, zookeeperConnect -> { }));
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

    private static ZooKeeper zkClient(String zookeeperConnect) throws Exception {
        return ReplicationClients.zkClient(zookeeperConnect);
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
