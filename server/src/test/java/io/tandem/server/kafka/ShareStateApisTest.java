package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteShareGroupStateRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.InitializeShareGroupStateRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateResponseData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateSummaryResponseData;
import org.apache.kafka.common.message.WriteShareGroupStateRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DeleteShareGroupStateRequest;
import org.apache.kafka.common.requests.DeleteShareGroupStateResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.InitializeShareGroupStateRequest;
import org.apache.kafka.common.requests.InitializeShareGroupStateResponse;
import org.apache.kafka.common.requests.ReadShareGroupStateRequest;
import org.apache.kafka.common.requests.ReadShareGroupStateResponse;
import org.apache.kafka.common.requests.ReadShareGroupStateSummaryRequest;
import org.apache.kafka.common.requests.ReadShareGroupStateSummaryResponse;
import org.apache.kafka.common.requests.WriteShareGroupStateRequest;
import org.apache.kafka.common.requests.WriteShareGroupStateResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The share coordinator's APIs (InitializeShareGroupState 83 to ReadShareGroupStateSummary 87) on the wire, written
 * and decoded by kafka-clients 4.4: FindCoordinator's share key type, initialize/write/read/summary/delete with
 * Kafka's errors and words, state epoch fencing, and the state surviving a restart on the same data directory.
 */
class ShareStateApisTest {
    @TempDir
    Path dir;

    private TandemConfig config() {
        return TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("share.coordinator.state.topic.num.partitions", "2");
    }

    private static ReadShareGroupStateResponseData.PartitionResult read(OfficialClientConnection c, Uuid topic,
                                                                        int leaderEpoch) throws Exception {
        ReadShareGroupStateResponse r = c.call(new ReadShareGroupStateRequest.Builder(new ReadShareGroupStateRequestData()
                .setGroupId("g").setTopics(List.of(new ReadShareGroupStateRequestData.ReadStateData().setTopicId(topic)
                        .setPartitions(List.of(new ReadShareGroupStateRequestData.PartitionData().setPartition(0)
                                .setLeaderEpoch(leaderEpoch)))))).build((short) 0));
        return r.data().results().get(0).partitions().get(0);
    }

    private static ReadShareGroupStateSummaryResponseData.PartitionResult summary(OfficialClientConnection c,
                                                                                  Uuid topic) throws Exception {
        ReadShareGroupStateSummaryResponse r = c.call(new ReadShareGroupStateSummaryRequest.Builder(
                new ReadShareGroupStateSummaryRequestData().setGroupId("g").setTopics(List.of(
                        new ReadShareGroupStateSummaryRequestData.ReadStateSummaryData().setTopicId(topic)
                                .setPartitions(List.of(new ReadShareGroupStateSummaryRequestData.PartitionData()
                                        .setPartition(0).setLeaderEpoch(0)))))).build((short) 1));
        return r.data().results().get(0).partitions().get(0);
    }

    private static short write(OfficialClientConnection c, Uuid topic, int stateEpoch, long startOffset,
                               List<WriteShareGroupStateRequestData.StateBatch> batches) throws Exception {
        WriteShareGroupStateResponse r = c.call(new WriteShareGroupStateRequest.Builder(
                new WriteShareGroupStateRequestData().setGroupId("g").setTopics(List.of(
                        new WriteShareGroupStateRequestData.WriteStateData().setTopicId(topic).setPartitions(List.of(
                                new WriteShareGroupStateRequestData.PartitionData().setPartition(0)
                                        .setStateEpoch(stateEpoch).setLeaderEpoch(0).setStartOffset(startOffset)
                                        .setStateBatches(batches)))))).build((short) 1));
        return r.data().results().get(0).partitions().get(0).errorCode();
    }

    private static WriteShareGroupStateRequestData.StateBatch batch(long first, long last, int state, int count) {
        return new WriteShareGroupStateRequestData.StateBatch().setFirstOffset(first).setLastOffset(last)
                .setDeliveryState((byte) state).setDeliveryCount((short) count);
    }

