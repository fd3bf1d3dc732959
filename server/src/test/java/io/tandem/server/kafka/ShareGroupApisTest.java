package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ShareAcknowledgeRequestData;
import org.apache.kafka.common.message.ShareAcknowledgeResponseData;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupDescribeRequestData;
import org.apache.kafka.common.message.ShareGroupDescribeResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.ShareAcknowledgeRequest;
import org.apache.kafka.common.requests.ShareAcknowledgeResponse;
import org.apache.kafka.common.requests.ShareFetchRequest;
import org.apache.kafka.common.requests.ShareFetchResponse;
import org.apache.kafka.common.requests.ShareGroupDescribeRequest;
import org.apache.kafka.common.requests.ShareGroupDescribeResponse;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The share group APIs (KIP-932) on the wire, decoded by kafka-clients 4.4: heartbeat checks and epochs, describe,
 * share sessions and their epochs, acquisition and acknowledgement errors, the classic group APIs on a share group,
 * and the versions served.
 */
class ShareGroupApisTest {
    private static final byte ACCEPT = 1;

    @TempDir
    Path dir;

    private static ShareGroupHeartbeatResponseData heartbeat(OfficialClientConnection c, String group, String member,
                                                             int epoch, List<String> topics) throws Exception {
        ShareGroupHeartbeatResponse r = c.call(new ShareGroupHeartbeatRequest.Builder(new ShareGroupHeartbeatRequestData()
                .setGroupId(group).setMemberId(member).setMemberEpoch(epoch).setSubscribedTopicNames(topics))
                .build((short) 1));
        return r.data();
    }

