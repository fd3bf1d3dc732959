package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/** The broker's topics as the consumer group coordinator sees them: only topics this broker knows, no store reads. */
public final class ClusterTopicsView implements TopicsView {
    private final ClusterMetadata metadata;

    public ClusterTopicsView(ClusterMetadata metadata) {
        this.metadata = metadata;
    }

    private static TopicRef ref(TopicInfo info) {
        return info == null ? null : new TopicRef(info.name(), info.id(), info.partitionCount());
    }

    @Override
    public TopicRef byName(String name) {
        return ref(metadata.knownTopic(name));
    }

    @Override
    public TopicRef byId(UUID id) {
        return ref(metadata.topicById(id));
    }

    @Override
    public List<String> partitionRacks(String topic, int partition) {
        TopicInfo info = metadata.knownTopic(topic);
        List<Integer> replicas = info == null ? null : info.replicas().get(partition);
        if (replicas == null) return List.of();
        List<String> racks = new ArrayList<>();
        for (int replica : replicas) {
            for (var broker : metadata.liveBrokers()) {
                if (broker.brokerId() == replica && broker.rack() != null) racks.add(broker.rack());
            }
        }
        return racks;
    }

    @Override
    public Collection<String> names() {
        List<String> names = new ArrayList<>();
        for (TopicInfo info : metadata.topics()) names.add(info.name());
        return names;
    }
}
