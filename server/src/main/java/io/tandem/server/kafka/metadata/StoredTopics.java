package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;

import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** Reads a topic as the store holds it (assignment, config, and outside the controller's word its partition states). */
final class StoredTopics {
    private StoredTopics() {
    }

    /** The topic as the store holds it, or null when it is gone (or, not named by the controller, being deleted). */
    static TopicInfo read(ZnodeStore store, String name, boolean namedByController) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.topicPath(name));
        // A topic marked for deletion keeps its znode until the controller deleted its last replica (a broker may be
        // down meanwhile); the controller told every broker to forget it, and it must not come back from the store.
        if (data == null || !namedByController && store.getData(KafkaZkLayout.deleteTopicPath(name)) != null) {
            return null;
        }
        TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(data);
        UUID id = assignment.topicId();
        if (id == null) {
            // Written by a Kafka older than 2.8: give it an id, as Kafka's controller does.
            id = TopicId.random();
            store.setData(KafkaZkLayout.topicPath(name),
                    KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(id, assignment.replicas())));
        }
        Map<Integer, PartitionState> states = new TreeMap<>();
        // Named by the controller, the partitions' states come with its UpdateMetadata only, as Kafka's cache takes
        // them (LeaderAndIsr leaves the cache alone). Read here, this broker's Metadata answers named it leader while
        // it was still opening the log and answering NOT_LEADER_OR_FOLLOWER to the produce that followed
        // (ReplicationTest under load).
        for (int p : namedByController ? java.util.Set.<Integer>of() : assignment.replicas().keySet()) {
            ZnodeStore.Versioned stored = store.getVersioned(KafkaZkLayout.partitionStatePath(name, p));
            // A partition without a state has no leader yet: the controller writes its first state.
            if (stored != null) {
                states.put(p, KafkaZkLayout.decodePartitionState(stored.data()).withZkVersion(stored.version()));
            }
        }
        byte[] config = store.getData(KafkaZkLayout.topicConfigPath(name));
        return new TopicInfo(name, id, java.util.Collections.unmodifiableSortedMap(new TreeMap<>(assignment.replicas())),
                java.util.Collections.unmodifiableMap(states), KafkaZkLayout.decodeEntityConfig(config));
    }

    /**
     * The topics a controller's request names for the first time, as {@link #read} with {@code namedByController}
     * reads each (assignment and config, no states), and {@link #stillStored} checks it: for all of them in two
     * pipelined batches rather than three round trips per topic, since after a start-up the controller's first
     * UpdateMetadata names every topic of the cluster and the broker's cache knows none of them. A topic gone
     * meanwhile is left out.
     */
    static Map<String, TopicInfo> readNamedByController(ZnodeStore store, java.util.Collection<String> names)
            throws Exception {
        java.util.List<String> paths = new java.util.ArrayList<>();
        for (String name : names) {
            paths.add(KafkaZkLayout.topicPath(name));
            paths.add(KafkaZkLayout.topicConfigPath(name));
        }
        Map<String, ZnodeStore.Versioned> read = store.getVersionedAll(paths);
        Map<String, TopicInfo> found = new java.util.LinkedHashMap<>();
        for (String name : names) {
            ZnodeStore.Versioned assignmentNode = read.get(KafkaZkLayout.topicPath(name));
            if (assignmentNode == null) continue;
            TopicAssignment assignment = KafkaZkLayout.decodeTopicAssignment(assignmentNode.data());
            if (assignment.topicId() == null) {
                // Rare (a topic written by a Kafka older than 2.8): the one-by-one read gives it its id.
                TopicInfo info = read(store, name, true);
                if (info != null) found.put(name, info);
                continue;
            }
            ZnodeStore.Versioned config = read.get(KafkaZkLayout.topicConfigPath(name));
            found.put(name, new TopicInfo(name, assignment.topicId(),
                    java.util.Collections.unmodifiableSortedMap(new TreeMap<>(assignment.replicas())), Map.of(),
                    KafkaZkLayout.decodeEntityConfig(config == null ? null : config.data())));
        }
        // As loadTopic's second read: a topic deleted (or deleted and made again) while it was read is left out.
        Map<String, ZnodeStore.Versioned> again = store.getVersionedAll(
                found.keySet().stream().map(KafkaZkLayout::topicPath).toList());
        found.values().removeIf(info -> {
            ZnodeStore.Versioned node = again.get(KafkaZkLayout.topicPath(info.name()));
            return node == null || !info.id().equals(KafkaZkLayout.decodeTopicAssignment(node.data()).topicId());
        });
        return found;
    }

    /** Each topic's config overrides in {@code /config/topics/T} (none where it has none), asked for together. */
    static Map<String, Map<String, String>> configs(ZnodeStore store, java.util.Collection<String> topics)
            throws Exception {
        java.util.List<String> names = java.util.List.copyOf(new java.util.LinkedHashSet<>(topics));
        java.util.List<String> paths = names.stream().map(KafkaZkLayout::topicConfigPath).toList();
        Map<String, ZnodeStore.Versioned> read = store.getVersionedAll(paths);
        Map<String, Map<String, String>> configs = new java.util.LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            ZnodeStore.Versioned stored = read.get(paths.get(i));
            configs.put(names.get(i), KafkaZkLayout.decodeEntityConfig(stored == null ? null : stored.data()));
        }
        return configs;
    }

    /** Whether the store still holds {@code info}'s topic under its id (see ClusterMetadata's loadTopic). */
    static boolean stillStored(ZnodeStore store, TopicInfo info, boolean namedByController) throws Exception {
        byte[] again = store.getData(KafkaZkLayout.topicPath(info.name()));
        return again != null
                && (namedByController || store.getData(KafkaZkLayout.deleteTopicPath(info.name())) == null)
                && info.id().equals(KafkaZkLayout.decodeTopicAssignment(again).topicId());
    }
}