    private static ShareFetchResponseData fetch(OfficialClientConnection c, String group, String member, int epoch,
                                                Uuid topicId, List<ShareFetchRequestData.AcknowledgementBatch> acks)
            throws Exception {
        ShareFetchRequestData data = new ShareFetchRequestData().setGroupId(group).setMemberId(member)
                .setShareSessionEpoch(epoch).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20).setMaxRecords(100)
                .setBatchSize(100);
        ShareFetchRequestData.FetchTopic topic = new ShareFetchRequestData.FetchTopic().setTopicId(topicId);
        topic.partitions().add(new ShareFetchRequestData.FetchPartition().setPartitionIndex(0)
                .setAcknowledgementBatches(acks));
        data.topics().add(topic);
        ShareFetchResponse r = c.call(new ShareFetchRequest.Builder(data).build((short) 2));
        return r.data();
    }

    private static ShareAcknowledgeResponseData acknowledge(OfficialClientConnection c, String group, String member,
                                                            int epoch, Uuid topicId, long first, long last)
            throws Exception {
        ShareAcknowledgeRequestData data = new ShareAcknowledgeRequestData().setGroupId(group).setMemberId(member)
                .setShareSessionEpoch(epoch);
        ShareAcknowledgeRequestData.AcknowledgeTopic topic = new ShareAcknowledgeRequestData.AcknowledgeTopic()
                .setTopicId(topicId);
        topic.partitions().add(new ShareAcknowledgeRequestData.AcknowledgePartition().setPartitionIndex(0)
                .setAcknowledgementBatches(List.of(new ShareAcknowledgeRequestData.AcknowledgementBatch()
                        .setFirstOffset(first).setLastOffset(last).setAcknowledgeTypes(List.of(ACCEPT)))));
        data.topics().add(topic);
        ShareAcknowledgeResponse r = c.call(new ShareAcknowledgeRequest.Builder(data).build((short) 2));
        return r.data();
    }

    @Test
    void shouldAnswerShareGroupApisAsApacheDoes() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            Uuid topicId = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            GroupCoordinators.await(c, "g");

            // Kafka's request checks, in its order and words; errors carry no member id.
            ShareGroupHeartbeatResponseData noMember = heartbeat(c, "g", "", 0, List.of("queue"));
            assertEquals(Errors.INVALID_REQUEST.code(), noMember.errorCode());
            assertEquals("MemberId can't be empty.", noMember.errorMessage());
            assertNull(noMember.memberId());
            ShareGroupHeartbeatResponseData noTopics = heartbeat(c, "g", "m1", 0, null);
            assertEquals("SubscribedTopicNames must be set in first request.", noTopics.errorMessage());
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), heartbeat(c, "g", "m1", 3, null).errorCode(),
                    "only a join creates a share group");

            ShareGroupHeartbeatResponseData joined = heartbeat(c, "g", "m1", 0, List.of("queue"));
            assertEquals(Errors.NONE.code(), joined.errorCode());
            assertNull(joined.errorMessage());
            assertEquals("m1", joined.memberId());
            assertEquals(2, joined.memberEpoch(), "a new group starts at epoch 1, its first member gets 2");
            assertEquals(5_000, joined.heartbeatIntervalMs());
            // As Kafka 4.4: only share-partitions with state are assigned, and the join initializes them after its
            // answer, so its assignment is empty; a later heartbeat finds them initialized and unassigned and assigns
            // them at a new epoch (the heartbeats in between, while the share coordinator has not answered, keep the
            // epoch and are told nothing).
            assertEquals(List.of(), joined.assignment().topicPartitions());
            ShareGroupHeartbeatResponseData assigned = heartbeat(c, "g", "m1", 2, null);
            for (long deadline = System.nanoTime() + 30_000_000_000L; assigned.assignment() == null; ) {
                assertEquals(2, assigned.memberEpoch());
                assertTrue(System.nanoTime() < deadline, "the share-partition was never assigned");
                Thread.sleep(20);
                assigned = heartbeat(c, "g", "m1", 2, null);
            }
            assertEquals(3, assigned.memberEpoch());
            assertEquals(topicId, assigned.assignment().topicPartitions().get(0).topicId());
            assertEquals(List.of(0), assigned.assignment().topicPartitions().get(0).partitions());
            assertNull(heartbeat(c, "g", "m1", 3, null).assignment(), "nothing changed, no assignment");

            ShareGroupHeartbeatResponseData unknown = heartbeat(c, "g", "m2", 2, null);
            assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), unknown.errorCode());
            assertEquals("Member m2 is not a member of group g.", unknown.errorMessage());
            ShareGroupHeartbeatResponseData fenced = heartbeat(c, "g", "m1", 7, null);
            assertEquals(Errors.FENCED_MEMBER_EPOCH.code(), fenced.errorCode());
            assertEquals("The share group member has a greater member epoch (7) than the one known by the group "
                    + "coordinator (3). The member must abandon all its partitions and rejoin.", fenced.errorMessage());

            ShareGroupDescribeResponse described = c.call(new ShareGroupDescribeRequest.Builder(
                    new ShareGroupDescribeRequestData().setGroupIds(List.of("g", "nope"))).build((short) 1));
            ShareGroupDescribeResponseData.DescribedGroup g = described.data().groups().get(0);
            assertEquals(Errors.NONE.code(), g.errorCode());
            assertEquals("Stable", g.groupState());
            assertEquals(3, g.groupEpoch());
            assertEquals(3, g.assignmentEpoch());
            assertEquals("simple", g.assignorName());
            assertEquals("m1", g.members().get(0).memberId());
            assertEquals("queue", g.members().get(0).assignment().topicPartitions().get(0).topicName());
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), described.data().groups().get(1).errorCode());

            // Share sessions: an incremental epoch without a session, then a session and a wrong epoch.
            assertEquals(Errors.SHARE_SESSION_NOT_FOUND.code(), fetch(c, "g", "m1", 1, topicId, List.of()).errorCode());
            assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), fetch(c, "g", "m9", 0, topicId, List.of()).errorCode());
            ShareFetchResponseData opened = fetch(c, "g", "m1", 0, topicId, List.of());
            assertEquals(Errors.NONE.code(), opened.errorCode());
            assertEquals(30_000, opened.acquisitionLockTimeoutMs());
            assertEquals(List.of(), opened.responses().iterator().next().partitions().get(0).acquiredRecords(),
                    "share.auto.offset.reset=latest: the share-partition starts at the end of the empty log");
            Properties producerProps = new Properties();
            producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps, new StringSerializer(),
                    new StringSerializer())) {
                for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("queue", 0, null, "v" + i)).get();
            }
            assertEquals(Errors.INVALID_SHARE_SESSION_EPOCH.code(), fetch(c, "g", "m1", 5, topicId, List.of()).errorCode());
            ShareFetchResponseData fetched = fetch(c, "g", "m1", 1, topicId, List.of());
            ShareFetchResponseData.PartitionData p = fetched.responses().iterator().next().partitions().get(0);
            assertEquals(Errors.NONE.code(), p.errorCode());
            assertEquals(1, p.acquiredRecords().size());
            assertEquals(0, p.acquiredRecords().get(0).firstOffset());
            assertEquals(2, p.acquiredRecords().get(0).lastOffset());
            assertEquals(1, p.acquiredRecords().get(0).deliveryCount());
            assertTrue(p.records().sizeInBytes() > 0);

            // Acknowledgements: the records held are accepted once; again is INVALID_RECORD_STATE.
            assertEquals(Errors.INVALID_SHARE_SESSION_EPOCH.code(),
                    acknowledge(c, "g", "m1", 0, topicId, 0, 0).errorCode(), "epoch 0 cannot acknowledge");
            ShareAcknowledgeResponseData accepted = acknowledge(c, "g", "m1", 2, topicId, 0, 2);
            assertEquals(Errors.NONE.code(), accepted.errorCode());
            assertEquals(Errors.NONE.code(), accepted.responses().iterator().next().partitions().get(0).errorCode());
            ShareAcknowledgeResponseData again = acknowledge(c, "g", "m1", 3, topicId, 0, 2);
            assertEquals(Errors.INVALID_RECORD_STATE.code(), again.responses().iterator().next().partitions().get(0).errorCode());
            ShareFetchResponseData withAck = fetch(c, "g", "m1", 4, topicId, List.of(
                    new ShareFetchRequestData.AcknowledgementBatch().setFirstOffset(7).setLastOffset(7)
                            .setAcknowledgeTypes(List.of(ACCEPT))));
            assertEquals(Errors.INVALID_RECORD_STATE.code(),
                    withAck.responses().iterator().next().partitions().get(0).acknowledgeErrorCode());

            // The final epoch closes the session; acknowledging after that finds none.
            assertEquals(Errors.NONE.code(), acknowledge(c, "g", "m1", -1, topicId, 0, 0).errorCode());
            assertEquals(Errors.SHARE_SESSION_NOT_FOUND.code(), acknowledge(c, "g", "m1", 5, topicId, 0, 0).errorCode());
            assertEquals(Errors.SHARE_SESSION_NOT_FOUND.code(), acknowledge(c, "g", "m1", -1, topicId, 0, 0).errorCode());

            // The classic group APIs on a share group, as Kafka 4.4 answers them.
            ListGroupsResponse shares = c.call(new ListGroupsRequest.Builder(new ListGroupsRequestData()
                    .setTypesFilter(List.of("share"))).build((short) 5));
            ListGroupsResponseData.ListedGroup listed = shares.data().groups().get(0);
            assertEquals("g", listed.groupId());
            assertEquals("share", listed.protocolType());
            assertEquals("share", listed.groupType());
            assertEquals("Stable", listed.groupState());
            DescribeGroupsResponse asClassic = c.call(new DescribeGroupsRequest.Builder(new DescribeGroupsRequestData()
                    .setGroups(List.of("g"))).build((short) 6));
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), asClassic.data().groups().get(0).errorCode());
            assertEquals("Group g is not a classic group.", asClassic.data().groups().get(0).errorMessage());
            DeleteGroupsResponse notEmpty = c.call(new DeleteGroupsRequest.Builder(new DeleteGroupsRequestData()
                    .setGroupsNames(List.of("g"))).build((short) 2));
            assertEquals(Errors.NON_EMPTY_GROUP.code(), notEmpty.data().results().find("g").errorCode());

            // A group id is of one kind at a time.
            JoinGroupResponse join = c.call(new JoinGroupRequest.Builder(new JoinGroupRequestData().setGroupId("g")
                    .setMemberId("").setProtocolType("consumer").setSessionTimeoutMs(10_000)
                    .setRebalanceTimeoutMs(10_000)).build((short) 9));
            assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL.code(), join.data().errorCode());
            ConsumerGroupHeartbeatResponse asConsumer = c.call(new ConsumerGroupHeartbeatRequest.Builder(
                    new ConsumerGroupHeartbeatRequestData().setGroupId("g").setMemberId("c1").setMemberEpoch(0)
                            .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("queue"))
                            .setTopicPartitions(List.of())).build((short) 1));
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), asConsumer.data().errorCode());
            assertEquals("Group g is not a consumer group.", asConsumer.data().errorMessage());
            c.call(new ConsumerGroupHeartbeatRequest.Builder(new ConsumerGroupHeartbeatRequestData()
                    .setGroupId("consumers").setMemberId("c1").setMemberEpoch(0).setRebalanceTimeoutMs(30_000)
                    .setSubscribedTopicNames(List.of("queue")).setTopicPartitions(List.of())).build((short) 1));
            ShareGroupHeartbeatResponseData notShare = heartbeat(c, "consumers", "m1", 0, List.of("queue"));
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), notShare.errorCode());
            assertEquals("Group consumers is not a share group.", notShare.errorMessage());

            ShareGroupHeartbeatResponseData left = heartbeat(c, "g", "m1", -1, null);
            assertEquals(Errors.NONE.code(), left.errorCode());
            assertEquals(-1, left.memberEpoch());
            assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), heartbeat(c, "g", "m1", 2, null).errorCode());
            DeleteGroupsResponse deleted = c.call(new DeleteGroupsRequest.Builder(new DeleteGroupsRequestData()
                    .setGroupsNames(List.of("g"))).build((short) 2));
            assertEquals(Errors.NONE.code(), deleted.data().results().find("g").errorCode());
        }
    }

    @Test
    void shouldAdvertiseKafka44ShareVersionsAndCloseOnAnUnsupportedOne() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            ApiVersionsResponse versions = c.apiVersions();
            Map<Short, short[]> expected = Map.of(ApiKey.SHARE_GROUP_HEARTBEAT.id(), new short[]{1, 1},
                    ApiKey.SHARE_GROUP_DESCRIBE.id(), new short[]{1, 1}, ApiKey.SHARE_FETCH.id(), new short[]{1, 2},
                    ApiKey.SHARE_ACKNOWLEDGE.id(), new short[]{1, 2},
                    ApiKey.DESCRIBE_SHARE_GROUP_OFFSETS.id(), new short[]{0, 1},
                    ApiKey.ALTER_SHARE_GROUP_OFFSETS.id(), new short[]{0, 0},
                    ApiKey.DELETE_SHARE_GROUP_OFFSETS.id(), new short[]{0, 0});
            for (Map.Entry<Short, short[]> e : expected.entrySet()) {
                ApiVersionsResponse.ApiVersion v = versions.apiKeys.stream().filter(k -> k.apiKey == e.getKey())
                        .findFirst().orElseThrow(() -> new AssertionError("key " + e.getKey() + " not advertised"));
                assertEquals(e.getValue()[0], v.minVersion, "min of " + e.getKey());
                assertEquals(e.getValue()[1], v.maxVersion, "max of " + e.getKey());
            }
            // ShareGroupHeartbeat v0 (Kafka 4.0's early access) is not served by 4.4: the connection is closed.
            ByteBuf frame = Unpooled.buffer();
            RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.SHARE_GROUP_HEARTBEAT.id())
                    .setRequestApiVersion((short) 0).setCorrelationId(9).setClientId("early");
            frame.writeInt(header.size((short) 2) + 1);
            header.write(frame, (short) 2);
            frame.writeByte(0);
            c.writeAndRelease(frame);
            assertTrue(c.closedWithin(5_000));
        }
    }
}
