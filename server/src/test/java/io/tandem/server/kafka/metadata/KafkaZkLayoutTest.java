package io.tandem.server.kafka.metadata;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

class KafkaZkLayoutTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReadTopicZnodeAsKafkaWritesIt() {
        // Written by a Kafka 3.x broker in ZooKeeper mode.
        byte[] kafka = utf8("{\"partitions\":{\"0\":[1,2],\"1\":[2,1]},\"topic_id\":\"Jb3p1MbpR4O1yTUIkmfuWg\","
                + "\"adding_replicas\":{},\"removing_replicas\":{},\"version\":3}");
        TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(kafka);
        assertEquals(List.of(1, 2), assignment.replicas().get(0));
        assertEquals(List.of(2, 1), assignment.replicas().get(1));
        assertEquals("Jb3p1MbpR4O1yTUIkmfuWg", TopicId.toText(assignment.topicId()));
        assertEquals(assignment, KafkaZkLayout.decodeTopicAssignment(KafkaZkLayout.encodeTopicAssignment(assignment)));
    }

    @Test
    void shouldKeepAReassignmentsAddingAndRemovingReplicasAsKafkaWritesThem() {
        // As Kafka's controller writes a move of partition 0 from [1,2] to [2,3] in progress.
        String kafka = "{\"version\":3,\"partitions\":{\"0\":[2,3,1]},\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAQ\","
                + "\"adding_replicas\":{\"0\":[3]},\"removing_replicas\":{\"0\":[1]}}";
        TopicAssignment read = KafkaZkLayout.decodeTopicAssignment(kafka.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(2, 3, 1), read.replicas().get(0));
        assertEquals(List.of(3), read.adding().get(0));
        assertEquals(List.of(1), read.removing().get(0));
        assertEquals(read, KafkaZkLayout.decodeTopicAssignment(KafkaZkLayout.encodeTopicAssignment(read)));
    }

    @Test
    void shouldRoundTripPartitionStateBrokerControllerConfigAndClusterId() {
        PartitionState state = new PartitionState(1, 4, 2, List.of(1, 3));
        assertEquals(state, KafkaZkLayout.decodePartitionState(KafkaZkLayout.encodePartitionState(state)));
        assertEquals(state, KafkaZkLayout.decodePartitionState(
                utf8("{\"controller_epoch\":2,\"leader\":1,\"version\":1,\"leader_epoch\":4,\"isr\":[1,3]}")));

        KafkaZkLayout.BrokerRegistration broker = new KafkaZkLayout.BrokerRegistration(3, "10.0.0.7", 9093,
                "PLAINTEXT", "rack-a", 1700000000000L);
        assertEquals(broker, KafkaZkLayout.decodeBroker(3, KafkaZkLayout.encodeBroker(broker)));
        String json = new String(KafkaZkLayout.encodeBroker(broker), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"endpoints\":[\"PLAINTEXT://10.0.0.7:9093\"]"), json);
        assertTrue(json.contains("\"version\":5"), json);

        assertEquals(7, KafkaZkLayout.decodeControllerId(KafkaZkLayout.encodeController(7, 1L)));
        assertEquals(Map.of("retention.ms", "1000"),
                KafkaZkLayout.decodeEntityConfig(KafkaZkLayout.encodeEntityConfig(Map.of("retention.ms", "1000"))));
        assertEquals("{\"version\":1,\"config\":{}}", new String(KafkaZkLayout.encodeEntityConfig(Map.of()),
                StandardCharsets.UTF_8));
        assertEquals("abc", KafkaZkLayout.decodeClusterId(utf8("{\"version\":\"1\",\"id\":\"abc\"}")));
        assertEquals(1999, KafkaZkLayout.decodeProducerIdBlockEnd(KafkaZkLayout.encodeProducerIdBlock(1, 1000, 1999)));
        assertEquals(5, KafkaZkLayout.decodeControllerEpoch(KafkaZkLayout.encodeControllerEpoch(5)));
    }

    @Test
    void shouldRoundTripTopicIdsInKafkasBase64Form() {
        UUID id = TopicId.random();
        assertEquals(id, TopicId.fromText(TopicId.toText(id)));
        assertEquals(22, TopicId.toText(id).length());
    }

    @Test
    void shouldRejectTopicNamesKafkaRejects() {
        assertNull(TopicNames.invalidReason("my_topic.v-1"));
        assertNotNull(TopicNames.invalidReason(""));
        assertNotNull(TopicNames.invalidReason(".."));
        assertNotNull(TopicNames.invalidReason("bad name"));
        assertNotNull(TopicNames.invalidReason("x".repeat(250)));
        assertNull(TopicNames.invalidReason("x".repeat(249)));
    }

    @Test
    void shouldSpreadReplicasWithoutPuttingTwoOnOneBroker() {
        SortedMap<Integer, List<Integer>> assignment = ReplicaAssignment.assign(List.of(1, 2, 3), 0, 6, 3, 0);
        assertEquals(6, assignment.size());
        Map<Integer, Integer> leaders = new TreeMap<>();
        for (List<Integer> replicas : assignment.values()) {
            assertEquals(3, replicas.stream().distinct().count(), replicas.toString());
            leaders.merge(replicas.get(0), 1, Integer::sum);
        }
        assertEquals(Map.of(1, 2, 2, 2, 3, 2), leaders, "leaders are balanced");
        assertEquals(List.of(5), ReplicaAssignment.assign(List.of(5), 0, 1, 1, 3).get(0));
        assertThrows(IllegalArgumentException.class, () -> ReplicaAssignment.assign(List.of(1), 0, 1, 2, 0));
    }
}
