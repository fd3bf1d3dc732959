package io.tandem.server.kafka.group;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.ConsumerGroupHeartbeatRequest;
import io.tandem.kafka.wire.message.ConsumerGroupHeartbeatResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.JoinGroupResponse;
import io.tandem.kafka.wire.message.ListGroupsRequest;
import io.tandem.kafka.wire.message.ListGroupsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetCommitResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.kafka.wire.message.SyncGroupRequest;
import io.tandem.kafka.wire.message.SyncGroupResponse;
import io.tandem.kafka.wire.message.TxnOffsetCommitRequest;
import io.tandem.kafka.wire.message.TxnOffsetCommitResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.TopicNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Group requests sent before any FindCoordinator, on a broker that has no {@code __consumer_offsets} yet: Kafka 3.9
 * (GroupCoordinator.validateGroupStatus: no partition is owned before one is loaded) and 4.x (the coordinator
 * runtime has no shard) answer NOT_COORDINATOR and make no topic; ListGroups answers NONE with no groups. Only
 * FindCoordinator makes the topic, after which the same commit goes through.
 */
class NoCoordinatorBeforeOffsetsTopicTest {
    private static final String TOPIC = "data";
    @TempDir
    Path dir;
    private Tandem tandem;
    private RawKafkaConnection connection;

