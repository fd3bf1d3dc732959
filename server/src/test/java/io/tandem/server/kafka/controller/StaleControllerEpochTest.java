package io.tandem.server.kafka.controller;

import static io.tandem.server.kafka.UpdateMetadataRequests.liveBroker;
import static io.tandem.server.kafka.UpdateMetadataRequests.partition;
import static io.tandem.server.kafka.UpdateMetadataRequests.topic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.StopReplicaRequest;
import io.tandem.kafka.wire.message.StopReplicaResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.kafka.wire.message.UpdateMetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.TestRequests;
import io.tandem.server.kafka.UpdateMetadataRequests;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Controller epochs as Kafka 3.9's ReplicaManager and metadata cache use them: LeaderAndIsr, UpdateMetadata and
 * StopReplica from a controller older than the newest the broker has heard from (a deposed controller that has not
 * noticed yet) are answered STALE_CONTROLLER_EPOCH and change nothing, while the same requests at the current epoch
 * are obeyed (which shows the observations below do see a change when there is one).
 */
class StaleControllerEpochTest {
    private static final String TOPIC = "fenced";
    @TempDir
    Path dir;
    private Tandem zookeeper;
    private Tandem broker;
    private ZkZnodeStore reader;
    private RawKafkaConnection connection;

    @BeforeEach
    void start() throws Exception {
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", "1").set("zookeeper.connect", zookeeper.zookeeperConnect()));
        reader = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30));
        connection = new RawKafkaConnection(broker.kafkaPort());
    }

    @AfterEach
    void stop() throws Exception {
        if (connection != null) connection.close();
        if (reader != null) reader.close();
        if (broker != null) broker.close();
        if (zookeeper != null) zookeeper.close();
    }

    @Test
    void requestsFromAnOlderControllerAreRefusedAndChangeNothing() throws Exception {
        TestRequests.createTopic(connection, TOPIC);
        MetadataResponse.MetadataResponsePartition before = awaitLeader();
        assertEquals(Errors.NONE.code(), produce());
        UUID topicId = metadata().topics.get(0).topicId;
        int controllerEpoch = KafkaZkLayout.decodeControllerEpoch(reader.getData(KafkaZkLayout.CONTROLLER_EPOCH));
        assertTrue(controllerEpoch >= 1, "controller epoch " + controllerEpoch);
        int stale = controllerEpoch - 1;
        int newerLeaderEpoch = before.leaderEpoch + 5;

        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), leaderAndIsr(stale, topicId, newerLeaderEpoch));
        assertEquals(Errors.NONE.code(), fetchAtLeaderEpoch(before.leaderEpoch),
                "the stale LeaderAndIsr did not move the broker's leader epoch");
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), updateMetadata(stale, topicId, newerLeaderEpoch));
        assertSameLeadership(before, awaitLeader());
        assertEquals(Errors.STALE_CONTROLLER_EPOCH.code(), stopReplica(stale));
        assertEquals(Errors.NONE.code(), produce(), "the stale StopReplica did not stop or delete the replica");
        assertEquals(Errors.NONE.code(), fetchAtLeaderEpoch(before.leaderEpoch));
        assertSameLeadership(before, awaitLeader());

        // The same requests from the current controller are obeyed, so each observation above can see a change.
        assertEquals(Errors.NONE.code(), updateMetadata(controllerEpoch, topicId, newerLeaderEpoch));
        assertEquals(newerLeaderEpoch, awaitLeader().leaderEpoch, "Metadata shows an obeyed UpdateMetadata");
        assertEquals(Errors.NONE.code(), leaderAndIsr(controllerEpoch, topicId, newerLeaderEpoch));
        assertEquals(Errors.FENCED_LEADER_EPOCH.code(), fetchAtLeaderEpoch(before.leaderEpoch),
                "a fetch at the old leader epoch is fenced once LeaderAndIsr is obeyed");
        assertEquals(Errors.NONE.code(), stopReplica(controllerEpoch));
        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER.code(), produce(), "a stopped replica takes no writes");
    }

    private static void assertSameLeadership(MetadataResponse.MetadataResponsePartition expected,
                                             MetadataResponse.MetadataResponsePartition actual) {
        assertEquals(expected.leaderId, actual.leaderId, "leader");
        assertEquals(expected.leaderEpoch, actual.leaderEpoch, "leader epoch");
        assertEquals(expected.isrNodes, actual.isrNodes, "ISR");
    }

    private MetadataResponse metadata() throws Exception {
        MetadataRequest request = new MetadataRequest();
        MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
        wanted.name = TOPIC;
        request.topics = new ArrayList<>(List.of(wanted));
        return call(ApiKey.METADATA, 12, request, MetadataResponse.class);
    }

    private MetadataResponse.MetadataResponsePartition awaitLeader() throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            MetadataResponse response = metadata();
            if (!response.topics.isEmpty() && !response.topics.get(0).partitions.isEmpty()
                    && response.topics.get(0).partitions.get(0).leaderId == 1) {
                return response.topics.get(0).partitions.get(0);
            }
            assertTrue(System.currentTimeMillis() < deadline, "no leader for " + TOPIC);
            Thread.sleep(50);
        }
    }

    private short produce() throws Exception {
        ProduceResponse response = call(ApiKey.PRODUCE, 9,
                TestRequests.produce(TOPIC, TestRequests.batch("v"), (short) 1, 5000), ProduceResponse.class);
        return response.responses.get(0).partitionResponses.get(0).errorCode;
    }

    private short fetchAtLeaderEpoch(int leaderEpoch) throws Exception {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = 0;
        request.minBytes = 1;
        FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
        topic.topic = TOPIC;
        FetchRequest.FetchPartition partition = new FetchRequest.FetchPartition();
        partition.partition = 0;
        partition.currentLeaderEpoch = leaderEpoch;
        partition.partitionMaxBytes = 1 << 20;
        topic.partitions.add(partition);
        request.topics.add(topic);
        return call(ApiKey.FETCH, 12, request, FetchResponse.class).responses.get(0).partitions.get(0).errorCode;
    }

    private short leaderAndIsr(int controllerEpoch, UUID topicId, int leaderEpoch) throws Exception {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = -1;
        LeaderAndIsrRequest.LeaderAndIsrTopicState topic = new LeaderAndIsrRequest.LeaderAndIsrTopicState();
        topic.topicName = TOPIC;
        topic.topicId = topicId;
        LeaderAndIsrRequest.LeaderAndIsrPartitionState state = new LeaderAndIsrRequest.LeaderAndIsrPartitionState();
        state.partitionIndex = 0;
        state.controllerEpoch = controllerEpoch;
        state.leader = 1;
        state.leaderEpoch = leaderEpoch;
        state.isr = new ArrayList<>(List.of(1));
        state.partitionEpoch = leaderEpoch;
        state.replicas = new ArrayList<>(List.of(1));
        topic.partitionStates.add(state);
        request.topicStates.add(topic);
        return call(ApiKey.LEADER_AND_ISR, 7, request, LeaderAndIsrResponse.class).errorCode;
    }

    private short updateMetadata(int controllerEpoch, UUID topicId, int leaderEpoch) throws Exception {
        UpdateMetadataRequest request = UpdateMetadataRequests.request(1, controllerEpoch);
        liveBroker(request, 1, "127.0.0.1", broker.kafkaPort());
        UpdateMetadataRequest.UpdateMetadataTopicState topic = topic(request, TOPIC);
        topic.topicId = topicId;
        partition(topic, 0, controllerEpoch, 1, leaderEpoch, leaderEpoch, List.of(1));
        return call(ApiKey.UPDATE_METADATA, 7, request, UpdateMetadataResponse.class).errorCode;
    }

    private short stopReplica(int controllerEpoch) throws Exception {
        StopReplicaRequest request = new StopReplicaRequest();
        request.controllerId = 1;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = -1;
        StopReplicaRequest.StopReplicaTopicState topic = new StopReplicaRequest.StopReplicaTopicState();
        topic.topicName = TOPIC;
        StopReplicaRequest.StopReplicaPartitionState partition = new StopReplicaRequest.StopReplicaPartitionState();
        partition.partitionIndex = 0;
        partition.leaderEpoch = -2;
        partition.deletePartition = true;
        topic.partitionStates.add(partition);
        request.topicStates.add(topic);
        return call(ApiKey.STOP_REPLICA, 3, request, StopReplicaResponse.class).errorCode;
    }

    private <R> R call(ApiKey key, int version, ApiMessage request, Class<R> type) throws Exception {
        short v = (short) version;
        return type.cast(connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse));
    }
}
