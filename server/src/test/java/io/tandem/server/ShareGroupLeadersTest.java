package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.PartitionWaits;
import io.tandem.server.kafka.group.OffsetsTopicCodec;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ShareAcknowledgeRequest;
import org.apache.kafka.common.requests.ShareAcknowledgeResponse;
import org.apache.kafka.common.requests.ShareFetchRequest;
import org.apache.kafka.common.requests.ShareFetchResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.ShareClusterClients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * KIP-932 on a 3-broker cluster as Kafka 4.4 runs it: KafkaShareConsumer sends ShareFetch and ShareAcknowledge to
 * each partition's leader, which holds the share-partition and keeps its state at the share coordinator (here always
 * another broker than the leader), while the group's coordinator (another broker again, for the partition that fails
 * over) only runs the membership. Three partitions led by three brokers are consumed, acknowledged and one record
 * released and redelivered; then the leader of one partition stops while a member holds its records unacknowledged,
 * leadership moves, and the new leader delivers them again from the state the share coordinator holds: nothing
 * accepted comes back, nothing unacknowledged is lost.
 */
class ShareGroupLeadersTest {
    private static final Duration PATIENCE = Duration.ofSeconds(90);
    private static final String TOPIC = "orders";
    private static final int PARTITIONS = 3, RECORDS = 10, STATE_PARTITIONS = 3, OFFSETS_PARTITIONS = 3;

    @TempDir
    Path dir;

