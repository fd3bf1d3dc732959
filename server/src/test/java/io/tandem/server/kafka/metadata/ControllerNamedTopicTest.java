package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic whose deletion request waits under {@code /admin/delete_topics} (its move has not finished) is still the
 * controller's: a broker that had not heard of it takes it when the controller names it (LeaderAndIsr,
 * UpdateMetadata), as Kafka's broker does, while its own reads (a client's create, an internal topic) still find it
 * marked for deletion. Refusing it left an added replica of a moving topic never following (CI:
 * DeleteTopicsThroughControllerTest).
 */
class ControllerNamedTopicTest {
    private static final String TOPIC = "moving";
    @TempDir
    Path dir;

    @Test
    void aTopicMarkedForDeletionIsTakenWhenTheControllerNamesItAndForgottenWhenItSaysSo() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            ClusterMetadata metadata = new ClusterMetadata(store,
                    new KafkaZkLayout.BrokerRegistration(0, "localhost", 9092, "PLAINTEXT", null, 0));
            store.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(
                    TopicId.random(), new TreeMap<>(Map.of(0, List.of(0, 1))))), false);
            store.create(KafkaZkLayout.deleteTopicPath(TOPIC), new byte[0], false);
            assertNull(metadata.topic(TOPIC), "read for the broker itself: marked for deletion");

            // The controller's state in the store already names this broker leader; the broker has not taken the role.
            store.create(KafkaZkLayout.partitionsPath(TOPIC), new byte[0], false);
            store.create(KafkaZkLayout.partitionPath(TOPIC, 0), new byte[0], false);
            store.create(KafkaZkLayout.partitionStatePath(TOPIC, 0), KafkaZkLayout.encodePartitionState(
                    new PartitionState(0, 1, 1, List.of(0, 1), 0)), false);
            metadata.applyReplicas(TOPIC, 0, List.of(0, 1));
            assertEquals(Map.of(), metadata.knownTopic(TOPIC).states(),
                    "no leadership is reported before the LeaderAndIsr that gives it is acted on");
            metadata.applyPartitionState(TOPIC, 0, new PartitionState(1, 1, 1, List.of(1), 0));
            assertNotNull(metadata.controllerTopic(TOPIC), "what LeaderAndIsr reads");
            ClusterMetadata.TopicInfo known = metadata.knownTopic(TOPIC);
            assertNotNull(known, "the controller named it, so clients see it");
            assertEquals(1, known.states().get(0).leader());

            // The deletion starts: the controller's leader-during-delete mark makes the broker forget it for good.
            metadata.forgetTopics(List.of(TOPIC));
            assertNull(metadata.knownTopic(TOPIC));
            assertNull(metadata.topic(TOPIC), "not read back for the broker's own use");
        }
    }
}
