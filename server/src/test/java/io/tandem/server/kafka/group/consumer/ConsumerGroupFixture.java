package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupStore;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The set-up the KIP-848 coordinator tests share: a classic {@link GroupCoordinator} without an initial rebalance
 * delay and the {@link ConsumerGroupCoordinator} beside it, both in memory, the topics they see kept in a map the test
 * fills ({@link #topic}), and a clock the test moves ({@link #now}, passed in by hand: nothing here reads real time).
 * A test class extends it and calls {@link #start} with the configuration it needs, before or inside each test.
 */
abstract class ConsumerGroupFixture {
    /** The topics by name, in name order (TopicsView.names must not depend on hashing). */
    protected final Map<String, TopicRef> topicsByName = new TreeMap<>();
    protected final TopicsView topics = new TopicsView() {
        @Override public TopicRef byName(String name) { return topicsByName.get(name); }
        @Override public TopicRef byId(UUID id) {
            return topicsByName.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
        }
        @Override public Collection<String> names() { return List.copyOf(topicsByName.keySet()); }
    };
    protected GroupCoordinator classic;
    protected ConsumerGroupCoordinator coordinator;
    protected long now = 1_000;

    /** The classic coordinator's configuration the tests use: Kafka's defaults without the initial rebalance delay. */
    protected static GroupConfig classicConfig() {
        return GroupConfig.defaults().withInitialRebalanceDelayMs(0);
    }

    /** New coordinators with {@code config} beside a classic coordinator of {@link #classicConfig()}. */
    protected void start(ConsumerGroupConfig config) {
        start(classicConfig(), config);
    }

    /** New coordinators (the topics seen so far stay). */
    protected void start(GroupConfig classicConfig, ConsumerGroupConfig config) {
        classic = new GroupCoordinator(classicConfig, GroupStore.IN_MEMORY);
        coordinator = new ConsumerGroupCoordinator(classic, config, ConsumerGroupStore.IN_MEMORY, topics);
    }

    /** Adds (or replaces) a topic whose id is derived from its name, so every run sees the same id. */
    protected TopicRef topic(String name, int partitions) {
        TopicRef t = new TopicRef(name, UUID.nameUUIDFromBytes(name.getBytes()), partitions);
        topicsByName.put(name, t);
        return t;
    }
}