    @Test
    void shareFetchShouldBeServedByEachPartitionLeaderAndSurviveALeaderStopping() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3, c -> c
                .set("offsets.topic.num.partitions", String.valueOf(OFFSETS_PARTITIONS))
                .set("share.coordinator.state.topic.num.partitions", String.valueOf(STATE_PARTITIONS))
                .set("share.coordinator.state.topic.replication.factor", "3")
                .set("group.share.min.heartbeat.interval.ms", "500")
                .set("group.share.heartbeat.interval.ms", "500"));
             Admin admin = admin(cluster)) {
            KafkaBroker any = cluster.broker(1).kafkaBroker();
            TopicInfo offsetsTopic = led(any, () -> any.topics().ensureOffsetsTopic());
            TopicInfo stateTopic = led(any, () -> any.shareStateTopic().ensureTopic());
            // Partition p led by broker p + 1, replicated on all three so leadership can move.
            Map<Integer, List<Integer>> assignment = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(p + 1, (p + 1) % 3 + 1, (p + 2) % 3 + 1));
            admin.createTopics(List.of(new NewTopic(TOPIC, assignment))).all().get(30, TimeUnit.SECONDS);
            UUID topicId = toUuid(PartitionWaits.describe(admin, TOPIC).topicId());
            for (int p = 0; p < PARTITIONS; p++) PartitionWaits.awaitIsrSize(admin, brokers(cluster), TOPIC, p, 3);

            // A group whose coordinator does not lead partition `failing`, and whose share-partitions' state lives
            // on other brokers than their leaders, so every load and write crosses the network.
            String group = null;
            int coordinator = -1, failing = -1;
            for (int i = 0; group == null; i++) {
                assertTrue(i < 10_000, "no group id fits the layout");
                String candidate = "pickers-" + i;
                int c = leader(offsetsTopic, OffsetsTopicCodec.partitionFor(candidate, OFFSETS_PARTITIONS));
                boolean remoteState = true;
                for (int p = 0; p < PARTITIONS; p++) {
                    remoteState &= leader(stateTopic, ShareStateCoordinator.partitionFor(
                            new ShareStateCoordinator.Key(candidate, topicId, p), STATE_PARTITIONS)) != p + 1;
                }
                if (!remoteState) continue;
                group = candidate;
                coordinator = c;
                failing = c == 1 ? 1 : 0;
            }
            int failingLeader = failing + 1;
            assertNotEquals(coordinator, failingLeader);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            produce(cluster, TOPIC, PARTITIONS, RECORDS, "order");

            // Everything is delivered and accepted; one record of the failing partition goes back once (RELEASE).
            Map<String, Short> delivered = new TreeMap<>();
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            String releasedId = failing + ":" + (RECORDS - 1);
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, group)) {
                consumer.subscribe(List.of(TOPIC));
                while (delivered.size() < PARTITIONS * RECORDS || !Short.valueOf((short) 2).equals(delivered.get(releasedId))) {
                    assertTrue(System.nanoTime() < deadline, "delivered only " + delivered);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        String id = r.partition() + ":" + r.offset();
                        short count = r.deliveryCount().orElseThrow();
                        Short before = delivered.put(id, count);
                        if (id.equals(releasedId) && before == null) {
                            consumer.acknowledge(r, AcknowledgeType.RELEASE);
                        } else {
                            assertTrue(before == null || id.equals(releasedId), "delivered twice: " + id);
                            consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                        }
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
            }
            assertEquals((short) 2, delivered.get(releasedId), "the released record comes back, counted twice");
            // Each share-partition lives at its partition's leader, and only there.
            for (int p = 0; p < PARTITIONS; p++) {
                for (int b = 1; b <= 3; b++) {
                    boolean held = cluster.broker(b).kafkaBroker().shareGroups().partitions()
                            .loaded(group, topicId, p) != null;
                    assertEquals(b == p + 1, held, "share-partition " + p + " at broker " + b);
                }
            }
            assertStartOffset(cluster, stateTopic, group, topicId, failing, RECORDS);
            assertNotLeaderAnswersNameTheLeader(cluster, group, topicId, coordinator);

            // A member holds records of the failing partition unacknowledged when its leader stops.
            produce(cluster, TOPIC, PARTITIONS, RECORDS, "order");
            Map<Long, Short> held = new TreeMap<>();
            KafkaShareConsumer<String, String> holder = shareConsumer(cluster, group);
            holder.subscribe(List.of(TOPIC));
            Map<String, Short> acceptedByHolder = new TreeMap<>();
            while (held.isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the failing partition's new records never came");
                ConsumerRecords<String, String> records = holder.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, String> r : records) {
                    if (r.partition() == failing) {
                        held.put(r.offset(), r.deliveryCount().orElseThrow());
                    } else {
                        acceptedByHolder.put(r.partition() + ":" + r.offset(), r.deliveryCount().orElseThrow());
                        holder.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                }
                holder.commitSync(Duration.ofSeconds(30));
            }
            // Their acquisition was written to the share coordinator before they were handed out.
            cluster.stopBroker(failingLeader);
            int newLeader = PartitionWaits.awaitLeaderChange(admin, TOPIC, failing, failingLeader);
            holder.close(Duration.ofSeconds(10));

            Map<String, Short> again = new TreeMap<>();
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, group)) {
                consumer.subscribe(List.of(TOPIC));
                while (again.size() + acceptedByHolder.size() < PARTITIONS * RECORDS) {
                    assertTrue(System.nanoTime() < deadline, "after the leader stopped delivered only " + again
                            + " (the holder accepted " + acceptedByHolder + ")");
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        String id = r.partition() + ":" + r.offset();
                        assertTrue(r.offset() >= RECORDS, "an accepted record came back: " + id);
                        assertFalse(acceptedByHolder.containsKey(id), "an accepted record came back: " + id);
                        again.put(id, r.deliveryCount().orElseThrow());
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
            }
            for (Map.Entry<Long, Short> h : held.entrySet()) {
                Short count = again.get(failing + ":" + h.getKey());
                assertNotNull(count, "record " + failing + ":" + h.getKey() + " held when its leader stopped is lost");
                // Tandem stores acquisitions, so the delivery the stopped leader made still counts.
                assertTrue(count > h.getValue(), "record " + failing + ":" + h.getKey() + " redelivered with count "
                        + count + " after a delivery counted " + h.getValue());
            }
            assertNotNull(cluster.broker(newLeader).kafkaBroker().shareGroups().partitions()
                    .loaded(group, topicId, failing), "the new leader serves the share-partition");
            assertStartOffset(cluster, stateTopic, group, topicId, failing, 2 * RECORDS);
        }
    }

    /** The share-partition's start offset as its share coordinator holds it (waiting for the last write). */
    private static void assertStartOffset(TandemCluster cluster, TopicInfo stateTopic, String group, UUID topicId,
                                          int partition, long expected) throws InterruptedException {
        ShareStateCoordinator.Key key = new ShareStateCoordinator.Key(group, topicId, partition);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            TopicInfo now = cluster.broker(firstRunning(cluster)).kafkaBroker().metadata().topicById(stateTopic.id());
            int stateLeader = leader(now, ShareStateCoordinator.partitionFor(key, STATE_PARTITIONS));
            long start = !cluster.isRunning(stateLeader) ? -2
                    : cluster.broker(stateLeader).kafkaBroker().shareState().summary(key).startOffset();
            if (start == expected) return;
            assertTrue(System.nanoTime() < deadline, "share-partition " + partition + " at broker " + stateLeader
                    + " starts at " + start + ", not " + expected);
            Thread.sleep(100);
        }
    }

    /**
     * A raw ShareFetch and ShareAcknowledge sent to a broker that neither leads the partition nor coordinates the
     * group: NOT_LEADER_OR_FOLLOWER with the partition's current leader and epoch and that leader's endpoint, as
     * Kafka 4.4's processShareFetchResponse and processShareAcknowledgeResponse answer it.
     */
    private static void assertNotLeaderAnswersNameTheLeader(TandemCluster cluster, String group, UUID topicId,
                                                            int coordinator) throws Exception {
        int partition = 0, leader = 1;
        int elsewhere = coordinator == 2 ? 3 : 2;
        int leaderEpoch = cluster.broker(elsewhere).kafkaBroker().metadata().topic(TOPIC).states().get(partition)
                .leaderEpoch();
        org.apache.kafka.common.Uuid id = new org.apache.kafka.common.Uuid(topicId.getMostSignificantBits(),
                topicId.getLeastSignificantBits());
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(elsewhere).kafkaPort())) {
            ShareFetchRequestData fetch = new ShareFetchRequestData().setGroupId(group).setMemberId("raw-member")
                    .setShareSessionEpoch(0).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20).setMaxRecords(10)
                    .setBatchSize(10);
            fetch.topics().add(new ShareFetchRequestData.FetchTopic().setTopicId(id));
            fetch.topics().iterator().next().partitions().add(new ShareFetchRequestData.FetchPartition()
                    .setPartitionIndex(partition));
            ShareFetchResponse fetched = c.call(new ShareFetchRequest.Builder(fetch).build((short) 2));
            ShareFetchResponseData.PartitionData p = fetched.data().responses().iterator().next().partitions().get(0);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), p.errorCode());
            assertEquals(leader, p.currentLeader().leaderId());
            assertEquals(leaderEpoch, p.currentLeader().leaderEpoch());
            ShareFetchResponseData.NodeEndpoint node = fetched.data().nodeEndpoints().find(leader);
            assertNotNull(node, "the leader's endpoint: " + fetched.data());
            assertEquals(cluster.broker(leader).kafkaPort(), node.port());
            assertEquals(1, fetched.data().nodeEndpoints().size());

            ShareAcknowledgeRequestData ack = new ShareAcknowledgeRequestData().setGroupId(group)
                    .setMemberId("raw-member").setShareSessionEpoch(1);
            ack.topics().add(new ShareAcknowledgeRequestData.AcknowledgeTopic().setTopicId(id));
            ack.topics().iterator().next().partitions().add(new ShareAcknowledgeRequestData.AcknowledgePartition()
                    .setPartitionIndex(partition).setAcknowledgementBatches(List.of(
                            new ShareAcknowledgeRequestData.AcknowledgementBatch().setFirstOffset(0).setLastOffset(0)
                                    .setAcknowledgeTypes(List.of((byte) 1)))));
            ShareAcknowledgeResponse acked = c.call(new ShareAcknowledgeRequest.Builder(ack).build((short) 2));
            ShareAcknowledgeResponseData.PartitionData a = acked.data().responses().iterator().next().partitions()
                    .get(0);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), a.errorCode());
            assertEquals(leader, a.currentLeader().leaderId());
            assertEquals(leaderEpoch, a.currentLeader().leaderEpoch());
            assertEquals(cluster.broker(leader).kafkaPort(), acked.data().nodeEndpoints().find(leader).port());
        }
    }

    private static int firstRunning(TandemCluster cluster) {
        for (int b = 1; b <= cluster.size(); b++) if (cluster.isRunning(b)) return b;
        throw new IllegalStateException("no broker running");
    }

    private static List<Tandem> brokers(TandemCluster cluster) {
        return List.of(cluster.broker(1), cluster.broker(2), cluster.broker(3));
    }
}