    @Test
    void shareStateShouldBeInitializedWrittenReadAndDeletedAsKafkaAnswers() throws Exception {
        Uuid topicId;
        try (Tandem tandem = Tandem.start(config());
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            try (Admin admin = Admin.create(props)) {
                admin.createTopics(List.of(new NewTopic("queue", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                topicId = admin.describeTopics(List.of("queue")).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get("queue").topicId();
            }
            // The share coordinator of a share-partition: the leader of its __share_group_state partition. The first
            // lookup creates that topic and is answered COORDINATOR_NOT_AVAILABLE at once; a broker asks again.
            List<FindCoordinatorResponseData.Coordinator> coordinators;
            long deadline = System.currentTimeMillis() + 30_000;
            while (true) {
                FindCoordinatorResponse found = c.call(new FindCoordinatorRequest.Builder(
                        new FindCoordinatorRequestData().setKeyType((byte) 2)
                                .setCoordinatorKeys(List.of("g:" + topicId + ":0", "no-key-format"))).build((short) 6));
                coordinators = found.data().coordinators();
                if (coordinators.get(0).errorCode() != Errors.COORDINATOR_NOT_AVAILABLE.code()) break;
                assertTrue(System.currentTimeMillis() < deadline, "no share coordinator in time");
                Thread.sleep(20);
            }
            assertEquals(Errors.NONE.code(), coordinators.get(0).errorCode());
            assertEquals(tandem.kafkaPort(), coordinators.get(0).port());
            assertEquals(Errors.INVALID_REQUEST.code(), coordinators.get(1).errorCode());

            ReadShareGroupStateResponseData.PartitionResult uninitialized = read(c, topicId, 0);
            assertEquals(Errors.INVALID_REQUEST.code(), uninitialized.errorCode());
            assertEquals("Read operation on uninitialized share partition not allowed.", uninitialized.errorMessage());
            assertEquals(-1, summary(c, topicId).startOffset(), "a summary of no state is no error");
            assertEquals(Errors.INVALID_REQUEST.code(), write(c, topicId, 0, 0, List.of()));

            InitializeShareGroupStateResponse init = c.call(new InitializeShareGroupStateRequest.Builder(
                    new InitializeShareGroupStateRequestData().setGroupId("g").setTopics(List.of(
                            new InitializeShareGroupStateRequestData.InitializeStateData().setTopicId(topicId)
                                    .setPartitions(List.of(new InitializeShareGroupStateRequestData.PartitionData()
                                            .setPartition(0).setStateEpoch(1).setStartOffset(10)))))).build((short) 0));
            assertEquals(Errors.NONE.code(), init.data().results().get(0).partitions().get(0).errorCode());
            assertNull(init.data().results().get(0).partitions().get(0).errorMessage());

            assertEquals(Errors.NONE.code(), write(c, topicId, 1, 10, List.of(batch(10, 19, 0, 1))));
            assertEquals(Errors.NONE.code(), write(c, topicId, 1, 12, List.of(batch(12, 14, 2, 1), batch(15, 15, 4, 5))));
            assertEquals(Errors.FENCED_STATE_EPOCH.code(), write(c, topicId, 0, 12, List.of()));
            ReadShareGroupStateResponseData.PartitionResult state = read(c, topicId, 0);
            assertEquals(Errors.NONE.code(), state.errorCode());
            assertEquals(1, state.stateEpoch());
            assertEquals(12, state.startOffset());
            assertEquals(List.of(stateBatch(12, 14, 2, 1), stateBatch(15, 15, 4, 5), stateBatch(16, 19, 0, 1)),
                    state.stateBatches());
            // Kafka 4.4's maybeGetReadStateError refuses a negative leader epoch (INVALID_REQUEST) before it
            // fences an older one; a reader at 3 moves the epoch on, and one at 2 is then fenced.
            assertEquals(Errors.INVALID_REQUEST.code(), read(c, topicId, -1).errorCode());
            assertEquals(Errors.NONE.code(), read(c, topicId, 3).errorCode());
            assertEquals(Errors.FENCED_LEADER_EPOCH.code(), read(c, topicId, 2).errorCode());

            // Kafka 4.4's maybeGetReadStateError checks for state before its metadata image: an unknown topic has
            // none, so INVALID_REQUEST; a summary has no state check, so UNKNOWN_TOPIC_OR_PARTITION.
            ReadShareGroupStateResponseData.PartitionResult unknownTopic = read(c, Uuid.randomUuid(), 0);
            assertEquals(Errors.INVALID_REQUEST.code(), unknownTopic.errorCode());
            assertEquals("Read operation on uninitialized share partition not allowed.", unknownTopic.errorMessage());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), summary(c, Uuid.randomUuid()).errorCode());
        }

        // A restart on the same data directory replays __share_group_state: the same answers.
        try (Tandem tandem = Tandem.start(config());
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            ReadShareGroupStateResponseData.PartitionResult state = read(c, topicId, 3);
            assertEquals(Errors.NONE.code(), state.errorCode());
            assertEquals(12, state.startOffset());
            assertEquals(List.of(stateBatch(12, 14, 2, 1), stateBatch(15, 15, 4, 5), stateBatch(16, 19, 0, 1)),
                    state.stateBatches());
            ReadShareGroupStateSummaryResponseData.PartitionResult summary = summary(c, topicId);
            assertEquals(1, summary.stateEpoch());
            assertEquals(12, summary.startOffset());
            assertEquals(3, summary.leaderEpoch(), "the last reader's leader epoch, stored as Kafka 4.4 stores it");

            DeleteShareGroupStateResponse deleted = c.call(new DeleteShareGroupStateRequest.Builder(
                    new DeleteShareGroupStateRequestData().setGroupId("g").setTopics(List.of(
                            new DeleteShareGroupStateRequestData.DeleteStateData().setTopicId(topicId).setPartitions(
                                    List.of(new DeleteShareGroupStateRequestData.PartitionData().setPartition(0))))))
                    .build((short) 0));
            assertEquals(Errors.NONE.code(), deleted.data().results().get(0).partitions().get(0).errorCode());
            assertEquals(Errors.INVALID_REQUEST.code(), read(c, topicId, 0).errorCode());
        }
    }

    private static DeleteShareGroupStateResponse delete(OfficialClientConnection c,
                                                        DeleteShareGroupStateRequestData.DeleteStateData... topics)
            throws Exception {
        return c.call(new DeleteShareGroupStateRequest.Builder(new DeleteShareGroupStateRequestData().setGroupId("g")
                .setTopics(List.of(topics))).build((short) 0));
    }

    private static DeleteShareGroupStateRequestData.DeleteStateData deleting(Uuid topic, Integer... partitions) {
        return new DeleteShareGroupStateRequestData.DeleteStateData().setTopicId(topic).setPartitions(
                java.util.Arrays.stream(partitions).map(p -> new DeleteShareGroupStateRequestData.PartitionData()
                        .setPartition(p)).toList());
    }

    /**
     * DeleteShareGroupState checks the topic partition as Kafka 4.4's ShareCoordinatorShard.maybeGetDeleteStateError
     * (after a negative partition): a topic the metadata lacks, or a partition its topic lacks, is
     * UNKNOWN_TOPIC_OR_PARTITION with Errors' message, though there is no state to delete; a partition of the topic
     * without state is NONE. As ShareCoordinatorService, a topic without partitions makes the whole answer empty.
     */
    @Test
    void deleteShouldAnswerUnknownTopicOrPartitionAsKafka44() throws Exception {
        try (Tandem tandem = Tandem.start(config());
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            Uuid topicId;
            try (Admin admin = Admin.create(props)) {
                admin.createTopics(List.of(new NewTopic("queue", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                topicId = admin.describeTopics(List.of("queue")).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get("queue").topicId();
            }
            // The state topic exists once a share coordinator was looked up (a broker's persister does that first).
            long deadline = System.currentTimeMillis() + 30_000;
            while (c.<FindCoordinatorResponse>call(new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                    .setKeyType((byte) 2).setCoordinatorKeys(List.of("g:" + topicId + ":0"))).build((short) 6))
                    .data().coordinators().get(0).errorCode() != Errors.NONE.code()) {
                assertTrue(System.currentTimeMillis() < deadline, "no share coordinator in time");
                Thread.sleep(20);
            }
            Uuid missing = Uuid.randomUuid();
            DeleteShareGroupStateResponse answer = delete(c, deleting(topicId, 0, 5, -1), deleting(missing, 0));
            var queue = answer.data().results().get(0).partitions();
            assertEquals(Errors.NONE.code(), queue.get(0).errorCode(), "no state to delete is no error");
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), queue.get(1).errorCode(), "no partition 5");
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.message(), queue.get(1).errorMessage());
            assertEquals(Errors.INVALID_REQUEST.code(), queue.get(2).errorCode());
            assertEquals("The partition id cannot be a negative number.", queue.get(2).errorMessage());
            assertEquals(missing, answer.data().results().get(1).topicId());
            var unknown = answer.data().results().get(1).partitions().get(0);
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode(), "a topic that does not exist");
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.message(), unknown.errorMessage());

