package io.tandem.server.kafka;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replicas moving and going on three Tandem brokers, through the controller: a reassignment moves a partition to
 * other brokers with its records and deletes the removed replica, and a topic deletion asked under
 * /admin/delete_topics deletes every replica, waiting for a down broker's as Kafka's TopicDeletionManager does.
 */
class ReplicationTopicChangesTest extends ReplicationClusterTest {
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
}
