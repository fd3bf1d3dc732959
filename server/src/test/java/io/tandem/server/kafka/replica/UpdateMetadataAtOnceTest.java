package io.tandem.server.kafka.replica;

import static io.tandem.server.kafka.UpdateMetadataRequests.liveBroker;
import static io.tandem.server.kafka.UpdateMetadataRequests.partition;
import static io.tandem.server.kafka.UpdateMetadataRequests.topic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.UpdateMetadataRequests;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.MetadataCache;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.TopicId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One UpdateMetadata is applied to the broker's cache at once, as Kafka 3.9's ZkMetadataCache swaps in one new
 * snapshot per request. The cache's listener (what wakes the CreateTopics requests waiting for leaders) runs while
 * the request is being applied; each time it runs it reads the view a Metadata request would read then, and that
 * view holds either none or all 4 partitions of the request's new topic, with the request's live brokers. A cache
 * taking one partition at a time showed 1, 2, then 3 of 4 partitions there.
 */
class UpdateMetadataAtOnceTest {
    private static final String TOPIC = "__transaction_state";
    private static final int PARTITIONS = 4;
    @TempDir
    Path dir;

    @Test
    void everyViewDuringOneUpdateMetadataHoldsNoneOrAllOfItsPartitions() throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            ClusterMetadata metadata = new ClusterMetadata(store,
                    new KafkaZkLayout.BrokerRegistration(0, "localhost", 9092, "PLAINTEXT", null, 0));
            TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(p % 2));
            store.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                    new TopicAssignment(TopicId.random(), assignment)), false);
            List<String> views = new ArrayList<>();
            metadata.onPartitionStateApplied(topic -> {
                // One snapshot, as a Metadata answer reads it: its controller comes with its brokers and states.
                MetadataCache.Snapshot view = metadata.snapshot();
                ClusterMetadata.TopicInfo info = view.topic(TOPIC);
                views.add((info == null ? 0 : info.states().size()) + " partitions, brokers "
                        + view.liveBrokers().stream().map(KafkaZkLayout.BrokerRegistration::brokerId).toList()
                        + ", controller " + view.controllerId());
            });
            ReplicaManager replicas = new ReplicaManager(0, metadata, (topic, partition) -> null, tp -> { },
                    10_000, 1 << 20);
            try {
                assertEquals(ErrorCodes.NONE, replicas.updateMetadata(request(assignment)));
            } finally {
                replicas.close();
            }
            assertFalse(views.isEmpty(), "the listener heard of the request");
            for (String view : views) assertEquals(PARTITIONS + " partitions, brokers [0, 1], controller 1", view);
            Map<Integer, ?> states = metadata.knownTopic(TOPIC).states();
            assertEquals(PARTITIONS, states.size());
        }
    }

    private static UpdateMetadataRequest request(Map<Integer, List<Integer>> assignment) {
        UpdateMetadataRequest request = UpdateMetadataRequests.request(1, 1);
        for (int id = 0; id < 2; id++) liveBroker(request, id, "localhost", 9092 + id);
        UpdateMetadataRequest.UpdateMetadataTopicState topic = topic(request, TOPIC);
        assignment.forEach((p, replicas) -> partition(topic, p, 1, replicas.get(0), 0, 0, replicas));
        return request;
    }
}
