package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The requests Kafka's older tools and brokers leave in ZooKeeper, which a Kafka 3.9 controller still obeys:
 * {@code /admin/reassign_partitions} (kafka-reassign-partitions.sh --zookeeper),
 * {@code /admin/preferred_replica_election} (kafka-preferred-replica-election.sh --zookeeper) and
 * {@code /isr_change_notification} (a broker of an inter-broker protocol before 2.7 changing ISRs itself).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ZooKeeperAdminRequestsTest {
    private static final long WAIT_MS = 45_000;
    /**
     * Without the controller's own rebalancing (Kafka's auto.leader.rebalance.enable), so that only the request in
     * ZooKeeper can give a partition back to its preferred replica.
     */
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("auto.leader.rebalance.enable", "false"));
    private TandemCluster cluster;
    private Admin admin;
    private ZooKeeper zk;

    @BeforeEach
    void start() throws Exception {
        cluster = kafka.cluster();
        admin = kafka.admin();
        CountDownLatch connected = new CountDownLatch(1);
        zk = new ZooKeeper(cluster.zookeeperConnect(), 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS));
    }

    @AfterEach
    void stop() throws Exception {
        if (zk != null) zk.close();
    }

    @Test
    void aReassignmentWrittenToZooKeeperMovesThePartitionAndTheRequestGoesWhenDone() throws Exception {
        admin.createTopics(List.of(new NewTopic("zkmoved", Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(cluster, "zkmoved", 1);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.broker(1).bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>("zkmoved", "v" + i)).get(30, TimeUnit.SECONDS);
        }
        // What kafka-reassign-partitions.sh --zookeeper writes; the partition of a missing topic fails and leaves.
        String request = "{\"version\":1,\"partitions\":[{\"topic\":\"zkmoved\",\"partition\":0,\"replicas\":[2,3]},"
                + "{\"topic\":\"ghost\",\"partition\":0,\"replicas\":[1]}]}";
        zk.create("/admin/reassign_partitions", request.getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);

        await(() -> {
            TopicDescription d = describe("zkmoved");
            return d.partitions().get(0).replicas().stream().map(Node::id).toList().equals(List.of(2, 3))
                    && d.partitions().get(0).isr().size() == 2;
        }, "the partition on brokers 2 and 3, both in sync");
        await(() -> exists("/admin/reassign_partitions") == false, "the finished request removed");
        assertTrue(admin.listPartitionReassignments().reassignments().get(30, TimeUnit.SECONDS).isEmpty());
    }

    @Test
    void aPreferredElectionWrittenToZooKeeperGivesLeadershipBackAndTheRequestGoes() throws Exception {
        admin.createTopics(List.of(new NewTopic("preferred", Map.of(0, List.of(2, 3))))).all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(cluster, "preferred", 1);
        await(() -> leader("preferred") == 2, "broker 2, the preferred replica, leading");
        // Broker 2 stops: broker 3 takes over; broker 2 comes back as a follower and catches up, still not leading.
        cluster.stopBroker(2);
        await(() -> leader("preferred") == 3, "broker 3 leading while broker 2 is away");
        cluster.restartBroker(2);
        MetadataWait.propagated(cluster, "preferred", 1);
        await(() -> describe("preferred").partitions().get(0).isr().size() == 2, "broker 2 back in sync");
        assertEquals(3, leader("preferred"), "nothing but the request moves the leadership back");

        // What kafka-preferred-replica-election.sh --zookeeper wrote (PreferredReplicaElectionZNode.encode).
        zk.create("/admin/preferred_replica_election",
                "{\"version\":1,\"partitions\":[{\"topic\":\"preferred\",\"partition\":0}]}"
                        .getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        await(() -> leader("preferred") == 2, "broker 2 leading again");
        await(() -> !exists("/admin/preferred_replica_election"), "the request removed once handled");
        String state = new String(zk.getData("/brokers/topics/preferred/partitions/0/state", false, null),
                StandardCharsets.UTF_8);
        assertTrue(state.contains("\"leader\":2"), state);
    }

    @Test
    void aPreferredElectionRequestThatIsNotJsonIsRemovedAndTheNextOneStillObeyed() throws Exception {
        admin.createTopics(List.of(new NewTopic("kept", Map.of(0, List.of(2, 3))))).all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(cluster, "kept", 1);
        await(() -> leader("kept") == 2, "broker 2, the preferred replica, leading");
        // Kafka 3.9 reads a request it cannot parse as no partitions (Json.parseBytes gives None): it elects nothing
        // and deletes the znode, so the path is free for the next request.
        zk.create("/admin/preferred_replica_election", "not json".getBytes(StandardCharsets.UTF_8),
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        await(() -> !exists("/admin/preferred_replica_election"), "the unreadable request removed");
        assertEquals(2, leader("kept"));

        cluster.stopBroker(2);
        await(() -> leader("kept") == 3, "broker 3 leading while broker 2 is away");
        cluster.restartBroker(2);
        MetadataWait.propagated(cluster, "kept", 1);
        await(() -> describe("kept").partitions().get(0).isr().size() == 2, "broker 2 back in sync");
        zk.create("/admin/preferred_replica_election",
                "{\"version\":1,\"partitions\":[{\"topic\":\"kept\",\"partition\":0}]}"
                        .getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        await(() -> leader("kept") == 2, "the next request obeyed: broker 2 leading again");
        await(() -> !exists("/admin/preferred_replica_election"), "the next request removed");
    }

    @Test
    void anIsrChangeNotificationMakesTheControllerTellEveryBrokerTheStateInZooKeeper() throws Exception {
        admin.createTopics(List.of(new NewTopic("notified", Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(cluster, "notified", 1);
        await(() -> describe("notified").partitions().get(0).isr().size() == 2, "both replicas in sync");
        String statePath = "/brokers/topics/notified/partitions/0/state";
        String state = new String(zk.getData(statePath, false, null), StandardCharsets.UTF_8);
        // An older broker leading the partition shrinks the ISR in ZooKeeper itself, then notifies the controller.
        zk.setData(statePath, state.replaceAll("\"isr\":\\[[0-9,]*]", "\"isr\":[1]").getBytes(StandardCharsets.UTF_8), -1);
        zk.create("/isr_change_notification/isr_change_", ("{\"version\":1,\"partitions\":[{\"topic\":\"notified\","
                + "\"partition\":0}]}").getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_SEQUENTIAL);

        await(() -> zk.getChildren("/isr_change_notification", false).isEmpty(), "the notification consumed");
        for (int id = 1; id <= cluster.size(); id++) {
            Tandem broker = cluster.broker(id);
            try (Admin each = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                await(() -> each.describeTopics(List.of("notified")).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get("notified").partitions().get(0).isr().stream().map(Node::id).toList().equals(List.of(1)),
                        "broker " + broker.bootstrapServers() + " reporting the ISR written in ZooKeeper");
            }
        }
        assertEquals(1, describe("notified").partitions().get(0).isr().size());
    }

    private TopicDescription describe(String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    }

    private int leader(String topic) throws Exception {
        Node leader = describe(topic).partitions().get(0).leader();
        return leader == null ? -1 : leader.id();
    }

    private boolean exists(String path) {
        try {
            return zk.exists(path, false) != null;
        } catch (Exception e) {
            return true;
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }

    private static void await(Check check, String what) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!check.holds()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting for " + what);
            Thread.sleep(100);
        }
    }
}
