package io.tandem.server.kafka.metadata;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A topic's id and replica assignment as stored in {@code /brokers/topics/T}, with the replicas being added and
 * removed by reassignments in progress (Kafka's {@code adding_replicas} / {@code removing_replicas}).
 */
public record TopicAssignment(UUID topicId, SortedMap<Integer, List<Integer>> replicas,
                              SortedMap<Integer, List<Integer>> adding, SortedMap<Integer, List<Integer>> removing) {
    public TopicAssignment {
        replicas = copy(replicas);
        adding = copy(adding);
        removing = copy(removing);
    }

    /** No reassignment in progress. */
    public TopicAssignment(UUID topicId, SortedMap<Integer, List<Integer>> replicas) {
        this(topicId, replicas, new TreeMap<>(), new TreeMap<>());
    }

    private static SortedMap<Integer, List<Integer>> copy(SortedMap<Integer, List<Integer>> map) {
        TreeMap<Integer, List<Integer>> copy = new TreeMap<>();
        for (Map.Entry<Integer, List<Integer>> e : map.entrySet()) copy.put(e.getKey(), List.copyOf(e.getValue()));
        return copy;
    }

    public int partitionCount() {
        return replicas.size();
    }
}
