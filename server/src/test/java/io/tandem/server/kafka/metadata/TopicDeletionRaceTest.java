package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker reading a topic into its cache while the controller deletes it: the controller finishes (the topic's
 * znodes, then its request under {@code /admin/delete_topics}, go) and tells the broker to forget the topic between
 * the broker's read of the assignment and its check of the request. The cache must not keep the deleted topic, or
 * the name stays "already exists" for good (a reset between tests waited 30 s for it in a bench).
 */
class TopicDeletionRaceTest {
    private static final String TOPIC = "doomed";
    @TempDir
    Path dir;

    @Test
    void aTopicDeletedWhileItIsReadIntoTheCacheIsNotKept() throws Exception {
        try (LocalZnodeStore local = new LocalZnodeStore(dir)) {
            ClusterMetadata[] metadata = new ClusterMetadata[1];
            boolean[] raced = {false};
            ZnodeStore store = new ForwardingZnodeStore(local) {
                @Override
                public byte[] getData(String path) throws Exception {
                    if (path.equals(KafkaZkLayout.deleteTopicPath(TOPIC)) && !raced[0]) {
                        // The controller completes the deletion right now, and the broker forgets the topic.
                        raced[0] = true;
                        local.deleteRecursive(KafkaZkLayout.topicPath(TOPIC));
                        local.deleteRecursive(KafkaZkLayout.deleteTopicPath(TOPIC));
                        metadata[0].forgetTopics(List.of(TOPIC));
                    }
                    return local.getData(path);
                }
            };
            metadata[0] = new ClusterMetadata(store,
                    new KafkaZkLayout.BrokerRegistration(0, "localhost", 9092, "PLAINTEXT", null, 0));
            local.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(
                    TopicId.random(), new TreeMap<>(Map.of(0, List.of(0))))), false);
            local.create(KafkaZkLayout.deleteTopicPath(TOPIC), new byte[0], false);

            assertNull(metadata[0].topic(TOPIC), "deleted while it was read");
            assertNull(metadata[0].knownTopic(TOPIC), "and not left in the cache");

            local.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(
                    TopicId.random(), new TreeMap<>(Map.of(0, List.of(0))))), false);
            assertNotNull(metadata[0].topic(TOPIC), "a topic made again under the name is read");
        }
    }
}
