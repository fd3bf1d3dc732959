package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static io.tandem.server.kafka.ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;

/**
 * Dynamic config overrides as Kafka 3.9 keeps them in ZooKeeper: a topic's in {@code /config/topics/T}, this broker's
 * in {@code /config/brokers/<id>}, each change announced under {@code /config/changes} for every broker to read
 * again. A topic's overrides also ride in the cache's value of the topic, replaced only over the value they were
 * read with. Split out of {@link ClusterMetadata}, which hands it its store and cache.
 */
public final class StoredConfigOverrides {
    private final ZnodeStore store;
    private final MetadataCache cache;
    private final int brokerId;
    /** The topic, read from the store when the cache lacks it ({@link ClusterMetadata#topic}). */
    private final Function<String, TopicInfo> topic;

    StoredConfigOverrides(ZnodeStore store, MetadataCache cache, int brokerId, Function<String, TopicInfo> topic) {
        this.store = store;
        this.cache = cache;
        this.brokerId = brokerId;
        this.topic = topic;
    }

    /** Replaces the topic's config overrides and leaves the change notification Kafka's brokers watch for. */
    public synchronized TopicInfo setTopicConfig(String name, Map<String, String> configs) throws Exception {
        TopicInfo info = topic.apply(name);
        if (info == null) {
            throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
        }
        store.setData(KafkaZkLayout.topicConfigPath(name), KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange("topics/" + name));
        TopicInfo updated = new TopicInfo(name, info.id(), info.replicas(), info.states(),
                new LinkedHashMap<>(configs));
        // Only over a cached value: a topic read from the store here does not join the cache (ClusterMetadata#topic).
        cache.replace(name, info, updated);
        return updated;
    }

    /**
     * A change notification named the topic (its config was changed, maybe through another broker): the topic, if
     * this broker knows it, with its overrides read again; null for a topic it does not know (nothing is read).
     */
    public TopicInfo reloadTopicConfig(String name) throws Exception {
        TopicInfo info = cache.snapshot().topic(name);
        if (info == null) return null;
        Map<String, String> configs =
                KafkaZkLayout.decodeEntityConfig(store.getData(KafkaZkLayout.topicConfigPath(name)));
        TopicInfo updated = new TopicInfo(name, info.id(), info.replicas(), info.states(), configs);
        // Only over the value read above: a topic deleted, re-created or re-assigned meanwhile keeps what it has now.
        return cache.replace(name, info, updated) ? updated : null;
    }

    /** Broker-level dynamic config overrides, {@code /config/brokers/<id>}. */
    public Map<String, String> brokerConfigOverrides() {
        try {
            return KafkaZkLayout.decodeEntityConfig(store.getData("/config/brokers/" + brokerId));
        } catch (Exception e) {
            return Map.of();
        }
    }

    public synchronized void setBrokerConfigOverrides(Map<String, String> configs) throws Exception {
        store.setData("/config/brokers/" + brokerId, KafkaZkLayout.encodeEntityConfig(configs));
        store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                KafkaZkLayout.encodeConfigChange("brokers/" + brokerId));
    }
}