            assertTrue(delete(c, deleting(topicId, 0), deleting(missing)).data().results().isEmpty(),
                    "a topic without partitions: an empty answer, as Kafka's ShareCoordinatorService");
        }
    }

    /**
     * DescribeShareGroupOffsets answers the leader epoch of the share state (Kafka 4.4's GroupCoordinatorService
     * takes it from ReadShareGroupStateSummary), not the partition's current one: after AlterShareGroupOffsets the
     * state holds 0 (InitializeShareGroupState stores 0), and once a leader at epoch 7 read it, 7, while the
     * partition's own leader epoch is still 0. A partition never initialized answers 0 too, without lag, and so do a
     * partition the topic lacks and a topic that does not exist (no error, as Kafka's group coordinator).
     */
    @Test
    void describedLeaderEpochShouldBeTheShareStatesAsKafka44() throws Exception {
        try (Tandem tandem = Tandem.start(config());
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            try (Admin admin = Admin.create(props)) {
                admin.createTopics(List.of(new NewTopic("queue", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
                Uuid topicId = admin.describeTopics(List.of("queue")).allTopicNames().get(30, TimeUnit.SECONDS)
                        .get("queue").topicId();
                org.apache.kafka.common.TopicPartition p0 = new org.apache.kafka.common.TopicPartition("queue", 0);
                org.apache.kafka.common.TopicPartition p1 = new org.apache.kafka.common.TopicPartition("queue", 1);
                admin.alterShareGroupOffsets("g", java.util.Map.of(p0, 0L)).all().get(30, TimeUnit.SECONDS);
                assertEquals(0, describe(admin, p0, p1).get(p0).leaderEpoch().orElseThrow());

                assertEquals(Errors.NONE.code(), read(c, topicId, 7).errorCode(), "a leader at epoch 7 loads it");
                java.util.Map<org.apache.kafka.common.TopicPartition,
                        org.apache.kafka.clients.admin.SharePartitionOffsetInfo> offsets = describe(admin, p0, p1);
                assertEquals(0L, offsets.get(p0).startOffset());
                assertEquals(java.util.Optional.of(7), offsets.get(p0).leaderEpoch(), "the state's, not the log's 0");
                assertEquals(java.util.Optional.of(0L), offsets.get(p0).lag());
                assertNull(offsets.get(p1), "no start offset: the Admin lists none");
                // On the wire, a partition without state answers start offset -1, leader epoch 0, no lag.
                org.apache.kafka.common.requests.DescribeShareGroupOffsetsResponse raw = c.call(
                        new org.apache.kafka.common.requests.DescribeShareGroupOffsetsRequest.Builder(
                                new org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData().setGroups(
                                        List.of(new org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData
                                                .DescribeShareGroupOffsetsRequestGroup().setGroupId("g").setTopics(
                                                List.of(new org.apache.kafka.common.message
                                                        .DescribeShareGroupOffsetsRequestData
                                                        .DescribeShareGroupOffsetsRequestTopic().setTopicName("queue")
                                                        .setPartitions(List.of(1, 5)), new org.apache.kafka.common
                                                        .message.DescribeShareGroupOffsetsRequestData
                                                        .DescribeShareGroupOffsetsRequestTopic().setTopicName("missing")
                                                        .setPartitions(List.of(0)))))))
                                .build((short) 1));
                // Partition 1 has no state, "queue" has no partition 5 and "missing" does not exist: Kafka 4.4's
                // group coordinator answers all three alike, without an error (the missing topic with id zero).
                var topics = raw.data().groups().get(0).topics();
                assertEquals(Uuid.ZERO_UUID, topics.get(1).topicId());
                for (var none : List.of(topics.get(0).partitions().get(0), topics.get(0).partitions().get(1),
                        topics.get(1).partitions().get(0))) {
                    assertEquals(Errors.NONE.code(), none.errorCode(), none.toString());
                    assertEquals(-1L, none.startOffset(), none.toString());
                    assertEquals(0, none.leaderEpoch(), "no state: 0, as Kafka");
                    assertEquals(-1L, none.lag(), none.toString());
                }
            }
        }
    }

    private static java.util.Map<org.apache.kafka.common.TopicPartition,
            org.apache.kafka.clients.admin.SharePartitionOffsetInfo> describe(
            Admin admin, org.apache.kafka.common.TopicPartition... partitions) throws Exception {
        return admin.listShareGroupOffsets(java.util.Map.of("g", new org.apache.kafka.clients.admin
                        .ListShareGroupOffsetsSpec().topicPartitions(List.of(partitions))))
                .partitionsToOffsetInfo("g").get(30, TimeUnit.SECONDS);
    }

    private static ReadShareGroupStateResponseData.StateBatch stateBatch(long first, long last, int state, int count) {
        return new ReadShareGroupStateResponseData.StateBatch().setFirstOffset(first).setLastOffset(last)
                .setDeliveryState((byte) state).setDeliveryCount((short) count);
    }
}