    @BeforeEach
    void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"));
        connection = new RawKafkaConnection(tandem.kafkaPort());
        CreateTopicsRequest create = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = TOPIC;
        topic.numPartitions = 1;
        topic.replicationFactor = 1;
        create.topics.add(topic);
        create.timeoutMs = 30_000;
        call(ApiKey.CREATE_TOPICS, 7, create);
    }

    @AfterEach
    void stop() throws Exception {
        if (connection != null) connection.close();
        if (tandem != null) tandem.close();
    }

    @SuppressWarnings("unchecked")
    private <R extends ApiMessage> R call(ApiKey key, int version, ApiMessage request) throws Exception {
        short v = (short) version;
        return (R) connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse);
    }

    @Test
    void groupRequestsBeforeFindCoordinatorAreNotCoordinatorAndMakeNoTopic() throws Exception {
        assertEquals(NOT_COORDINATOR, commit(8));
        assertEquals(NOT_COORDINATOR, commit(2));

        JoinGroupRequest join = new JoinGroupRequest();
        join.groupId = "g";
        join.memberId = "";
        join.sessionTimeoutMs = 10_000;
        join.rebalanceTimeoutMs = 10_000;
        join.protocolType = "consumer";
        JoinGroupRequest.JoinGroupRequestProtocol protocol = new JoinGroupRequest.JoinGroupRequestProtocol();
        protocol.name = "range";
        protocol.metadata = new byte[0];
        join.protocols.add(protocol);
        assertEquals(NOT_COORDINATOR, this.<JoinGroupResponse>call(ApiKey.JOIN_GROUP, 9, join).errorCode);
        assertEquals(NOT_COORDINATOR, this.<JoinGroupResponse>call(ApiKey.JOIN_GROUP, 5, join).errorCode);

        SyncGroupRequest sync = new SyncGroupRequest();
        sync.groupId = "g";
        sync.generationId = 1;
        sync.memberId = "m";
        assertEquals(NOT_COORDINATOR, this.<SyncGroupResponse>call(ApiKey.SYNC_GROUP, 5, sync).errorCode);

        // v3 goes through the group coordinator, v5 (KIP-890) first adds the offsets partition to the transaction.
        assertEquals(NOT_COORDINATOR, txnCommit(3));
        assertEquals(NOT_COORDINATOR, txnCommit(5));

        ConsumerGroupHeartbeatRequest heartbeat = new ConsumerGroupHeartbeatRequest();
        heartbeat.groupId = "c";
        heartbeat.memberId = java.util.UUID.randomUUID().toString();
        heartbeat.memberEpoch = 0;
        heartbeat.rebalanceTimeoutMs = 10_000;
        heartbeat.subscribedTopicNames = List.of(TOPIC);
        heartbeat.topicPartitions = new java.util.ArrayList<>();
        assertEquals(NOT_COORDINATOR, this.<ConsumerGroupHeartbeatResponse>call(ApiKey.CONSUMER_GROUP_HEARTBEAT, 1,
                heartbeat).errorCode);

        OffsetFetchRequest fetch = new OffsetFetchRequest();
        OffsetFetchRequest.OffsetFetchRequestGroup group = new OffsetFetchRequest.OffsetFetchRequestGroup();
        group.groupId = "g";
        group.topics = null;
        fetch.groups.add(group);
        assertEquals(NOT_COORDINATOR, this.<OffsetFetchResponse>call(ApiKey.OFFSET_FETCH, 8, fetch)
                .groups.get(0).errorCode);

        // GroupCoordinator.handleListGroups: no partition loading, none owned.
        ListGroupsResponse groups = call(ApiKey.LIST_GROUPS, 4, new ListGroupsRequest());
        assertEquals(NONE, groups.errorCode);
        assertTrue(groups.groups.isEmpty());

        assertFalse(offsetsTopicListed(), "a group request made " + TopicNames.CONSUMER_OFFSETS);

        // As a client does: FindCoordinator makes the topic, and once its partition is led the commit goes through.
        long deadline = System.currentTimeMillis() + 30_000;
        GroupCoordinators.await(connection, "g");
        assertTrue(offsetsTopicListed());
        short committed;
        while ((committed = commit(8)) == COORDINATOR_LOAD_IN_PROGRESS || committed == NOT_COORDINATOR) {
            assertTrue(System.currentTimeMillis() < deadline, "the coordinator did not load in time");
            Thread.sleep(20);
        }
        assertEquals(NONE, committed);
    }

    /** A standalone commit (no generation, as an admin tool's) of offset 5 of {@link #TOPIC}-0 to group "g". */
    private short commit(int version) throws Exception {
        OffsetCommitRequest commit = new OffsetCommitRequest();
        commit.groupId = "g";
        commit.generationIdOrMemberEpoch = -1;
        commit.memberId = "";
        OffsetCommitRequest.OffsetCommitRequestTopic topic = new OffsetCommitRequest.OffsetCommitRequestTopic();
        topic.name = TOPIC;
        OffsetCommitRequest.OffsetCommitRequestPartition partition =
                new OffsetCommitRequest.OffsetCommitRequestPartition();
        partition.partitionIndex = 0;
        partition.committedOffset = 5;
        topic.partitions.add(partition);
        commit.topics.add(topic);
        return this.<OffsetCommitResponse>call(ApiKey.OFFSET_COMMIT, version, commit).topics.get(0).partitions.get(0)
                .errorCode;
    }

    private short txnCommit(int version) throws Exception {
        TxnOffsetCommitRequest request = new TxnOffsetCommitRequest();
        request.transactionalId = "t";
        request.groupId = "g";
        request.producerId = 1000;
        request.producerEpoch = 0;
        TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic topic =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic();
        topic.name = TOPIC;
        TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition partition =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition();
        partition.partitionIndex = 0;
        partition.committedOffset = 5;
        topic.partitions.add(partition);
        request.topics.add(topic);
        return this.<TxnOffsetCommitResponse>call(ApiKey.TXN_OFFSET_COMMIT, version, request).topics.get(0)
                .partitions.get(0).errorCode;
    }

    /** Whether a Metadata request for every topic (which creates none) lists the offsets topic. */
    private boolean offsetsTopicListed() throws Exception {
        MetadataRequest request = new MetadataRequest();
        request.topics = null;
        request.allowAutoTopicCreation = false;
        MetadataResponse response = call(ApiKey.METADATA, 12, request);
        return response.topics.stream().anyMatch(t -> TopicNames.CONSUMER_OFFSETS.equals(t.name));
    }
}
