package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.ShareClusterClients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A share group on a 3-broker cluster whose share-partitions' state lives on other brokers than the group's: the
 * group coordinator (which serves the share-partitions, their topic being led there) reaches each share coordinator,
 * the leader of the share-partition's {@code __share_group_state} partition, with InitializeShareGroupState,
 * ReadShareGroupState and WriteShareGroupState over the inter-broker listener, as Kafka 4.4's persister does.
 */
class ShareGroupClusterTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final String TOPIC = "jobs";
    private static final int PARTITIONS = 2, RECORDS = 10, STATE_PARTITIONS = 3;

    @TempDir
    Path dir;

    @Test
    void aShareGroupShouldKeepItsStateOnTheBrokersLeadingTheStatePartitions() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3, c -> c
                .set("offsets.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.num.partitions", String.valueOf(STATE_PARTITIONS))
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "500"));
             Admin admin = admin(cluster)) {
            KafkaBroker any = cluster.broker(1).kafkaBroker();
            // One offsets partition: every group has the same coordinator, whose broker leads the topic too.
            int coordinator = leader(led(any, () -> any.topics().ensureOffsetsTopic()), 0);
            TopicInfo stateTopic = led(any, () -> any.shareStateTopic().ensureTopic());
            Map<Integer, List<Integer>> assignment = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(coordinator));
            admin.createTopics(List.of(new NewTopic(TOPIC, assignment))).all().get(30, TimeUnit.SECONDS);
            UUID topicId = toUuid(admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(TOPIC).topicId());
            // A group id whose share-partitions all hash to state partitions led by another broker.
            String group = null;
            for (int i = 0; group == null; i++) {
                String candidate = "workers-" + i;
                assertEquals(0, OffsetsTopicCodec.partitionFor(candidate, 1));
                boolean allRemote = true;
                for (int p = 0; p < PARTITIONS; p++) {
                    allRemote &= leader(stateTopic, ShareStateCoordinator.partitionFor(
                            new ShareStateCoordinator.Key(candidate, topicId, p), STATE_PARTITIONS)) != coordinator;
                }
                if (allRemote) group = candidate;
                assertTrue(i < 1000, "no group id with remote share coordinators");
            }
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            produce(cluster, TOPIC, PARTITIONS, RECORDS, "job");

            Map<String, Short> delivered = new TreeMap<>();
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, group)) {
                consumer.subscribe(List.of(TOPIC));
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                List<ConsumerRecord<String, String>> released = new ArrayList<>();
                while (delivered.size() < PARTITIONS * RECORDS) {
                    if (System.nanoTime() > deadline) fail("delivered only " + delivered);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        String id = r.partition() + ":" + r.offset();
                        // Partition 0's last record goes back once: its second delivery counts 2.
                        if (r.partition() == 0 && r.offset() == RECORDS - 1 && !delivered.containsKey(id)) {
                            delivered.put(id, r.deliveryCount().orElseThrow());
                            consumer.acknowledge(r, AcknowledgeType.RELEASE);
                            released.add(r);
                            continue;
                        }
                        delivered.put(id, r.deliveryCount().orElseThrow());
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
                assertEquals(1, released.size());
                while (delivered.get("0:" + (RECORDS - 1)) != 2) {
                    if (System.nanoTime() > deadline) fail("the released record never came back: " + delivered);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        delivered.put(r.partition() + ":" + r.offset(), r.deliveryCount().orElseThrow());
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
            }

            // Everything accepted: the state each share coordinator holds has moved past all of it.
            assertStartOffsets(cluster, stateTopic, coordinator, group, topicId, RECORDS);

            // A share coordinator restarts: it loads its state again, but the group stays its coordinator's alone,
            // and the coordinator writes to it again over a new connection.
            ShareStateCoordinator.Key first = new ShareStateCoordinator.Key(group, topicId, 0);
            int restarted = leader(stateTopic, ShareStateCoordinator.partitionFor(first, STATE_PARTITIONS));
            cluster.stopBroker(restarted);
            cluster.restartBroker(restarted);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (!cluster.broker(restarted).kafkaBroker().shareState().keys(group).contains(first)) {
                if (System.nanoTime() > deadline) fail("broker " + restarted + " never loaded its share state again");
                Thread.sleep(100);
            }
            produce(cluster, TOPIC, PARTITIONS, RECORDS, "job");
            List<String> again = new ArrayList<>();
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, group)) {
                consumer.subscribe(List.of(TOPIC));
                while (again.size() < PARTITIONS * RECORDS) {
                    if (System.nanoTime() > deadline) fail("after the restart delivered only " + again);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        assertTrue(r.offset() >= RECORDS, "delivered again: " + r.partition() + ":" + r.offset());
                        assertEquals((short) 1, (short) r.deliveryCount().orElseThrow());
                        again.add(r.partition() + ":" + r.offset());
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
            }
            assertStartOffsets(cluster, stateTopic, coordinator, group, topicId, 2 * RECORDS);
            // Loading its state partition did not make the restarted broker a second home of the group.
            assertFalse(cluster.broker(restarted).kafkaBroker().shareGroups().isShareGroup(group),
                    "the group is coordinated by broker " + coordinator + " only");
        }
    }

    /** Each share-partition's state, at the broker leading its state partition (not the group's coordinator). */
    private static void assertStartOffsets(TandemCluster cluster, TopicInfo stateTopic, int coordinator, String group,
                                           UUID topicId, long expected) {
        for (int p = 0; p < PARTITIONS; p++) {
            ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(group, topicId, p);
            int stateLeader = leader(stateTopic, ShareStateCoordinator.partitionFor(key, STATE_PARTITIONS));
            assertNotEquals(coordinator, stateLeader);
            ShareStateCoordinator.State state = cluster.broker(stateLeader).kafkaBroker().shareState().summary(key);
            assertEquals(expected, state.startOffset(), "share-partition " + p + " at broker " + stateLeader);
        }
    }
}
