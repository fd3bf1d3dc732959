package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AlterShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;
import org.apache.kafka.common.requests.AlterShareGroupOffsetsRequest;
import org.apache.kafka.common.requests.AlterShareGroupOffsetsResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.DeleteShareGroupOffsetsRequest;
import org.apache.kafka.common.requests.DeleteShareGroupOffsetsResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.DescribeShareGroupOffsetsRequest;
import org.apache.kafka.common.requests.DescribeShareGroupOffsetsResponse;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.DescribeTransactionsResponse;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.ListTransactionsRequest;
import org.apache.kafka.common.requests.ListTransactionsResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetDeleteResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every group and transaction API sent to a broker that is not the group's (or transactional id's) coordinator, and
 * the group APIs at the coordinator while the group's {@code __consumer_offsets} partition loads, answered as Kafka
 * puts the error: per group (DeleteGroups, DescribeGroups, OffsetFetch v8+, DescribeShareGroupOffsets of all
 * topics, DescribeTransactions; DescribeShareGroupOffsets of named topics is answered from the share coordinators), per partition (OffsetCommit, TxnOffsetCommit) or for the whole request (the rest),
 * with the errors' own messages where Kafka's response carries one (the share-group offset APIs). So a client looks its
 * coordinator up again or retries, and a broker that does not coordinate a group neither makes nor changes any of it.
 */
