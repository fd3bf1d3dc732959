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
 * ElectLeaders UNCLEAN on three brokers, as Kafka 3.9's ZooKeeper-mode controller answers it: a partition whose only
 * in-sync replica is gone stays offline (leader -1, the last ISR kept) until an operator asks; then the live replica
 * that was not in sync leads, alone in the ISR. The preferred election cannot help (its replica is down), a second
 * unclean election finds a live leader, and with no live replica there is nobody to elect.
 */
class UncleanLeaderElectionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "unclean";
    private static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);
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
        // The partition lives on the two brokers that are not the controller, so stopping them moves no controller.
        int controller = awaitController();
        List<Integer> replicas = new ArrayList<>(List.of(1, 2, 3));
        replicas.remove(Integer.valueOf(controller));
        int leader = replicas.get(0);
        int follower = replicas.get(1);
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, replicas)).configs(Map.of("min.insync.replicas", "1"))))
                .all().get(30, TimeUnit.SECONDS);
        JsonNode state = awaitState(s -> s.get("isr").size() == 2, "both replicas in sync");
        assertEquals(leader, state.get("leader").asInt(), "the preferred replica leads: " + state);

        cluster.stopBroker(follower);
        awaitState(s -> isr(s).equals(List.of(leader)), "the stopped follower left the ISR");
        try (KafkaProducer<String, String> producer = producer(leader)) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, "written while the follower was down")).get(30, TimeUnit.SECONDS);
        }
        cluster.stopBroker(leader);
        cluster.restartBroker(follower);
        awaitRegistered(follower);
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
