package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.consumer.TopicRef;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Kafka's "simple" share group assignor, for members with the same or different subscriptions: each topic's
 * partitions are spread over the members subscribed to it; with fewer partitions than members a partition is shared
 * by several members (share groups may share a partition, the share-partition's locks keep records apart), so every
 * member gets work. Deterministic: members in id order, partitions in index order.
 */
final class SimpleAssignor {
    static final String NAME = "simple";

    private SimpleAssignor() {
    }

    /**
     * Member id to (topic id to partitions), for the given subscribed topics of each member, over each topic's
     * {@code assignable} partitions (Kafka 4.4 assigns only share-partitions whose state is initialized).
     */
    static Map<String, Map<UUID, SortedSet<Integer>>> assign(Map<String, List<TopicRef>> subscriptions,
                                                             Map<UUID, ? extends SortedSet<Integer>> assignable) {
        Map<String, Map<UUID, SortedSet<Integer>>> result = new TreeMap<>();
        for (String member : subscriptions.keySet()) result.put(member, new TreeMap<>());
        Map<UUID, TopicRef> topics = new LinkedHashMap<>();
        for (List<TopicRef> refs : subscriptions.values()) for (TopicRef t : refs) topics.putIfAbsent(t.id(), t);
        for (TopicRef topic : topics.values()) {
            List<String> members = new ArrayList<>();
            for (Map.Entry<String, List<TopicRef>> e : new TreeMap<>(subscriptions).entrySet()) {
                if (e.getValue().stream().anyMatch(t -> t.id().equals(topic.id()))) members.add(e.getKey());
            }
            List<Integer> ready = new ArrayList<>();
            SortedSet<Integer> initialized = assignable.get(topic.id());
            if (initialized != null) {
                for (int p : initialized) {
                    if (p < topic.partitionCount()) ready.add(p);
                }
            }
            int partitions = ready.size();
            if (members.isEmpty() || partitions == 0) continue;
            if (members.size() <= partitions) {
                for (int i = 0; i < partitions; i++) {
                    result.get(members.get(i % members.size())).computeIfAbsent(topic.id(), k -> new TreeSet<>())
                            .add(ready.get(i));
                }
            } else {
                for (int m = 0; m < members.size(); m++) {
                    result.get(members.get(m)).computeIfAbsent(topic.id(), k -> new TreeSet<>())
                            .add(ready.get(m % partitions));
                }
            }
        }
        return result;
    }
}
