package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.TandemCluster;
import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.MetadataWait;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.EligibleLeadersNotAvailableException;
import org.apache.kafka.common.errors.PreferredLeaderNotAvailableException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Unclean leader election on three brokers, as Kafka 3.9's ZooKeeper-mode controller makes it. With
 * {@code unclean.leader.election.enable=false} a partition whose only in-sync replica is gone stays offline (leader -1,
 * the last ISR kept) until an operator's ElectLeaders UNCLEAN; then the live replica that was not in sync leads, alone
 * in the ISR. The preferred election cannot help (its replica is down), a second unclean election finds a live leader,
 * and with no live replica there is nobody to elect. With the key true on the topic the controller elects that replica
 * by itself (offlinePartitionLeaderElection), and turning the key on (the topic's, or the broker default dynamically)
 * elects the partitions already offline, as Kafka's TopicConfigHandler and DynamicLogConfig have the controller do.
 */
class UncleanLeaderElectionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "unclean";
    private static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);
    /** The record acknowledged by the last in-sync replica alone, which an unclean election gives up. */
    private static final String LOST = "written while the follower was down";
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of());
    private TandemCluster cluster;
    private ZkZnodeStore store;
    private Admin admin;

    @BeforeEach
    void start() throws Exception {
        cluster = kafka.cluster();
        admin = kafka.admin();
        store = ZkZnodeStore.connect(cluster.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    @AfterEach
    void stop() throws Exception {
        if (store != null) store.close();
    }

    @Test
    void anUncleanElectionMakesTheLiveOutOfSyncReplicaTheLeaderAloneInTheIsr() throws Exception {
        int[] replicas = outOfSyncReplicaLeftAlive(Map.of());
        int leader = replicas[0];
        int follower = replicas[1];
        // Kafka's controller marks the partition offline when its last in-sync replica goes, and keeps that replica
        // as the ISR: the records only it holds are not given up without an operator's say.
        JsonNode offline = awaitState(s -> s.get("leader").asInt() == -1, "the partition went offline");
        assertEquals(List.of(leader), isr(offline), "the last in-sync replica stays the ISR: " + offline);

        ExecutionException preferred = assertThrows(ExecutionException.class,
                () -> admin.electLeaders(ElectionType.PREFERRED, Set.of(PARTITION)).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(PreferredLeaderNotAvailableException.class, preferred.getCause());

        admin.electLeaders(ElectionType.UNCLEAN, Set.of(PARTITION)).all().get(30, TimeUnit.SECONDS);
        JsonNode elected = JSON.readTree(store.getData(KafkaZkLayout.partitionStatePath(TOPIC, 0)));
        assertEquals(follower, elected.get("leader").asInt(), "the out-of-sync replica leads: " + elected);
        assertEquals(List.of(follower), isr(elected), "and is the whole ISR: " + elected);
        assertEquals(offline.get("leader_epoch").asInt() + 1, elected.get("leader_epoch").asInt(), "a new leader epoch");
        MetadataWait.propagated(cluster, TOPIC, 1);
        TopicPartitionInfo described = awaitDescribed(p -> p.leader() != null && p.leader().id() == follower);
        assertEquals(List.of(follower), described.isr().stream().map(Node::id).toList(), "ISR in Metadata");

        ExecutionException again = assertThrows(ExecutionException.class,
                () -> admin.electLeaders(ElectionType.UNCLEAN, Set.of(PARTITION)).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(ElectionNotNeededException.class, again.getCause());

        cluster.stopBroker(follower);
        awaitUnregistered(follower);
        ExecutionException nobody = assertThrows(ExecutionException.class,
                () -> admin.electLeaders(ElectionType.UNCLEAN, Set.of(PARTITION)).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(EligibleLeadersNotAvailableException.class, nobody.getCause());
    }

    @Test
    void aTopicAllowingUncleanElectionGetsTheOutOfSyncReplicaAsLeaderByItselfAndItServes() throws Exception {
        int[] roles = outOfSyncReplicaLeftAlive(Map.of("unclean.leader.election.enable", "true"));
        int follower = roles[1];
        JsonNode elected = awaitState(s -> s.get("leader").asInt() == follower, "the out-of-sync replica elected");
        assertEquals(List.of(follower), isr(elected), "it is the whole ISR: " + elected);
        assertServes(follower);
    }

    @Test
    void turningUncleanElectionOnForATopicElectsItsOfflinePartition() throws Exception {
        int[] roles = outOfSyncReplicaLeftAlive(Map.of());
        int follower = roles[1];
        JsonNode offline = awaitState(s -> s.get("leader").asInt() == -1, "the partition went offline");
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, TOPIC), List.of(
                new AlterConfigOp(new ConfigEntry("unclean.leader.election.enable", "true"),
                        AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        JsonNode elected = awaitState(s -> s.get("leader").asInt() == follower, "the config change elected a leader");
        assertEquals(List.of(follower), isr(elected), "it is the whole ISR: " + elected);
        assertEquals(offline.get("leader_epoch").asInt() + 1, elected.get("leader_epoch").asInt(), "a new leader epoch");
        assertServes(follower);
    }

    @Test
    void turningTheBrokerDefaultOnElectsOfflinePartitions() throws Exception {
        int[] roles = outOfSyncReplicaLeftAlive(Map.of());
        int follower = roles[1];
        awaitState(s -> s.get("leader").asInt() == -1, "the partition went offline");
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.BROKER, ""), List.of(
                new AlterConfigOp(new ConfigEntry("unclean.leader.election.enable", "true"),
                        AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        JsonNode elected = awaitState(s -> s.get("leader").asInt() == follower, "the default change elected a leader");
        assertEquals(List.of(follower), isr(elected), "it is the whole ISR: " + elected);
        assertServes(follower);
    }

    /**
     * The partition on the two brokers that are not the controller: its follower stops, a record is acknowledged by
     * the leader alone, the leader stops and the follower comes back, out of sync and alive. Returns {leader, follower}.
     */
    private int[] outOfSyncReplicaLeftAlive(Map<String, String> topicConfigs) throws Exception {
        int controller = awaitController();
        List<Integer> replicas = new ArrayList<>(List.of(1, 2, 3));
        replicas.remove(Integer.valueOf(controller));
        int leader = replicas.get(0);
        int follower = replicas.get(1);
        Map<String, String> configs = new java.util.HashMap<>(topicConfigs);
        configs.put("min.insync.replicas", "1");
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, replicas)).configs(configs)))
                .all().get(30, TimeUnit.SECONDS);
        JsonNode state = awaitState(s -> s.get("isr").size() == 2, "both replicas in sync");
        assertEquals(leader, state.get("leader").asInt(), "the preferred replica leads: " + state);
        cluster.stopBroker(follower);
        awaitState(s -> isr(s).equals(List.of(leader)), "the stopped follower left the ISR");
        try (KafkaProducer<String, String> producer = producer(leader)) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, LOST)).get(30, TimeUnit.SECONDS);
        }
        cluster.stopBroker(leader);
        cluster.restartBroker(follower);
        awaitRegistered(follower);
        return new int[] {leader, follower};
    }

    /** The new leader takes produce and serves it to a consumer; the record only the lost leader held is gone. */
    private void assertServes(int leader) throws Exception {
        MetadataWait.propagated(cluster, TOPIC, 1);
        awaitDescribed(p -> p.leader() != null && p.leader().id() == leader);
        try (KafkaProducer<String, String> producer = producer(leader)) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, "after the unclean election")).get(30, TimeUnit.SECONDS);
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.broker(leader).bootstrapServers());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(List.of(PARTITION));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
            assertEquals(List.of("after the unclean election"), values, "the new leader's log, without " + LOST);
        }
    }

    private KafkaProducer<String, String> producer(int broker) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.broker(broker).bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static List<Integer> isr(JsonNode state) {
        List<Integer> isr = new ArrayList<>();
        state.get("isr").forEach(n -> isr.add(n.asInt()));
        return isr;
    }

    private JsonNode awaitState(java.util.function.Predicate<JsonNode> done, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode state = null;
        while (System.nanoTime() < deadline) {
            byte[] data = store.getData(KafkaZkLayout.partitionStatePath(TOPIC, 0));
            state = data == null ? null : JSON.readTree(data);
            if (state != null && done.test(state)) return state;
            Thread.sleep(20);
        }
        throw new AssertionError("never " + what + ": " + state);
    }

    private TopicPartitionInfo awaitDescribed(java.util.function.Predicate<TopicPartitionInfo> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        TopicPartitionInfo partition = null;
        while (System.nanoTime() < deadline) {
            TopicDescription description = admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(TOPIC);
            partition = description.partitions().get(0);
            if (done.test(partition)) return partition;
            Thread.sleep(50);
        }
        throw new AssertionError("Metadata never showed the new leader: " + partition);
    }

    private int awaitController() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        byte[] data;
        while ((data = store.getData(KafkaZkLayout.CONTROLLER)) == null) {
            assertTrue(System.nanoTime() < deadline, "no controller elected");
            Thread.sleep(20);
        }
        return JSON.readTree(data).get("brokerid").asInt();
    }

    private void awaitRegistered(int id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (store.getData(KafkaZkLayout.brokerPath(id)) == null) {
            assertTrue(System.nanoTime() < deadline, "broker " + id + " never registered");
            Thread.sleep(20);
        }
    }

    private void awaitUnregistered(int id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (store.getData(KafkaZkLayout.brokerPath(id)) != null) {
            assertTrue(System.nanoTime() < deadline, "broker " + id + " never went");
            Thread.sleep(20);
        }
    }
}
