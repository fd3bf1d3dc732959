package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * This broker's topics and live brokers as Kafka 3.9's ZkMetadataCache holds them: one immutable {@link Snapshot}
 * that every change replaces whole. A controller's UpdateMetadata becomes one new snapshot (its live brokers, every
 * partition state it names and the topics it deletes, together), so a reader that takes {@link #snapshot()} once sees
 * all of that request or none of it: a client's Metadata answer never lists part of a new topic's partitions (a keyed
 * producer would place keys by the wrong count) nor a leader that the live broker list of the same answer lacks.
 * Writers are serialized here; readers take no lock. The controller's id comes from UpdateMetadata only, as
 * Kafka 3.9's ZkMetadataCache.updateMetadata takes it (not from this broker's own election, nor from LeaderAndIsr or
 * StopReplica): a broker that has just won the election answers with the previous controller until its own
 * UpdateMetadata is applied.
 */
public final class MetadataCache {
    /**
     * One consistent view: topics by name, the live brokers sorted by id, and the controller's id (-1: none known),
     * kept here as Kafka's ZkMetadataCache keeps it in its MetadataSnapshot, so a Metadata or DescribeCluster answer
     * names a controller of the same moment as its brokers. Never changed once published.
     */
    public record Snapshot(Map<String, TopicInfo> topics, List<BrokerRegistration> liveBrokers, int controllerId) {
        static final Snapshot EMPTY = new Snapshot(Map.of(), List.of(), -1);

        public TopicInfo topic(String name) {
            return topics.get(name);
        }

        /** The topics by name, as Metadata for all topics lists them. */
        public List<TopicInfo> sortedTopics() {
            List<TopicInfo> list = new ArrayList<>(topics.values());
            list.sort((a, b) -> a.name().compareTo(b.name()));
            return list;
        }

        public TopicInfo topicById(UUID id) {
            for (TopicInfo info : topics.values()) {
                if (id.equals(info.id())) return info;
            }
            return null;
        }
    }

    /** One partition of an UpdateMetadata: its replicas (null: unchanged) and the state the controller gave it. */
    public record PartitionUpdate(String topic, int partition, List<Integer> replicas, PartitionState state) {
    }

    /** What one {@link #apply} changed: the topics given states, and the ids of the topics removed. */
    record Applied(Set<String> topicsWithStates, Set<UUID> removedIds) {
    }

    private volatile Snapshot snapshot = Snapshot.EMPTY;
    /** Test seam, see {@link #afterEachReadForTests}; null in production. */
    private volatile Runnable afterEachRead;

    public Snapshot snapshot() {
        Snapshot read = snapshot;
        Runnable hook = afterEachRead;
        if (hook != null) hook.run();
        return read;
    }

    /**
     * For tests only: {@code hook} runs on the reading thread after each read of the cache, before the reader gets
     * what it read (null: none). A hook that changes the cache there proves a request handler reads the cache once:
     * a handler reading it twice mixes two moments in one answer (SnapshotReadOnceTest).
     */
    public void afterEachReadForTests(Runnable hook) {
        this.afterEachRead = hook;
    }

    /** Puts the topic unless it is cached already; the value cached now (a value put meanwhile wins). */
    synchronized TopicInfo putIfAbsent(TopicInfo info) {
        TopicInfo current = snapshot.topics().get(info.name());
        if (current != null) return current;
        Map<String, TopicInfo> topics = new HashMap<>(snapshot.topics());
        topics.put(info.name(), info);
        publish(topics);
        return info;
    }

    /** Removes the topic if its cached value is {@code expected} (any value when null); whether it did. */
    synchronized boolean remove(String name, TopicInfo expected) {
        TopicInfo current = snapshot.topics().get(name);
        if (current == null || expected != null && current != expected) return false;
        Map<String, TopicInfo> topics = new HashMap<>(snapshot.topics());
        topics.remove(name);
        publish(topics);
        return true;
    }

    /** Replaces the topic's value only if it is still {@code expected}; whether it did. */
    synchronized boolean replace(String name, TopicInfo expected, TopicInfo updated) {
        if (snapshot.topics().get(name) != expected) return false;
        Map<String, TopicInfo> topics = new HashMap<>(snapshot.topics());
        topics.put(name, updated);
        publish(topics);
        return true;
    }

    /** Removes the topics; the ids of those that were cached. */
    synchronized Set<UUID> removeAll(Collection<String> names) {
        Map<String, TopicInfo> topics = new HashMap<>(snapshot.topics());
        Set<UUID> ids = new LinkedHashSet<>();
        for (String name : names) {
            TopicInfo removed = topics.remove(name);
            if (removed != null && removed.id() != null) ids.add(removed.id());
        }
        publish(topics);
        return ids;
    }

    /**
     * One controller request's changes in one new snapshot, as Kafka's ZkMetadataCache.updateMetadata replaces its
     * snapshot: {@code liveBrokers} (null: kept), the sender's {@code controllerId} (null: kept), each partition's
     * replicas and state (its topic taken from the cache,
     * else from {@code read}, the topics read from the store for this request; one in neither is skipped), then the
     * {@code deleted} topics removed.
     */
    synchronized Applied apply(List<BrokerRegistration> liveBrokers, List<PartitionUpdate> updates,
                               Map<String, TopicInfo> read, Collection<String> deleted, Integer controllerId) {
        Map<String, TopicInfo> topics = new HashMap<>(snapshot.topics());
        Map<String, SortedMap<Integer, List<Integer>>> replicas = new LinkedHashMap<>();
        Map<String, Map<Integer, PartitionState>> states = new LinkedHashMap<>();
        for (PartitionUpdate update : updates) {
            TopicInfo info = topics.containsKey(update.topic()) ? topics.get(update.topic()) : read.get(update.topic());
            if (info == null) continue;
            SortedMap<Integer, List<Integer>> topicReplicas = replicas.computeIfAbsent(update.topic(),
                    t -> new TreeMap<>(info.replicas()));
            if (update.replicas() != null) topicReplicas.put(update.partition(), List.copyOf(update.replicas()));
            states.computeIfAbsent(update.topic(), t -> new TreeMap<>(info.states()))
                    .put(update.partition(), update.state());
            topics.putIfAbsent(update.topic(), info);
        }
        for (Map.Entry<String, Map<Integer, PartitionState>> e : states.entrySet()) {
            TopicInfo info = topics.get(e.getKey());
            topics.put(e.getKey(), new TopicInfo(info.name(), info.id(),
                    Collections.unmodifiableSortedMap(replicas.get(e.getKey())),
                    Collections.unmodifiableMap(e.getValue()), info.configs()));
        }
        Set<UUID> removedIds = new LinkedHashSet<>();
        for (String name : deleted) {
            TopicInfo removed = topics.remove(name);
            if (removed != null && removed.id() != null) removedIds.add(removed.id());
        }
        Set<String> withStates = new LinkedHashSet<>(states.keySet());
        withStates.removeAll(deleted);
        snapshot = new Snapshot(Collections.unmodifiableMap(topics),
                liveBrokers == null ? snapshot.liveBrokers() : List.copyOf(liveBrokers),
                controllerId == null ? snapshot.controllerId() : controllerId);
        return new Applied(withStates, removedIds);
    }

    private void publish(Map<String, TopicInfo> topics) {
        snapshot = new Snapshot(Collections.unmodifiableMap(topics), snapshot.liveBrokers(), snapshot.controllerId());
    }
}