class CoordinatorAnswersAwayTest {
    private static final String GROUP = "g";
    private static final String SHARE_GROUP = "s";
    private static final String TOPIC = "queue";
    private static final String TRANSACTIONAL_ID = "t";
    /** One partition each, without followers: one broker coordinates every group, one every transactional id. */
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1", "transaction.state.log.num.partitions", "1",
            "transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1"));

    @Test
    void groupRequestsShouldAnswerNotCoordinatorAwayAndLoadInProgressWhileTheCoordinatorLoads() throws Exception {
        TandemCluster cluster = kafka.cluster();
        kafka.admin().createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        int coordinator;
        try (OfficialClientConnection any = new OfficialClientConnection(cluster.broker(1).kafkaPort())) {
            coordinator = GroupCoordinators.await(any, GROUP);
            assertEquals(coordinator, GroupCoordinators.await(any, SHARE_GROUP), "one offsets partition");
        }
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(coordinator).kafkaPort())) {
            // A share group with a member at its coordinator: its state must not be touched while it loads.
            assertEquals(Errors.NONE.code(), shareJoin(c).data().errorCode());
        }
        int elsewhere = coordinator % 3 + 1;
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(elsewhere).kafkaPort())) {
            assertGroupAnswers(c, Errors.NOT_COORDINATOR);
            ListGroupsResponse listed = c.call(new ListGroupsRequest.Builder(new ListGroupsRequestData())
                    .build((short) 5));
            assertEquals(Errors.NONE.code(), listed.data().errorCode());
            assertTrue(listed.data().groups().isEmpty(), listed.data().toString());
        }

        KafkaBroker broker = cluster.broker(coordinator).kafkaBroker();
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(coordinator).kafkaPort())) {
            // The coordinator's partition read again, as when it takes the lead: the groups wait for the load.
            broker.groups().partitionLoading(0);
            try {
                assertGroupAnswers(c, Errors.COORDINATOR_LOAD_IN_PROGRESS);
                assertEquals(Errors.COORDINATOR_LOAD_IN_PROGRESS.code(), c.<ListGroupsResponse>call(
                        new ListGroupsRequest.Builder(new ListGroupsRequestData()).build((short) 5)).data()
                        .errorCode());
            } finally {
                broker.groups().partitionLoaded(0);
            }
            // Loaded: the share group is still there with its member, and DeleteGroups says so.
            DeleteGroupsResponse deleted = c.call(new DeleteGroupsRequest.Builder(new DeleteGroupsRequestData()
                    .setGroupsNames(List.of(SHARE_GROUP))).build((short) 2));
            assertEquals(Errors.NON_EMPTY_GROUP.code(), deleted.data().results().find(SHARE_GROUP).errorCode());
        }
    }

    @Test
    void transactionRequestsShouldAnswerNotCoordinatorAwayAndLoadInProgressWhileTheCoordinatorLoads()
            throws Exception {
        TandemCluster cluster = kafka.cluster();
        int coordinator;
        try (OfficialClientConnection any = new OfficialClientConnection(cluster.broker(1).kafkaPort())) {
            coordinator = awaitTransactionCoordinator(any);
        }
        int elsewhere = coordinator % 3 + 1;
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(elsewhere).kafkaPort())) {
            assertTransactionAnswers(c, Errors.NOT_COORDINATOR);
            ListTransactionsResponse listed = c.call(new ListTransactionsRequest.Builder(
                    new ListTransactionsRequestData()).build((short) 1));
            assertEquals(Errors.NONE.code(), listed.data().errorCode(), "ListTransactions");
            assertTrue(listed.data().transactionStates().isEmpty(), listed.data().toString());
        }
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(coordinator).kafkaPort())) {
            // The state partition read again at a new coordinator epoch, as when this broker takes its lead.
            cluster.broker(coordinator).kafkaBroker().transactions().coordinator().state().startLoading(0, 1);
            assertTransactionAnswers(c, Errors.COORDINATOR_LOAD_IN_PROGRESS);
            ListTransactionsResponse listed = c.call(new ListTransactionsRequest.Builder(
                    new ListTransactionsRequestData()).build((short) 1));
            assertEquals(Errors.COORDINATOR_LOAD_IN_PROGRESS.code(), listed.data().errorCode(), "ListTransactions");
        }
    }

    /** Each transaction API about the transactional id once, with its error where Kafka puts it. */
    private static void assertTransactionAnswers(OfficialClientConnection c, Errors expected) throws Exception {
        InitProducerIdResponse init = c.call(new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setTransactionTimeoutMs(60_000).setProducerId(-1)
                .setProducerEpoch((short) -1)).build((short) 4));
        assertEquals(expected.code(), init.data().errorCode(), "InitProducerId");
        AddOffsetsToTxnResponse addOffsets = c.call(new AddOffsetsToTxnRequest.Builder(
                new AddOffsetsToTxnRequestData().setTransactionalId(TRANSACTIONAL_ID).setProducerId(1000)
                        .setProducerEpoch((short) 0).setGroupId(GROUP)).build((short) 3));
        assertEquals(expected.code(), addOffsets.data().errorCode(), "AddOffsetsToTxn");
        EndTxnResponse end = c.call(new EndTxnRequest.Builder(new EndTxnRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setProducerId(1000).setProducerEpoch((short) 0)
                .setCommitted(true), false).build((short) 3));
        assertEquals(expected.code(), end.data().errorCode(), "EndTxn");
        DescribeTransactionsResponse described = c.call(new DescribeTransactionsRequest.Builder(
                new DescribeTransactionsRequestData().setTransactionalIds(List.of(TRANSACTIONAL_ID)))
                .build((short) 0));
        assertEquals(expected.code(), described.data().transactionStates().get(0).errorCode(),
                "DescribeTransactions");
    }

    /** Each group API once, with its error where Kafka puts it. */
    private static void assertGroupAnswers(OfficialClientConnection c, Errors expected) throws Exception {
        OffsetCommitResponse commit = c.call(OffsetCommitRequest.Builder.forTopicNames(new OffsetCommitRequestData()
                .setGroupId(GROUP).setGenerationIdOrMemberEpoch(-1).setMemberId("")
                .setTopics(List.of(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(TOPIC)
                        .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(1)))))).build((short) 9));
        assertEquals(expected.code(), commit.data().topics().get(0).partitions().get(0).errorCode(), "OffsetCommit");

        OffsetFetchResponse fetch = c.call(OffsetFetchRequest.Builder.forTopicNames(new OffsetFetchRequestData()
                .setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(GROUP)
                        .setTopics(null))), false).build((short) 9));
        assertEquals(expected.code(), fetch.data().groups().get(0).errorCode(), "OffsetFetch");

        OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection deleteTopics =
                new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection();
        deleteTopics.add(new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName(TOPIC)
                .setPartitions(List.of(new OffsetDeleteRequestData.OffsetDeleteRequestPartition()
                        .setPartitionIndex(0))));
        OffsetDeleteResponse offsetDelete = c.call(new OffsetDeleteRequest.Builder(new OffsetDeleteRequestData()
                .setGroupId(GROUP).setTopics(deleteTopics)).build((short) 0));
        assertEquals(expected.code(), offsetDelete.data().errorCode(), "OffsetDelete");

        JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols =
                new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                .setMetadata(new byte[]{0, 0}));
        JoinGroupResponse join = c.call(new JoinGroupRequest.Builder(new JoinGroupRequestData().setGroupId(GROUP)
                .setMemberId("").setSessionTimeoutMs(30_000).setRebalanceTimeoutMs(30_000)
                .setProtocolType("consumer").setProtocols(protocols)).build((short) 5));
        assertEquals(expected.code(), join.data().errorCode(), "JoinGroup");

        SyncGroupResponse sync = c.call(new SyncGroupRequest.Builder(new SyncGroupRequestData().setGroupId(GROUP)
                .setMemberId("m").setGenerationId(1).setAssignments(List.of())).build((short) 3));
        // While the partition loads, Kafka 3.9 sends REBALANCE_IN_PROGRESS (older clients do not know
        // COORDINATOR_LOAD_IN_PROGRESS there), and the member rejoins without looking its coordinator up again.
        assertEquals(expected == Errors.COORDINATOR_LOAD_IN_PROGRESS ? Errors.REBALANCE_IN_PROGRESS.code()
                : expected.code(), sync.data().errorCode(), "SyncGroup");

        HeartbeatResponse heartbeat = c.call(new HeartbeatRequest.Builder(new HeartbeatRequestData().setGroupId(GROUP)
                .setMemberId("m").setGenerationId(1)).build((short) 3));
        // As Kafka: a heartbeat while the group loads is answered NONE ("blindly").
        assertEquals(expected == Errors.COORDINATOR_LOAD_IN_PROGRESS ? Errors.NONE.code() : expected.code(),
                heartbeat.data().errorCode(), "Heartbeat");

        LeaveGroupResponse leave = c.call(new LeaveGroupRequest.Builder(GROUP, List.of(
                new LeaveGroupRequestData.MemberIdentity().setMemberId("m"))).build((short) 3));
        assertEquals(expected.code(), leave.data().errorCode(), "LeaveGroup");

        DescribeGroupsResponse describe = c.call(new DescribeGroupsRequest.Builder(new DescribeGroupsRequestData()
                .setGroups(List.of(GROUP))).build((short) 5));
        assertEquals(expected.code(), describe.data().groups().get(0).errorCode(), "DescribeGroups");

        DeleteGroupsResponse deleteGroups = c.call(new DeleteGroupsRequest.Builder(new DeleteGroupsRequestData()
                .setGroupsNames(List.of(GROUP, SHARE_GROUP))).build((short) 2));
        assertEquals(expected.code(), deleteGroups.data().results().find(GROUP).errorCode(), "DeleteGroups");
        assertEquals(expected.code(), deleteGroups.data().results().find(SHARE_GROUP).errorCode(),
                "DeleteGroups of the share group");

        TxnOffsetCommitResponse txnCommit = c.call(TxnOffsetCommitRequest.Builder.forTopicNames(
                new TxnOffsetCommitRequestData().setTransactionalId(TRANSACTIONAL_ID).setGroupId(GROUP)
                        .setProducerId(1000).setProducerEpoch((short) 0).setGenerationIdOrMemberEpoch(-1).setMemberId("")
                        .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(TOPIC)
                                .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                        .setPartitionIndex(0).setCommittedOffset(1))))), false).build((short) 3));
        assertEquals(expected.code(), txnCommit.data().topics().get(0).partitions().get(0).errorCode(),
                "TxnOffsetCommit");

        assertShareOffsetAnswers(c, expected);
    }

    /** The share-group offset APIs (KIP-932): the error with its message, per group or for the request. */
    private static void assertShareOffsetAnswers(OfficialClientConnection c, Errors expected) throws Exception {
        DescribeShareGroupOffsetsResponse describe = c.call(new DescribeShareGroupOffsetsRequest.Builder(
                new DescribeShareGroupOffsetsRequestData().setGroups(List.of(
                        new DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestGroup()
                                .setGroupId(SHARE_GROUP).setTopics(null)))).build((short) 0));
        var described = describe.data().groups().get(0);
        assertEquals(expected.code(), described.errorCode(), "DescribeShareGroupOffsets: " + describe.data());
        assertEquals(expected.message(), described.errorMessage());
        assertTrue(described.topics().isEmpty());
        // Named topics are read from the share coordinators on any broker, as Kafka's persister reads them.
        DescribeShareGroupOffsetsResponse named = c.call(new DescribeShareGroupOffsetsRequest.Builder(
                new DescribeShareGroupOffsetsRequestData().setGroups(List.of(
                        new DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestGroup()
                                .setGroupId(SHARE_GROUP).setTopics(List.of(
                                        new DescribeShareGroupOffsetsRequestData.DescribeShareGroupOffsetsRequestTopic()
                                                .setTopicName(TOPIC).setPartitions(List.of(0)))))))
                .build((short) 0));
        var namedGroup = named.data().groups().get(0);
        assertEquals(Errors.NONE.code(), namedGroup.errorCode(), "named topics: " + named.data());
        assertEquals(TOPIC, namedGroup.topics().get(0).topicName());
        assertEquals(0, namedGroup.topics().get(0).partitions().get(0).partitionIndex());

        AlterShareGroupOffsetsRequestData.AlterShareGroupOffsetsRequestTopicCollection topics =
                new AlterShareGroupOffsetsRequestData.AlterShareGroupOffsetsRequestTopicCollection();
        topics.add(new AlterShareGroupOffsetsRequestData.AlterShareGroupOffsetsRequestTopic().setTopicName(TOPIC)
                .setPartitions(List.of(new AlterShareGroupOffsetsRequestData.AlterShareGroupOffsetsRequestPartition()
                        .setPartitionIndex(0).setStartOffset(0))));
        // A group id of its own: a broker that does not coordinate it must not make it.
        AlterShareGroupOffsetsResponse alter = c.call(new AlterShareGroupOffsetsRequest.Builder(
                new AlterShareGroupOffsetsRequestData().setGroupId("altered").setTopics(topics)).build((short) 0));
        assertEquals(expected.code(), alter.data().errorCode(), "AlterShareGroupOffsets: " + alter.data());
        assertEquals(expected.message(), alter.data().errorMessage());
        assertTrue(alter.data().responses().isEmpty());

        DeleteShareGroupOffsetsResponse delete = c.call(new DeleteShareGroupOffsetsRequest.Builder(
                new DeleteShareGroupOffsetsRequestData().setGroupId(SHARE_GROUP).setTopics(List.of(
                        new DeleteShareGroupOffsetsRequestData.DeleteShareGroupOffsetsRequestTopic()
                                .setTopicName(TOPIC)))).build((short) 0));
        assertEquals(expected.code(), delete.data().errorCode(), "DeleteShareGroupOffsets: " + delete.data());
        assertEquals(expected.message(), delete.data().errorMessage());
        assertTrue(delete.data().responses().isEmpty());
    }

    private static ShareGroupHeartbeatResponse shareJoin(OfficialClientConnection c) throws Exception {
        return c.call(new ShareGroupHeartbeatRequest.Builder(new ShareGroupHeartbeatRequestData()
                .setGroupId(SHARE_GROUP).setMemberId(Uuid.randomUuid().toString()).setMemberEpoch(0)
                .setSubscribedTopicNames(List.of(TOPIC))).build((short) 1));
    }

    /** FindCoordinator for the transactional id until it names the coordinator (the first lookup makes the topic). */
    private static int awaitTransactionCoordinator(OfficialClientConnection c) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            FindCoordinatorResponse response = c.call(new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                    .setKeyType((byte) 1).setCoordinatorKeys(List.of(TRANSACTIONAL_ID))).build((short) 4));
            var found = response.data().coordinators().get(0);
            if (found.errorCode() == Errors.NONE.code()) return found.nodeId();
            assertTrue(System.currentTimeMillis() < deadline, "no transaction coordinator in time: " + found);
            Thread.sleep(20);
        }
    }
}
