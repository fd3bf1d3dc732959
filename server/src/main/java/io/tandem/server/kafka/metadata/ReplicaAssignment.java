package io.tandem.server.kafka.metadata;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Spreads partition replicas over brokers the way Kafka's rack-unaware assignment does: leaders round-robin from a
 * starting broker, followers shifted so that replicas of consecutive partitions land on different brokers.
 */
public final class ReplicaAssignment {
    private ReplicaAssignment() {
    }

    /**
     * Assigns partitions {@code firstPartition .. firstPartition+count-1}. {@code start} picks the first leader
     * (Kafka picks it at random; tests pass a fixed one).
     */
    public static SortedMap<Integer, List<Integer>> assign(List<Integer> brokers, int firstPartition, int count,
                                                           int replicationFactor, int start) {
        if (replicationFactor <= 0) throw new IllegalArgumentException("Replication factor must be larger than 0.");
        if (replicationFactor > brokers.size()) {
            throw new IllegalArgumentException("Replication factor: " + replicationFactor
                    + " larger than available brokers: " + brokers.size() + ".");
        }
        List<Integer> sorted = new ArrayList<>(brokers);
        sorted.sort(null);
        int n = sorted.size();
        SortedMap<Integer, List<Integer>> result = new TreeMap<>();
        int shift = Math.floorMod(start, n);
        for (int i = 0; i < count; i++) {
            int partition = firstPartition + i;
            if (partition > 0 && partition % n == 0) shift++;
            int leaderIndex = Math.floorMod(start + partition, n);
            List<Integer> replicas = new ArrayList<>(replicationFactor);
            replicas.add(sorted.get(leaderIndex));
            for (int r = 0; r < replicationFactor - 1; r++) {
                int followerShift = 1 + Math.floorMod(shift + r, n - 1 == 0 ? 1 : n - 1);
                replicas.add(sorted.get((leaderIndex + followerShift) % n));
            }
            result.put(partition, replicas);
        }
        return result;
    }
}
