package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.common.runtime.CoordinatorMetadataDelta;
import org.apache.kafka.coordinator.common.runtime.CoordinatorMetadataImage;
import org.apache.kafka.coordinator.group.Utils;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/** The share group metadata hash is the one Kafka 4.4's group coordinator computes (its own Utils, in test scope). */
class MetadataHashTest {
    private static final TopicRef FOO = new TopicRef("foo", UUID.fromString("1f1c1a5e-3b0a-4c0e-9a1d-2f4e5d6c7b8a"), 3);
    private static final TopicRef BAR = new TopicRef("bar", UUID.fromString("6f1c1a5e-3b0a-4c0e-9a1d-2f4e5d6c7b8a"), 1);
    /** Partition 1 of foo has replicas on racks b and a (unsorted, as a replica list gives them); bar none. */
    private static final Map<String, List<List<String>>> RACKS = Map.of(
            "foo", List.of(List.of(), List.of("rack-b", "rack-a"), List.of("rack-a")), "bar", List.of(List.of()));

    private static final TopicsView OURS = new TopicsView() {
        @Override public TopicRef byName(String name) {
            return name.equals("foo") ? FOO : name.equals("bar") ? BAR : null;
        }
        @Override public TopicRef byId(UUID id) { return null; }
        @Override public Collection<String> names() { return List.of("foo", "bar"); }
        @Override public List<String> partitionRacks(String topic, int partition) {
            return RACKS.get(topic).get(partition);
        }
    };

    private static CoordinatorMetadataImage.TopicMetadata kafkaTopic(TopicRef t) {
        return new CoordinatorMetadataImage.TopicMetadata() {
            @Override public String name() { return t.name(); }
            @Override public Uuid id() {
                return new Uuid(t.id().getMostSignificantBits(), t.id().getLeastSignificantBits());
            }
            @Override public int partitionCount() { return t.partitionCount(); }
            @Override public List<String> partitionRacks(int partition) {
                return new java.util.ArrayList<>(RACKS.get(t.name()).get(partition));
            }
        };
    }

    private static final CoordinatorMetadataImage KAFKA = new CoordinatorMetadataImage() {
        @Override public Set<Uuid> topicIds() { return Set.of(); }
        @Override public Set<String> topicNames() { return Set.of("foo", "bar"); }
        @Override public Optional<TopicMetadata> topicMetadata(String name) {
            TopicRef t = OURS.byName(name);
            return t == null ? Optional.empty() : Optional.of(kafkaTopic(t));
        }
        @Override public Optional<TopicMetadata> topicMetadata(Uuid id) { return Optional.empty(); }
        @Override public CoordinatorMetadataDelta emptyDelta() { throw new UnsupportedOperationException(); }
        @Override public long version() { return 1; }
        @Override public boolean isEmpty() { return false; }
    };

    @Test
    void topicAndGroupHashesShouldBeKafkas() {
        long foo = Utils.computeTopicHash("foo", KAFKA);
        long bar = Utils.computeTopicHash("bar", KAFKA);
        assertEquals(foo, MetadataHash.topicHash(FOO, OURS));
        assertEquals(bar, MetadataHash.topicHash(BAR, OURS));
        assertNotEquals(foo, bar);
        assertEquals(Utils.computeGroupHash(Map.of("foo", foo, "bar", bar)),
                MetadataHash.groupHash(List.of("foo", "bar", "missing"), OURS));
        assertEquals(0, MetadataHash.groupHash(List.of("missing"), OURS));
    }
}
