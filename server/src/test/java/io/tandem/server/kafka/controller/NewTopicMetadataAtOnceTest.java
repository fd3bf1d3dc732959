package io.tandem.server.kafka.controller;

import static io.tandem.server.kafka.UpdateMetadataRequests.liveBroker;
import static io.tandem.server.kafka.UpdateMetadataRequests.partition;
import static io.tandem.server.kafka.UpdateMetadataRequests.topic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.kafka.wire.message.UpdateMetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.UpdateMetadataRequests;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.TopicId;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.replica.ReplicaManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new topic reaches a broker's Metadata answers all at once, as with Kafka 3.9's ZkMetadataCache: the test plays the
 * controller (broker 2 holds {@code /controller}, so the real broker never elects itself) and sends a broker the
 * requests Kafka's controller sends for a topic of 4 partitions spread over two brokers, over the wire. The
 * LeaderAndIsr names only the 2 partitions this broker hosts: Kafka's broker takes their roles and leaves its
 * metadata cache alone, so the topic stays unknown to clients until the UpdateMetadata that follows brings all 4
 * partitions with their leaders. A broker that published each partition as it took its role listed the topic with
 * 2 of its 4 partitions meanwhile (and, on one broker hosting them all, 3 of 4 of {@code __transaction_state} for a
 * moment in CI), and a keyed producer placed keys by the wrong count.
 */
class NewTopicMetadataAtOnceTest {
    private static final String TOPIC = "spread";
    private static final int CONTROLLER_EPOCH = 1;
    private static final int OTHER_BROKER = 2;
    /** Partition p's only replica and leader: this broker (1) for even p, the other broker for odd p. */
    private static final Map<Integer, List<Integer>> ASSIGNMENT =
            Map.of(0, List.of(1), 1, List.of(OTHER_BROKER), 2, List.of(1), 3, List.of(OTHER_BROKER));

    @TempDir
    Path dir;
    private Tandem zookeeper;
    private Tandem broker;
    private ZkZnodeStore controller;
    private RawKafkaConnection connection;

