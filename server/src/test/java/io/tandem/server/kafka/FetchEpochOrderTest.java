package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochRequest;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochResponse;
import io.tandem.kafka.wire.message.ProduceResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Fetch that is not parked, sent to a broker that does not lead the partition, answers as Kafka's: a broker with a
 * replica (a follower) checks the fetcher's current leader epoch first (Partition.fetchRecords ->
 * localLogWithEpochOrThrow: FENCED_LEADER_EPOCH for an older one, UNKNOWN_LEADER_EPOCH for a newer one) and only
 * then the leadership (NOT_LEADER_OR_FOLLOWER); a broker without a replica answers NOT_LEADER_OR_FOLLOWER whatever
 * the epoch (ReplicaManager.getPartitionOrException). Tandem answered NOT_LEADER_OR_FOLLOWER on a follower before
 * looking at the epoch, so a consumer with a stale epoch was not told to refresh it. And from Fetch v16 and Produce
 * v10 (KIP-951) such answers name the partition's current leader and its endpoint (KafkaApis.getCurrentLeader).
 * ListOffsets and OffsetForLeaderEpoch follow the same order on a follower.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FetchEpochOrderTest {
    /** Led by broker 2 after a move, broker 1 its follower. */
    private static final String MOVED = "moved";
    /** One replica, on broker 2: broker 1 hosts none. */
    private static final String ELSEWHERE = "elsewhere";

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(2, Map.of("auto.leader.rebalance.enable", "false"));

    private int followerPort;
    private int leaderPort;
    /** The moved partition's leader epoch, at least 1. */
    private int movedEpoch;
    private Uuid movedId;
    private int elsewhereEpoch;
    private Uuid elsewhereId;

    @BeforeEach
    void moveTheLeadershipToBroker2() throws Exception {
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(MOVED, Map.of(0, List.of(1, 2))),
                new NewTopic(ELSEWHERE, Map.of(0, List.of(2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), MOVED, 0, 2);
        TopicPartition tp = new TopicPartition(MOVED, 0);
        admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(2, 1)))))
                .all().get(30, TimeUnit.SECONDS);
        admin.electLeaders(ElectionType.PREFERRED, Set.of(tp)).all().get(30, TimeUnit.SECONDS);
        followerPort = kafka.cluster().broker(1).kafkaPort();
        leaderPort = kafka.cluster().broker(2).kafkaPort();
        // Broker 1's cache hears of the move after its replica became a follower (LeaderAndIsr comes first).
        MetadataResponseData.MetadataResponsePartition moved = awaitLeader(followerPort, MOVED, 2);
        MetadataResponseData.MetadataResponsePartition elsewhere = awaitLeader(followerPort, ELSEWHERE, 2);
        movedEpoch = moved.leaderEpoch();
        elsewhereEpoch = elsewhere.leaderEpoch();
        movedId = topicId(followerPort, MOVED);
        elsewhereId = topicId(followerPort, ELSEWHERE);
        assertTrue(movedEpoch >= 1, "the move made a new epoch: " + movedEpoch);
    }

    @Test
    void shouldCheckTheFetchersLeaderEpochBeforeTheLeadershipOnAFollower() throws Exception {
        assertEquals(Errors.FENCED_LEADER_EPOCH, error(fetch(followerPort, 12, MOVED, movedId, movedEpoch - 1)));
        assertEquals(Errors.UNKNOWN_LEADER_EPOCH, error(fetch(followerPort, 12, MOVED, movedId, movedEpoch + 1)));
        // The epoch agrees: a Fetch below v11 (no client metadata) is served by the leader only.
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, error(fetch(followerPort, 10, MOVED, movedId, movedEpoch)));
        // No replica here: the leadership is all there is to check, whatever the fetcher's epoch.
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER,
                error(fetch(followerPort, 12, ELSEWHERE, elsewhereId, elsewhereEpoch + 5)));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER,
                error(fetch(followerPort, 12, ELSEWHERE, elsewhereId, elsewhereEpoch)));
        // The leader itself fences and refuses by epoch alone.
        assertEquals(Errors.FENCED_LEADER_EPOCH, error(fetch(leaderPort, 12, MOVED, movedId, movedEpoch - 1)));
        assertEquals(Errors.NONE, error(fetch(leaderPort, 12, MOVED, movedId, movedEpoch)));
    }

    /**
     * ListOffsets and OffsetForLeaderEpoch on a follower check the client's epoch before the leadership too, as
     * Kafka's Partition.localLogWithEpochOrThrow (ReplicaManager.fetchOffsetForTimestamp, lastOffsetForLeaderEpoch):
     * Tandem answered NOT_LEADER_OR_FOLLOWER on a follower whatever the epoch. A debugging ListOffsets (replica id -2)
     * is the one a follower answers; a broker without a replica says NOT_LEADER_OR_FOLLOWER whatever the epoch.
     */
    @Test
    void shouldCheckTheClientsLeaderEpochBeforeTheLeadershipInListOffsetsAndOffsetForLeaderEpoch() throws Exception {
        try (RawKafkaConnection follower = new RawKafkaConnection(followerPort);
             RawKafkaConnection leader = new RawKafkaConnection(leaderPort)) {
            assertEquals(Errors.FENCED_LEADER_EPOCH.code(), listOffsets(follower, MOVED, -1, movedEpoch - 1).errorCode);
            assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), listOffsets(follower, MOVED, -1, movedEpoch + 1).errorCode);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), listOffsets(follower, MOVED, -1, movedEpoch).errorCode);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), listOffsets(follower, MOVED, -1, -1).errorCode);
            // Only -1 means "no epoch" in ListOffsets (ListOffsetsResponse.UNKNOWN_EPOCH): -2 is checked, and fenced.
            assertEquals(Errors.FENCED_LEADER_EPOCH.code(), listOffsets(follower, MOVED, -1, -2).errorCode);
            ListOffsetsResponse.ListOffsetsPartitionResponse debugging = listOffsets(follower, MOVED, -2, movedEpoch);
            assertEquals(Errors.NONE.code(), debugging.errorCode, "a debugging request is answered by a follower");
            assertEquals(movedEpoch, debugging.leaderEpoch);
            assertEquals(Errors.FENCED_LEADER_EPOCH.code(), listOffsets(follower, MOVED, -2, movedEpoch - 1).errorCode);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(),
                    listOffsets(follower, ELSEWHERE, -1, elsewhereEpoch + 5).errorCode);
            assertEquals(Errors.NONE.code(), listOffsets(leader, MOVED, -1, movedEpoch).errorCode);

            assertEquals(Errors.FENCED_LEADER_EPOCH.code(), epochEnd(follower, MOVED, movedEpoch - 1).errorCode);
            assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), epochEnd(follower, MOVED, movedEpoch + 1).errorCode);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), epochEnd(follower, MOVED, movedEpoch).errorCode);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), epochEnd(follower, MOVED, -1).errorCode);
            assertEquals(Errors.FENCED_LEADER_EPOCH.code(), epochEnd(follower, MOVED, -2).errorCode);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(),
                    epochEnd(follower, ELSEWHERE, elsewhereEpoch + 5).errorCode);
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), epochEnd(follower, "nowhere", -1).errorCode);
            assertEquals(Errors.NONE.code(), epochEnd(leader, MOVED, movedEpoch).errorCode);
        }
    }

    /** ListOffsets v7 (latest) of partition 0 of {@code topic} from {@code replicaId} at {@code currentLeaderEpoch}. */
    private static ListOffsetsResponse.ListOffsetsPartitionResponse listOffsets(RawKafkaConnection c, String topic,
                                                                                int replicaId, int currentLeaderEpoch)
            throws Exception {
        ListOffsetsRequest request = TestRequests.latestOffsetRequest(topic);
        request.replicaId = replicaId;
        request.topics.get(0).partitions.get(0).currentLeaderEpoch = currentLeaderEpoch;
        return c.roundTrip(ApiKey.LIST_OFFSETS, (short) 7, (short) 1, request, ListOffsetsResponse::read)
                .topics.get(0).partitions.get(0);
    }

    /** OffsetForLeaderEpoch v3 (a consumer's) for where partition 0 of {@code topic}'s epoch 0 ends. */
    private static OffsetForLeaderEpochResponse.EpochEndOffset epochEnd(RawKafkaConnection c, String topic,
                                                                        int currentLeaderEpoch) throws Exception {
        OffsetForLeaderEpochRequest request = new OffsetForLeaderEpochRequest();
        request.replicaId = -1;
        OffsetForLeaderEpochRequest.OffsetForLeaderTopic t = new OffsetForLeaderEpochRequest.OffsetForLeaderTopic();
        t.topic = topic;
        OffsetForLeaderEpochRequest.OffsetForLeaderPartition p =
                new OffsetForLeaderEpochRequest.OffsetForLeaderPartition();
        p.partition = 0;
        p.currentLeaderEpoch = currentLeaderEpoch;
        p.leaderEpoch = 0;
        t.partitions.add(p);
        request.topics.add(t);
        return c.roundTrip(ApiKey.OFFSET_FOR_LEADER_EPOCH, (short) 3, (short) 0, request,
                OffsetForLeaderEpochResponse::read).topics.get(0).partitions.get(0);
    }

    @Test
    void shouldNameTheCurrentLeaderInFetchV16AndProduceV10Answers() throws Exception {
        // NOT_LEADER_OR_FOLLOWER from a broker without a replica: the metadata cache's leader.
        FetchResponseData notHere = fetch(followerPort, 16, ELSEWHERE, elsewhereId, -1);
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, error(notHere));
        assertLeader(notHere.responses().get(0).partitions().get(0).currentLeader(), 2, elsewhereEpoch);
        assertOnlyEndpointOfBroker2(List.copyOf(notHere.nodeEndpoints()));

        // FENCED_LEADER_EPOCH from the follower: its own view of the leader (its last LeaderAndIsr).
        FetchResponseData fenced = fetch(followerPort, 16, MOVED, movedId, movedEpoch - 1);
        assertEquals(Errors.FENCED_LEADER_EPOCH, error(fenced));
        assertLeader(fenced.responses().get(0).partitions().get(0).currentLeader(), 2, movedEpoch);
        assertOnlyEndpointOfBroker2(List.copyOf(fenced.nodeEndpoints()));

        // Kafka fills them from v16 only, although the partition's field is there from v12.
        FetchResponseData v15 = fetch(followerPort, 15, MOVED, movedId, movedEpoch - 1);
        assertEquals(Errors.FENCED_LEADER_EPOCH, error(v15));
        assertLeader(v15.responses().get(0).partitions().get(0).currentLeader(), -1, -1);
        assertTrue(v15.nodeEndpoints().isEmpty());

        // A record batch sent to the follower: NOT_LEADER_OR_FOLLOWER with the leader and its endpoint.
        try (RawKafkaConnection connection = new RawKafkaConnection(followerPort)) {
            ProduceResponse response = connection.roundTrip(ApiKey.PRODUCE, (short) 10, (short) 1,
                    TestRequests.produce(MOVED, TestRequests.batch("to the follower"), (short) 1, 5000),
                    ProduceResponse::read);
            ProduceResponse.PartitionProduceResponse partition = response.responses.get(0).partitionResponses.get(0);
            assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), partition.errorCode);
            assertEquals(2, partition.currentLeader.leaderId);
            assertEquals(movedEpoch, partition.currentLeader.leaderEpoch);
            assertEquals(1, response.nodeEndpoints.size());
            assertEquals(2, response.nodeEndpoints.get(0).nodeId);
            assertEquals(leaderPort, response.nodeEndpoints.get(0).port);
            assertFalse(response.nodeEndpoints.get(0).host.isEmpty());
        }
    }

    private void assertOnlyEndpointOfBroker2(List<FetchResponseData.NodeEndpoint> endpoints) {
        assertEquals(1, endpoints.size(), endpoints.toString());
        assertEquals(2, endpoints.get(0).nodeId());
        assertEquals(leaderPort, endpoints.get(0).port());
        assertFalse(endpoints.get(0).host().isEmpty());
    }

    private static void assertLeader(FetchResponseData.LeaderIdAndEpoch leader, int id, int epoch) {
        assertEquals(id, leader.leaderId(), "leader id");
        assertEquals(epoch, leader.leaderEpoch(), "leader epoch");
    }

    private static Errors error(FetchResponseData response) {
        return Errors.forCode(response.responses().get(0).partitions().get(0).errorCode());
    }

    /** A consumer's Fetch of partition 0 from offset 0 that waits for nothing. */
    private static FetchResponseData fetch(int port, int version, String topic, Uuid topicId, int currentLeaderEpoch)
            throws Exception {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(topic, 0), new FetchRequest.PartitionData(topicId, 0, 0, 1 << 20,
                currentLeaderEpoch < 0 ? Optional.empty() : Optional.of(currentLeaderEpoch)));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            FetchResponse response = connection.call(
                    FetchRequest.Builder.forConsumer((short) version, 0, 1, partitions).build((short) version));
            return response.data();
        }
    }

    private static MetadataResponseData.MetadataResponseTopic metadata(int port, String topic) throws Exception {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false);
        data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(topic));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            MetadataResponse response = connection.call(new MetadataRequest.Builder(data).build((short) 12));
            return response.data().topics().find(topic);
        }
    }

    private static Uuid topicId(int port, String topic) throws Exception {
        return metadata(port, topic).topicId();
    }

    private static MetadataResponseData.MetadataResponsePartition awaitLeader(int port, String topic, int leader)
            throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            MetadataResponseData.MetadataResponseTopic t = metadata(port, topic);
            if (t != null && t.errorCode() == 0 && !t.partitions().isEmpty()
                    && t.partitions().get(0).leaderId() == leader) {
                return t.partitions().get(0);
            }
            assertTrue(System.currentTimeMillis() < deadline, topic + " has no leader " + leader + " yet");
            Thread.sleep(50);
        }
    }
}
