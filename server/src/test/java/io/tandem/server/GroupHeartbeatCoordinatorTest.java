package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupDescribeRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeResponse;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.requests.ShareGroupDescribeRequest;
import org.apache.kafka.common.requests.ShareGroupDescribeResponse;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The KIP-848 and KIP-932 group APIs (ConsumerGroupHeartbeat, ShareGroupHeartbeat and their describes) sent to a
 * broker that is not the group's coordinator answer NOT_COORDINATOR, and at the coordinator while the group's
 * {@code __consumer_offsets} partition loads COORDINATOR_LOAD_IN_PROGRESS, as Kafka 4.x's coordinator runtime
 * answers them (CoordinatorRuntime's activeContextOrThrow, with the errors' own messages), so a client looks its
 * coordinator up again or retries, rather than taking the group for missing.
 */
class GroupHeartbeatCoordinatorTest {
    private static final String GROUP = "g";
    /** One offsets partition without followers: one broker coordinates every group, the other two none. */
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1"));

    @Test
    void groupRequestsShouldAnswerNotCoordinatorAwayFromTheCoordinatorAndLoadInProgressWhileItLoads() throws Exception {
        TandemCluster cluster = kafka.cluster();
        int coordinator;
        try (OfficialClientConnection any = new OfficialClientConnection(cluster.broker(1).kafkaPort())) {
            coordinator = GroupCoordinators.await(any, GROUP);
        }
        int elsewhere = coordinator % 3 + 1;
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(elsewhere).kafkaPort())) {
            assertAnswers(c, Errors.NOT_COORDINATOR);
        }

        KafkaBroker broker = cluster.broker(coordinator).kafkaBroker();
        try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(coordinator).kafkaPort())) {
            // The coordinator's partition read again, as when it takes the lead: the groups wait for the load.
            broker.groups().partitionLoading(0);
            try {
                assertAnswers(c, Errors.COORDINATOR_LOAD_IN_PROGRESS);
            } finally {
                broker.groups().partitionLoaded(0);
            }
            // Loaded: the same requests are served.
            assertEquals(Errors.NONE.code(), shareJoin(c).data().errorCode());
            assertEquals(Errors.NONE.code(), consumerJoin(c, "c").data().errorCode());
        }
    }

    private static void assertAnswers(OfficialClientConnection c, Errors expected) throws Exception {
        ShareGroupHeartbeatResponse share = shareJoin(c);
        assertEquals(expected.code(), share.data().errorCode(), "ShareGroupHeartbeat: " + share.data());
        assertEquals(expected.message(), share.data().errorMessage());
        assertEquals(null, share.data().memberId());
        // A consumer group id of its own: the share join above must not decide the answer.
        ConsumerGroupHeartbeatResponse consumer = consumerJoin(c, "c");
        assertEquals(expected.code(), consumer.data().errorCode(), "ConsumerGroupHeartbeat: " + consumer.data());
        assertEquals(expected.message(), consumer.data().errorMessage());

        ShareGroupDescribeResponse shareDescribe = c.call(new ShareGroupDescribeRequest.Builder(
                new ShareGroupDescribeRequestData().setGroupIds(List.of(GROUP))).build((short) 1));
        assertEquals(expected.code(), shareDescribe.data().groups().get(0).errorCode(),
                "ShareGroupDescribe: " + shareDescribe.data());
        ConsumerGroupDescribeResponse consumerDescribe = c.call(new ConsumerGroupDescribeRequest.Builder(
                new ConsumerGroupDescribeRequestData().setGroupIds(List.of("c"))).build((short) 0));
        assertEquals(expected.code(), consumerDescribe.data().groups().get(0).errorCode(),
                "ConsumerGroupDescribe: " + consumerDescribe.data());
    }

    private static ShareGroupHeartbeatResponse shareJoin(OfficialClientConnection c) throws Exception {
        return c.call(new ShareGroupHeartbeatRequest.Builder(new ShareGroupHeartbeatRequestData().setGroupId(GROUP)
                .setMemberId(Uuid.randomUuid().toString()).setMemberEpoch(0)
                .setSubscribedTopicNames(List.of("queue"))).build((short) 1));
    }

    private static ConsumerGroupHeartbeatResponse consumerJoin(OfficialClientConnection c, String group)
            throws Exception {
        return c.call(new ConsumerGroupHeartbeatRequest.Builder(new ConsumerGroupHeartbeatRequestData()
                .setGroupId(group).setMemberId(Uuid.randomUuid().toString()).setMemberEpoch(0)
                .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("queue"))
                .setTopicPartitions(List.of())).build((short) 1));
    }
}