    @BeforeEach
    void start() throws Exception {
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        controller = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30));
        // The scripted controller's seat, taken before the broker starts, with no registration for the broker to
        // watch: the broker stays a broker and obeys the requests below only.
        assertTrue(controller.create(KafkaZkLayout.CONTROLLER,
                KafkaZkLayout.encodeController(OTHER_BROKER, System.currentTimeMillis()), true));
        broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", "1").set("zookeeper.connect", zookeeper.zookeeperConnect()));
        connection = new RawKafkaConnection(broker.kafkaPort());
    }

    @AfterEach
    void stop() throws Exception {
        if (connection != null) connection.close();
        if (broker != null) broker.close();
        if (controller != null) controller.close();
        if (zookeeper != null) zookeeper.close();
    }

    @Test
    void aNewTopicIsListedWithEveryPartitionOnlyOnceUpdateMetadataGivesThem() throws Exception {
        // Kafka's admin path writes the assignment; the controller then sends LeaderAndIsr, then UpdateMetadata.
        UUID topicId = TopicId.random();
        assertTrue(controller.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(topicId, new TreeMap<>(ASSIGNMENT))), false));

        LeaderAndIsrResponse roles = leaderAndIsr(topicId, List.of(0, 2));
        assertEquals(Errors.NONE.code(), roles.errorCode);
        for (var partition : roles.topics.get(0).partitionErrors) {
            assertEquals(Errors.NONE.code(), partition.errorCode, "partition " + partition.partitionIndex);
        }
        MetadataResponse.MetadataResponseTopic before = metadata(TOPIC);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), before.errorCode,
                "before UpdateMetadata the topic is unknown, not listed with the partitions whose roles were taken: "
                        + before.partitions.size() + " partition(s) listed");
        assertTrue(before.partitions.isEmpty());
        assertTrue(allTopics().stream().noneMatch(t -> TOPIC.equals(t.name)), "not listed among all topics either");

        assertEquals(Errors.NONE.code(), updateMetadata(topicId, List.of(0, 1, 2, 3), false));
        MetadataResponse.MetadataResponseTopic after = metadata(TOPIC);
        assertEquals(Errors.NONE.code(), after.errorCode);
        assertEquals(topicId, after.topicId);
        assertEquals(4, after.partitions.size(), "every partition of the UpdateMetadata");
        for (MetadataResponse.MetadataResponsePartition p : after.partitions) {
            assertEquals(Errors.NONE.code(), p.errorCode, "partition " + p.partitionIndex);
            assertEquals(ASSIGNMENT.get(p.partitionIndex).get(0), p.leaderId, "leader of " + p.partitionIndex);
            assertEquals(ASSIGNMENT.get(p.partitionIndex), p.replicaNodes);
        }

        // The deletion's UpdateMetadata (Kafka's leader-during-delete mark) takes the whole topic away at once.
        assertEquals(Errors.NONE.code(), updateMetadata(topicId, List.of(0, 1, 2, 3), true));
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), metadata(TOPIC).errorCode);
    }

    private LeaderAndIsrResponse leaderAndIsr(UUID topicId, List<Integer> partitions) throws Exception {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = OTHER_BROKER;
        request.controllerEpoch = CONTROLLER_EPOCH;
        request.brokerEpoch = -1;
        request.type = ReplicaManager.LEADER_AND_ISR_INCREMENTAL;
        LeaderAndIsrRequest.LeaderAndIsrTopicState topic = new LeaderAndIsrRequest.LeaderAndIsrTopicState();
        topic.topicName = TOPIC;
        topic.topicId = topicId;
        for (int p : partitions) {
            LeaderAndIsrRequest.LeaderAndIsrPartitionState state = new LeaderAndIsrRequest.LeaderAndIsrPartitionState();
            state.partitionIndex = p;
            state.controllerEpoch = CONTROLLER_EPOCH;
            state.leader = ASSIGNMENT.get(p).get(0);
            state.leaderEpoch = 0;
            state.isr = new ArrayList<>(ASSIGNMENT.get(p));
            state.partitionEpoch = 0;
            state.replicas = new ArrayList<>(ASSIGNMENT.get(p));
            topic.partitionStates.add(state);
        }
        request.topicStates.add(topic);
        LeaderAndIsrRequest.LeaderAndIsrLiveLeader self = new LeaderAndIsrRequest.LeaderAndIsrLiveLeader();
        self.brokerId = 1;
        self.hostName = "127.0.0.1";
        self.port = broker.kafkaPort();
        request.liveLeaders.add(self);
        return call(ApiKey.LEADER_AND_ISR, 6, request, LeaderAndIsrResponse.class);
    }

    /** UpdateMetadata naming both brokers live and the partitions' states ({@code deleting}: Kafka's delete mark). */
    private short updateMetadata(UUID topicId, List<Integer> partitions, boolean deleting) throws Exception {
        UpdateMetadataRequest request = UpdateMetadataRequests.request(OTHER_BROKER, CONTROLLER_EPOCH);
        for (int id : List.of(1, OTHER_BROKER)) {
            // The other broker is never dialled here: its endpoint only has to be listed.
            liveBroker(request, id, "127.0.0.1", id == 1 ? broker.kafkaPort() : broker.kafkaPort() + 1);
        }
        UpdateMetadataRequest.UpdateMetadataTopicState topic = topic(request, TOPIC);
        topic.topicId = topicId;
        for (int p : partitions) {
            int leader = deleting ? ReplicaManager.LEADER_DURING_DELETE : ASSIGNMENT.get(p).get(0);
            partition(topic, p, CONTROLLER_EPOCH, leader, 0, 0, ASSIGNMENT.get(p));
        }
        return call(ApiKey.UPDATE_METADATA, 7, request, UpdateMetadataResponse.class).errorCode;
    }

    private MetadataResponse.MetadataResponseTopic metadata(String name) throws Exception {
        MetadataRequest request = new MetadataRequest();
        MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
        wanted.name = name;
        request.topics = new ArrayList<>(List.of(wanted));
        request.allowAutoTopicCreation = false;
        return call(ApiKey.METADATA, 12, request, MetadataResponse.class).topics.get(0);
    }

    private List<MetadataResponse.MetadataResponseTopic> allTopics() throws Exception {
        MetadataRequest request = new MetadataRequest();
        request.topics = null;
        request.allowAutoTopicCreation = false;
        return call(ApiKey.METADATA, 12, request, MetadataResponse.class).topics;
    }

    private <R> R call(ApiKey key, int version, ApiMessage request, Class<R> type) throws Exception {
        short v = (short) version;
        return type.cast(connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse));
    }
}
