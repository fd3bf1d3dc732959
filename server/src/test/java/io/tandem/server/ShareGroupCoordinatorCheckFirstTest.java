package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.metadata.TopicNames;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests about a share group answered in Kafka 4.x's order, the coordinator's own checks before the group's type
 * and before anything is made. A ShareGroupHeartbeat the coordinator refuses (no {@code __consumer_offsets}, so not
 * the coordinator; a bad request) creates no {@code __share_group_state}: Kafka 4.x creates it only when its
 * persister looks the share coordinator up (FindCoordinator key type 2), to initialize the share-partitions of an
 * accepted heartbeat. A JoinGroup on a share group's id is refused INCONSISTENT_GROUP_PROTOCOL, with no member id,
 * only after GroupCoordinatorService's session timeout check and the coordinator runtime's (a loading partition is
 * COORDINATOR_LOAD_IN_PROGRESS), as GroupMetadataManager.classicGroupJoin finds the group's type last.
 */
class ShareGroupCoordinatorCheckFirstTest {
    private static final String SHARE_GROUP = "s";
    private static final String TOPIC = "queue";
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(1, Map.of("offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1", "share.coordinator.state.topic.replication.factor", "1",
            "share.coordinator.state.topic.min.isr", "1"));

    @Test
    void refusedHeartbeatsShouldCreateNoShareStateTopic() throws Exception {
        kafka.admin().createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        try (OfficialClientConnection c = new OfficialClientConnection(kafka.cluster().broker(1).kafkaPort())) {
            ShareGroupHeartbeatResponseData beforeOffsetsTopic = heartbeat(c, Uuid.randomUuid().toString());
            assertEquals(Errors.NOT_COORDINATOR.code(), beforeOffsetsTopic.errorCode(), beforeOffsetsTopic.toString());
            ShareGroupHeartbeatResponseData noMemberId = heartbeat(c, "");
            assertEquals(Errors.INVALID_REQUEST.code(), noMemberId.errorCode(), noMemberId.toString());
            assertFalse(listed(c, TopicNames.SHARE_GROUP_STATE), "a refused heartbeat creates no share state topic");

            assertEquals(1, GroupCoordinators.await(c, SHARE_GROUP));
            assertFalse(listed(c, TopicNames.SHARE_GROUP_STATE), "nor does the group's coordinator lookup");
            ShareGroupHeartbeatResponseData joined = untilNotLoading(c);
            assertEquals(Errors.NONE.code(), joined.errorCode(), joined.toString());
            long deadline = System.currentTimeMillis() + 30_000;
            while (!listed(c, TopicNames.SHARE_GROUP_STATE)) {
                assertTrue(System.currentTimeMillis() < deadline,
                        "an accepted heartbeat with share-partitions to initialize makes it, as Kafka's persister");
                Thread.sleep(20);
            }
        }
    }

    @Test
    void joinGroupOnAShareGroupShouldAnswerTheCoordinatorsChecksFirst() throws Exception {
        kafka.admin().createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        KafkaBroker broker = kafka.cluster().broker(1).kafkaBroker();
        try (OfficialClientConnection c = new OfficialClientConnection(kafka.cluster().broker(1).kafkaPort())) {
            assertEquals(1, GroupCoordinators.await(c, SHARE_GROUP));
            ShareGroupHeartbeatResponseData joined = untilNotLoading(c);
            assertEquals(Errors.NONE.code(), joined.errorCode(), joined.toString());

            broker.groups().partitionLoading(0);
            try {
                JoinGroupResponseData loading = join(c, "", 10_000);
                assertEquals(Errors.COORDINATOR_LOAD_IN_PROGRESS.code(), loading.errorCode(),
                        "the coordinator runtime's check comes before the group's type: " + loading);
            } finally {
                broker.groups().partitionLoaded(0);
            }
            JoinGroupResponseData badTimeout = join(c, "", 1);
            assertEquals(Errors.INVALID_SESSION_TIMEOUT.code(), badTimeout.errorCode(), badTimeout.toString());
            JoinGroupResponseData refused = join(c, "member-1", 10_000);
            assertEquals(Errors.INCONSISTENT_GROUP_PROTOCOL.code(), refused.errorCode(), refused.toString());
            assertEquals("", refused.memberId(), "Kafka answers UNKNOWN_MEMBER_ID, not the member's own id");
            assertEquals(-1, refused.generationId());
        }
    }

    private static ShareGroupHeartbeatResponseData heartbeat(OfficialClientConnection c, String memberId)
            throws Exception {
        ShareGroupHeartbeatResponse response = c.call(new ShareGroupHeartbeatRequest.Builder(
                new ShareGroupHeartbeatRequestData().setGroupId(SHARE_GROUP).setMemberId(memberId).setMemberEpoch(0)
                        .setSubscribedTopicNames(List.of(TOPIC))).build((short) 1));
        return response.data();
    }

    /** Joins the share group once its offsets partition has loaded (the first lookup only just made it). */
    private static ShareGroupHeartbeatResponseData untilNotLoading(OfficialClientConnection c) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        String memberId = Uuid.randomUuid().toString();
        while (true) {
            ShareGroupHeartbeatResponseData response = heartbeat(c, memberId);
            if ((response.errorCode() != Errors.COORDINATOR_LOAD_IN_PROGRESS.code()
                    && response.errorCode() != Errors.NOT_COORDINATOR.code())
                    || System.currentTimeMillis() > deadline) {
                return response;
            }
            Thread.sleep(20);
        }
    }

    private static JoinGroupResponseData join(OfficialClientConnection c, String memberId, int sessionTimeoutMs)
            throws Exception {
        JoinGroupResponse response = c.call(new JoinGroupRequest.Builder(new JoinGroupRequestData()
                .setGroupId(SHARE_GROUP).setMemberId(memberId).setProtocolType("consumer")
                .setSessionTimeoutMs(sessionTimeoutMs).setRebalanceTimeoutMs(10_000)
                .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection())).build((short) 9));
        return response.data();
    }

    /** Whether Metadata for every topic (which creates none) lists {@code topic}. */
    private static boolean listed(OfficialClientConnection c, String topic) throws Exception {
        MetadataResponse response = c.call(new MetadataRequest.Builder(new MetadataRequestData().setTopics(null)
                .setAllowAutoTopicCreation(false)).build((short) 12));
        return response.data().topics().stream().anyMatch(t -> topic.equals(t.name()));
    }
}
