package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.TopicId;
import org.apache.kafka.admin.AdminUtils;
import org.apache.kafka.admin.BrokerMetadata;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.RegisteredOnlyBrokers.register;
import static io.tandem.server.RegisteredOnlyBrokers.zooKeeper;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * CreatePartitions with replica assignments (librdkafka's 0081_admin test, Kafka's admin
 * {@code NewPartitions.increaseTo(n, assignments)}): the new partitions are placed on the brokers named, and bad
 * assignments are refused with Kafka 3.9's INVALID_REPLICA_ASSIGNMENT messages, leaving the topic as it was.
 */
class CreatePartitionsAssignmentTest {
    @TempDir
    Path dir;

    @Test
    void shouldPlaceNewPartitionsOnTheBrokersTheAssignmentNamesAndRefuseBadOnes() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                     AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            int id = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next().id();
            admin.createTopics(List.of(new NewTopic("placed", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);

            refused(admin, NewPartitions.increaseTo(2, List.of(List.of(99))),
                    "Unknown broker(s) in replica assignment: 99.");
            refused(admin, NewPartitions.increaseTo(4, List.of(List.of(id))),
                    "Increasing the number of partitions by 3 but 1 assignments provided.");
            refused(admin, NewPartitions.increaseTo(2, List.of(List.of(id, id))),
                    "Duplicate brokers not allowed in replica assignment: " + id + ", " + id + " for partition id 1.");
            assertEquals(1, describe(admin).partitions().size(), "a refused request adds nothing");

            admin.createPartitions(Map.of("placed", NewPartitions.increaseTo(3, List.of(List.of(id), List.of(id)))))
                    .all().get(30, TimeUnit.SECONDS);
            List<TopicPartitionInfo> partitions = describe(admin).partitions();
            assertEquals(3, partitions.size());
            for (TopicPartitionInfo p : partitions) {
                assertEquals(id, p.replicas().get(0).id(), "replicas of partition " + p.partition());
                assertEquals(id, p.leader().id(), "leader of partition " + p.partition());
            }
        }
    }

    /**
     * Without an assignment, new partitions continue the topic's round-robin as Kafka 3.9's AdminZkClient places
     * them: over the registered brokers by id, from the first whose id is at least partition 0's first replica,
     * numbered on from the current count (Kafka's own AdminUtils, test scope, computes the expectation). Brokers are
     * registered in ZooKeeper without running, topics written there as Kafka's admin tools write them; the error
     * cases answer Kafka's codes and words.
     */
    @Test
    void shouldContinueTheTopicsRoundRobinByKafkasRule() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir).set("broker.id", "3")
                     .set("controlled.shutdown.enable", "false"));
             ZooKeeper zk = zooKeeper(tandem.zookeeperConnect());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                     AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000))) {
            for (int id : List.of(1, 5, 6, 8)) register(zk, id, null);
            List<Integer> registered = List.of(1, 3, 5, 6, 8);
            Map<String, Integer> counts = Map.of("grow-a", 9, "grow-b", 7, "grow-c", 6);
            // Partition 0 led by 5 (start index 2), by unregistered 7 (the next id up: 8, index 4), by unregistered 9
            // (none is higher: index 0); one, two and three replicas; growth across a multiple of the broker count.
            writeTopic(zk, "grow-a", Map.of(0, List.of(5, 6), 1, List.of(6, 8)));
            writeTopic(zk, "grow-b", Map.of(0, List.of(7, 1, 3)));
            writeTopic(zk, "grow-c", Map.of(0, List.of(9, 1), 1, List.of(1, 3), 2, List.of(3, 5)));
            writeTopic(zk, "too-wide", Map.of(0, List.of(1, 3, 5, 6, 8, 9)));
            Map<String, Map<Integer, List<Integer>>> before = new java.util.HashMap<>();
            for (String topic : counts.keySet()) before.put(topic, storedAssignment(zk, topic));

            Map<String, NewPartitions> grow = new java.util.HashMap<>();
            counts.forEach((topic, count) -> grow.put(topic, NewPartitions.increaseTo(count)));
            admin.createPartitions(grow).all().get(60, TimeUnit.SECONDS);
            for (String topic : counts.keySet()) {
                Map<Integer, List<Integer>> existing = before.get(topic);
                int head = existing.get(0).get(0);
                int start = 0;
                while (start < registered.size() && registered.get(start) < head) start++;
                if (start == registered.size()) start = 0;
                Map<Integer, List<Integer>> expected = new java.util.TreeMap<>(existing);
                expected.putAll(AdminUtils.assignReplicasToBrokers(registered.stream()
                                .map(id -> new BrokerMetadata(id, Optional.empty())).toList(),
                        counts.get(topic) - existing.size(), existing.get(0).size(), start, existing.size()));
                assertEquals(expected, storedAssignment(zk, topic), topic);
            }
            // Worked by hand: grow-a from 2 to 9 partitions over 1 3 5 6 8 from index 2, its followers 3 brokers on
            // (shift 2), and from partition 5 on, 4 (shift 3).
            assertEquals(List.of(8, 5), storedAssignment(zk, "grow-a").get(2));
            assertEquals(List.of(5, 3), storedAssignment(zk, "grow-a").get(5));

            ExecutionException wide = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                    Map.of("too-wide", NewPartitions.increaseTo(2))).all().get(60, TimeUnit.SECONDS));
            assertInstanceOf(InvalidReplicationFactorException.class, wide.getCause());
            assertEquals("Replication factor: 6 larger than available brokers: 5.", wide.getCause().getMessage());
            assertEquals(1, storedAssignment(zk, "too-wide").size(), "a refused topic is not grown");

            // Only some brokers with a rack: Kafka's enforced rack-aware mode fails the whole request, unanswered.
            register(zk, 10, "r1");
            ExecutionException mixed = assertThrows(ExecutionException.class, () -> admin.createPartitions(
                    Map.of("grow-b", NewPartitions.increaseTo(8))).all().get(60, TimeUnit.SECONDS));
            assertInstanceOf(UnknownServerException.class, mixed.getCause());
            assertEquals(7, storedAssignment(zk, "grow-b").size(), "nothing is grown");
        }
    }

    /** A topic as Kafka's AdminZkClient writes one; the controller's watch on /brokers/topics does the rest. */
    private static void writeTopic(ZooKeeper zk, String topic, Map<Integer, List<Integer>> replicas) throws Exception {
        zk.create("/brokers/topics/" + topic, KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(
                        TopicId.random(), new java.util.TreeMap<>(replicas))),
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private static Map<Integer, List<Integer>> storedAssignment(ZooKeeper zk, String topic) throws Exception {
        return KafkaZkLayout.decodeTopicAssignment(zk.getData("/brokers/topics/" + topic, false, null)).replicas();
    }

    private static void refused(Admin admin, NewPartitions request, String message) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> admin.createPartitions(Map.of("placed", request)).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidReplicaAssignmentException.class, e.getCause(), message);
        assertEquals(message, e.getCause().getMessage());
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of("placed")).allTopicNames().get(30, TimeUnit.SECONDS).get("placed");
    }
}
