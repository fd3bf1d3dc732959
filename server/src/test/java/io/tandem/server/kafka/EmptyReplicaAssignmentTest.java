package io.tandem.server.kafka;

import static io.tandem.server.kafka.CreationCalls.createPartitions;
import static io.tandem.server.kafka.CreationCalls.createTopic;
import static io.tandem.server.kafka.CreationCalls.grow;
import static io.tandem.server.kafka.CreationCalls.listedTopics;
import static io.tandem.server.kafka.CreationCalls.topicMetadata;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topics whose replica lists are empty, answered as an Apache Kafka 3.9.1 broker in ZooKeeper mode answers them (each
 * answer below was read off one, with the same requests): CreateTopics writes the topic
 * ({@code {"partitions":{"0":[]}}}, no partition state ever) and answers REQUEST_TIMED_OUT with the topic's id, since
 * no leader comes; Metadata never knows it; CreatePartitions refuses an empty replica list, and fails the whole request
 * with UNKNOWN_SERVER_ERROR when asked to place new partitions of such a topic itself.
 */
class EmptyReplicaAssignmentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static TandemConfig config(Path dir) {
        return TandemConfig.forTests(dir).set("auto.create.topics.enable", "true");
    }

    @Test
    void shouldWriteATopicWithEmptyReplicaListsThatNoMetadataRequestKnows() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort());
             ZkZnodeStore zk = ZkZnodeStore.connect(tandem.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            CreatableTopicResult waited = createTopic(connection, "empty", 300, false, List.of());
            assertEquals(Errors.REQUEST_TIMED_OUT.code(), waited.errorCode(), waited.toString());
            assertNull(waited.errorMessage());
            assertNotEquals(Uuid.ZERO_UUID, waited.topicId(), "the topic was created: its id is answered");
            assertEquals(-1, waited.numPartitions());
            assertEquals(-1, waited.replicationFactor());
            assertTrue(waited.configs().isEmpty());
            CreatableTopicResult unawaited = createTopic(connection, "empty-two", 0, false, List.of(), List.of());
            assertEquals(Errors.REQUEST_TIMED_OUT.code(), unawaited.errorCode(), unawaited.toString());

            JsonNode written = JSON.readTree(zk.getData(KafkaZkLayout.topicPath("empty")));
            assertEquals("{\"0\":[]}", written.get("partitions").toString());
            assertEquals(waited.topicId().toString(), written.get("topic_id").asText());
            assertEquals("{\"0\":[],\"1\":[]}",
                    JSON.readTree(zk.getData(KafkaZkLayout.topicPath("empty-two"))).get("partitions").toString());

            // Validate-only answers as for any valid topic, with a replication factor of 0, and writes nothing.
            CreatableTopicResult checked = createTopic(connection, "empty-check", 30_000, true, List.of());
            assertEquals(Errors.NONE.code(), checked.errorCode(), checked.toString());
            assertEquals(1, checked.numPartitions());
            assertEquals(0, checked.replicationFactor());
            assertFalse(checked.configs().isEmpty());
            assertNull(zk.getData(KafkaZkLayout.topicPath("empty-check")));

            // No partition ever gets a state, so the controller never tells a broker of the topic.
            MetadataResponseTopic unknown = topicMetadata(connection, false, "empty");
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode(), unknown.toString());
            MetadataResponseTopic autoCreated = topicMetadata(connection, true, "empty");
            assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), autoCreated.errorCode(), autoCreated.toString());
            assertEquals(List.of(), autoCreated.partitions());
            assertFalse(listedTopics(connection).contains("empty"));
            assertNull(zk.getData(KafkaZkLayout.partitionStatePath("empty", 0)));
            assertEquals("{\"0\":[]}", JSON.readTree(zk.getData(KafkaZkLayout.topicPath("empty")))
                    .get("partitions").toString(), "auto-creation left the topic as it was");

            CreatableTopicResult again = createTopic(connection, "empty", 300, false, List.of());
            assertEquals(Errors.TOPIC_ALREADY_EXISTS.code(), again.errorCode());
            assertEquals("Topic 'empty' already exists.", again.errorMessage());
        }
    }

    @Test
    void shouldRefuseEmptyReplicaListsInCreatePartitionsAndFailAWholeRequestThatCannotPlaceNewPartitions()
            throws Exception {
        try (Tandem tandem = Tandem.start(config(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort());
             ZkZnodeStore zk = ZkZnodeStore.connect(tandem.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            assertEquals(Errors.NONE.code(), createTopic(connection, "placed", 30_000, false, List.of(0)).errorCode());
            assertEquals(Errors.NONE.code(), createTopic(connection, "later", 30_000, false, List.of(0)).errorCode());
            assertEquals(Errors.REQUEST_TIMED_OUT.code(),
                    createTopic(connection, "hostless", 0, false, List.of()).errorCode());

            refused(connection, "placed", 2, List.of(List.of()), "Cannot have replication factor of 0 for partition id 1.");
            refused(connection, "placed", 3, List.of(),
                    "Increasing the number of partitions by 2 but 0 assignments provided.");
            refused(connection, "hostless", 2, List.of(List.of()), "Cannot have replication factor of 0 for partition id 1.");
            refused(connection, "hostless", 2, List.of(List.of(0)), "Inconsistent replication factor between partitions, "
                    + "partition 0 has 0 while partitions [1] have replication factors [1], respectively.");

            // Kafka 3.9 places new partitions after partition 0's first replica, which a topic without replicas lacks:
            // its request fails as a whole, though the topic before it was grown.
            List<CreatePartitionsTopicResult> failed = createPartitions(connection, 30_000, grow("placed", 2, null),
                    grow("hostless", 2, null), grow("later", 2, null));
            assertEquals(List.of("placed", "hostless", "later"), failed.stream().map(CreatePartitionsTopicResult::name)
                    .toList());
            for (CreatePartitionsTopicResult result : failed) {
                assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), result.errorCode(), result.toString());
                assertNull(result.errorMessage());
            }
            assertEquals(2, partitions(zk, "placed"));
            assertEquals(1, partitions(zk, "hostless"));
            assertEquals(1, partitions(zk, "later"));
        }
    }

    private static void refused(OfficialClientConnection connection, String topic, int count,
                                List<List<Integer>> assignments, String message) throws Exception {
        CreatePartitionsTopicResult result = createPartitions(connection, 30_000, grow(topic, count, assignments)).get(0);
        assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), result.errorCode(), result.toString());
        assertEquals(message, result.errorMessage());
    }

    private static int partitions(ZkZnodeStore zk, String topic) throws Exception {
        return JSON.readTree(zk.getData(KafkaZkLayout.topicPath(topic))).get("partitions").size();
    }
}
