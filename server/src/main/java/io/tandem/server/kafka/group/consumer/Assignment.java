package io.tandem.server.kafka.group.consumer;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * An immutable set of partitions by topic id, as KIP-848 moves them around (a member's assigned partitions, its
 * partitions pending revocation, its target). Sorted, so equal assignments compare and print the same.
 */
public record Assignment(SortedMap<UUID, SortedSet<Integer>> partitions) {
    public static final Assignment EMPTY = new Assignment(new TreeMap<>());

    public Assignment {
        SortedMap<UUID, SortedSet<Integer>> copy = new TreeMap<>();
        for (Map.Entry<UUID, SortedSet<Integer>> e : partitions.entrySet()) {
            if (!e.getValue().isEmpty()) copy.put(e.getKey(), Collections.unmodifiableSortedSet(new TreeSet<>(e.getValue())));
        }
        partitions = Collections.unmodifiableSortedMap(copy);
    }

    public static Assignment of(Map<UUID, ? extends Set<Integer>> partitions) {
        SortedMap<UUID, SortedSet<Integer>> map = new TreeMap<>();
        partitions.forEach((topic, set) -> map.put(topic, new TreeSet<>(set)));
        return new Assignment(map);
    }

    public boolean isEmpty() {
        return partitions.isEmpty();
    }

    public Set<Integer> get(UUID topicId) {
        SortedSet<Integer> set = partitions.get(topicId);
        return set == null ? Set.of() : set;
    }

    public boolean contains(UUID topicId, int partition) {
        return get(topicId).contains(partition);
    }

    public int size() {
        int n = 0;
        for (SortedSet<Integer> set : partitions.values()) n += set.size();
        return n;
    }

    /** A mutable builder, for assignors and reconciliation. */
    public static final class Builder {
        private final SortedMap<UUID, SortedSet<Integer>> map = new TreeMap<>();

        public Builder add(UUID topicId, int partition) {
            map.computeIfAbsent(topicId, t -> new TreeSet<>()).add(partition);
            return this;
        }

        public Builder addAll(UUID topicId, Set<Integer> set) {
            for (int p : set) add(topicId, p);
            return this;
        }

        public Assignment build() {
            return new Assignment(map);
        }
    }
}
