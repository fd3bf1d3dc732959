package io.tandem.server.kafka.metadata;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/** A topic's id and replica assignment as stored in {@code /brokers/topics/T}. */
public record TopicAssignment(UUID topicId, SortedMap<Integer, List<Integer>> replicas) {
    public TopicAssignment {
        TreeMap<Integer, List<Integer>> copy = new TreeMap<>();
        for (Map.Entry<Integer, List<Integer>> e : replicas.entrySet()) copy.put(e.getKey(), List.copyOf(e.getValue()));
        replicas = copy;
    }

    public int partitionCount() {
        return replicas.size();
    }
}
