package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeResponse;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * ConsumerGroupHeartbeat, ConsumerGroupDescribe and the classic group APIs on a consumer group, on the wire, decoded
 * by kafka-clients: the fields, errors, messages and nulls Apache answers with.
 */
class ConsumerGroupApisTest {
    @TempDir
    Path dir;

    private static ConsumerGroupHeartbeatResponseData heartbeat(OfficialClientConnection c,
                                                                ConsumerGroupHeartbeatRequestData data) throws Exception {
        ConsumerGroupHeartbeatResponse r = c.call(new ConsumerGroupHeartbeatRequest.Builder(data).build((short) 1));
        return r.data();
    }

    @Test
    void shouldAnswerConsumerGroupApisAsApacheDoes() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            GroupCoordinators.await(c, "wire");
            ConsumerGroupHeartbeatResponseData bad = heartbeat(c, new ConsumerGroupHeartbeatRequestData()
                    .setGroupId("").setMemberId("m1").setMemberEpoch(0).setRebalanceTimeoutMs(30_000)
                    .setSubscribedTopicNames(List.of("t")).setTopicPartitions(List.of()));
            assertEquals(Errors.INVALID_REQUEST.code(), bad.errorCode());
            assertEquals("GroupId can't be empty.", bad.errorMessage());
            assertNull(bad.memberId());

            ConsumerGroupHeartbeatResponseData joined = heartbeat(c, new ConsumerGroupHeartbeatRequestData()
                    .setGroupId("wire").setMemberId("m1").setMemberEpoch(0).setRebalanceTimeoutMs(30_000)
                    .setSubscribedTopicNames(List.of("not-yet")).setTopicPartitions(List.of()));
            assertEquals(Errors.NONE.code(), joined.errorCode());
            assertNull(joined.errorMessage());
            assertEquals("m1", joined.memberId());
            assertEquals(2, joined.memberEpoch(), "a new group starts at epoch 1, as in Kafka 4.4");
            assertEquals(5_000, joined.heartbeatIntervalMs());
            assertNotNull(joined.assignment(), "a join always gets its assignment, here empty");
            assertEquals(List.of(), joined.assignment().topicPartitions());
            // A heartbeat with nothing new gets no assignment.
            assertNull(heartbeat(c, new ConsumerGroupHeartbeatRequestData().setGroupId("wire").setMemberId("m1")
                    .setMemberEpoch(2)).assignment());

            ConsumerGroupDescribeResponse described = c.call(new ConsumerGroupDescribeRequest.Builder(
                    new ConsumerGroupDescribeRequestData().setGroupIds(List.of("wire", "nope"))).build((short) 1));
            ConsumerGroupDescribeResponseData.DescribedGroup wire = described.data().groups().get(0);
            assertEquals(Errors.NONE.code(), wire.errorCode());
            assertEquals("Stable", wire.groupState());
            assertEquals(2, wire.groupEpoch());
            assertEquals(2, wire.assignmentEpoch());
            assertEquals("uniform", wire.assignorName());
            assertEquals("m1", wire.members().get(0).memberId());
            assertEquals(List.of("not-yet"), wire.members().get(0).subscribedTopicNames());
            assertEquals(1, wire.members().get(0).memberType(), "a consumer-protocol member");
            ConsumerGroupDescribeResponseData.DescribedGroup nope = described.data().groups().get(1);
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), nope.errorCode());
            assertEquals("Group nope not found.", nope.errorMessage());

            ListGroupsResponse consumers = c.call(new ListGroupsRequest.Builder(new ListGroupsRequestData()
                    .setTypesFilter(List.of("consumer"))).build((short) 5));
            ListGroupsResponseData.ListedGroup listed = consumers.data().groups().get(0);
            assertEquals("wire", listed.groupId());
            assertEquals("consumer", listed.protocolType());
            assertEquals("consumer", listed.groupType());
            assertEquals("Stable", listed.groupState());
            ListGroupsResponse classics = c.call(new ListGroupsRequest.Builder(new ListGroupsRequestData()
                    .setTypesFilter(List.of("Classic"))).build((short) 5));
            assertEquals(List.of(), classics.data().groups());

            DescribeGroupsResponse v6 = c.call(new DescribeGroupsRequest.Builder(new DescribeGroupsRequestData()
                    .setGroups(List.of("wire"))).build((short) 6));
            DescribeGroupsResponseData.DescribedGroup asClassic = v6.data().groups().get(0);
            assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), asClassic.errorCode());
            assertEquals("Group wire is not a classic group.", asClassic.errorMessage());
            assertEquals("Dead", asClassic.groupState());
            DescribeGroupsResponse v5 = c.call(new DescribeGroupsRequest.Builder(new DescribeGroupsRequestData()
                    .setGroups(List.of("wire"))).build((short) 5));
            assertEquals(Errors.NONE.code(), v5.data().groups().get(0).errorCode());
            assertEquals("Dead", v5.data().groups().get(0).groupState());

            ConsumerGroupHeartbeatResponseData left = heartbeat(c, new ConsumerGroupHeartbeatRequestData()
                    .setGroupId("wire").setMemberId("m1").setMemberEpoch(-1));
            assertEquals(Errors.NONE.code(), left.errorCode());
            assertEquals(-1, left.memberEpoch());
            assertEquals(Errors.UNKNOWN_MEMBER_ID.code(), heartbeat(c, new ConsumerGroupHeartbeatRequestData()
                    .setGroupId("wire").setMemberId("m1").setMemberEpoch(2)).errorCode());
        }
    }
}
