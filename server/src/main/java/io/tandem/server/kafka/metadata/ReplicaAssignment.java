package io.tandem.server.kafka.metadata;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * Spreads partition replicas over brokers by Kafka 3.9's rule (AdminUtils.assignReplicasToBrokers): first replicas
 * round-robin from a starting index, followers at an increasing shift so that replicas of consecutive partitions land
 * on different brokers; when every broker has a rack, the round-robin runs over a list alternating the racks and a
 * follower skips a rack (or broker) already holding a replica while another has none. The same brokers, start and
 * first partition give Kafka's assignment exactly: CreatePartitions continues a topic's pattern with it.
 */
public final class ReplicaAssignment {
    /** A broker replicas may go to: its id and rack (null when it has none). */
    public record Candidate(int id, String rack) {
    }

    private ReplicaAssignment() {
    }

    /**
     * Assigns partitions {@code firstPartition .. firstPartition+count-1} over brokers without racks, sorted by id.
     * {@code start} picks both the first leader and the initial follower shift (a new topic's placement draws the
     * two apart: {@link #assignNewTopic}).
     */
    public static SortedMap<Integer, List<Integer>> assign(List<Integer> brokers, int firstPartition, int count,
                                                           int replicationFactor, int start) {
        List<Candidate> candidates = brokers.stream().sorted().map(id -> new Candidate(id, null)).toList();
        try {
            int index = candidates.isEmpty() ? 0 : Math.floorMod(start, candidates.size());
            return assignReplicas(candidates, count, replicationFactor, index, firstPartition);
        } catch (Refusal e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /**
     * Kafka 3.9's assignReplicasToBrokers for {@code count} partitions from {@code firstPartition}, over
     * {@code brokers} in the order given, with a fixed start: {@code fixedStartIndex} is both the first leader's
     * index and the initial follower shift, as Kafka's CreatePartitions passes it (the index of the first broker
     * whose id is at least partition 0's first replica).
     *
     * @throws Refusal with Kafka's words when the counts cannot be placed or only some brokers have a rack
     */
    public static SortedMap<Integer, List<Integer>> assignReplicas(List<Candidate> brokers, int count,
                                                                   int replicationFactor, int fixedStartIndex,
                                                                   int firstPartition) throws Refusal {
        return assignReplicas(brokers, count, replicationFactor, fixedStartIndex, fixedStartIndex, firstPartition);
    }

    /**
     * Kafka 3.9's placement of a new topic (AdminUtils.assignReplicasToBrokers without a start, as ZkAdminManager's
     * CreateTopics and auto-creation call it): after the checks, the first leader's index and then the initial
     * follower shift are drawn from {@code random}, each below the broker count, in Kafka's order; partitions are
     * numbered from 0. A {@link java.util.Random} seeded as Kafka's own AdminUtils.RAND draws the same indexes.
     *
     * @throws Refusal with Kafka's words when the counts cannot be placed or only some brokers have a rack
     */
    public static SortedMap<Integer, List<Integer>> assignNewTopic(List<Candidate> brokers, int count,
                                                                   int replicationFactor, RandomGenerator random)
            throws Refusal {
        List<Integer> order = arrangement(brokers, count, replicationFactor);
        int startIndex = random.nextInt(order.size());
        int nextReplicaShift = random.nextInt(order.size());
        return roundRobin(order, racks(brokers), count, replicationFactor, startIndex, nextReplicaShift, 0);
    }

    /**
     * {@link #assignReplicas(List, int, int, int, int)} with the first leader's index and the initial follower shift
     * apart, as Kafka draws them for a new topic.
     */
    public static SortedMap<Integer, List<Integer>> assignReplicas(List<Candidate> brokers, int count,
                                                                   int replicationFactor, int startIndex,
                                                                   int nextReplicaShift, int firstPartition)
            throws Refusal {
        List<Integer> order = arrangement(brokers, count, replicationFactor);
        return roundRobin(order, racks(brokers), count, replicationFactor, startIndex, nextReplicaShift,
                firstPartition);
    }

    /**
     * Kafka's checks, in its order, then the brokers in the order its round-robin walks them: as given without
     * racks, alternating the racks when every broker has one.
     */
    private static List<Integer> arrangement(List<Candidate> brokers, int count, int replicationFactor)
            throws Refusal {
        if (count <= 0) throw new Refusal(Refusal.Kind.PARTITIONS, "Number of partitions must be larger than 0.");
        if (replicationFactor <= 0) {
            throw new Refusal(Refusal.Kind.REPLICATION_FACTOR, "Replication factor must be larger than 0.");
        }
        if (replicationFactor > brokers.size()) {
            throw new Refusal(Refusal.Kind.REPLICATION_FACTOR, "Replication factor: " + replicationFactor
                    + " larger than available brokers: " + brokers.size() + ".");
        }
        long racked = brokers.stream().filter(b -> b.rack() != null).count();
        if (racked == 0) return brokers.stream().map(Candidate::id).toList();
        if (racked < brokers.size()) {
            throw new Refusal(Refusal.Kind.OTHER, "Not all brokers have rack information for replica rack aware "
                    + "assignment.");
        }
        return rackAlternated(racks(brokers));
    }

    /** Each broker's rack by id, or null when the brokers have none (the rack-unaware walk). */
    private static Map<Integer, String> racks(List<Candidate> brokers) {
        if (brokers.stream().anyMatch(b -> b.rack() == null)) return null;
        Map<Integer, String> racks = new TreeMap<>();
        for (Candidate b : brokers) racks.put(b.id(), b.rack());
        return racks;
    }

    /**
     * The round-robin over {@code order}; with {@code racks}, a follower candidate is taken only if its rack has no
     * replica yet (or every rack has one) and it holds none yet (or every broker does), Kafka's rack-aware walk.
     */
    private static SortedMap<Integer, List<Integer>> roundRobin(List<Integer> order, Map<Integer, String> racks,
                                                               int count, int replicationFactor, int startIndex,
                                                               int nextReplicaShift, int firstPartition) {
        int n = order.size();
        int rackCount = racks == null ? 1 : new HashSet<>(racks.values()).size();
        SortedMap<Integer, List<Integer>> result = new TreeMap<>();
        int shift = nextReplicaShift;
        int partition = Math.max(0, firstPartition);
        for (int i = 0; i < count; i++, partition++) {
            // Kafka moves the followers on after each full round of leaders, counted from partition 0.
            if (partition > 0 && partition % n == 0) shift++;
            int first = (partition + startIndex) % n;
            List<Integer> replicas = new ArrayList<>(replicationFactor);
            replicas.add(order.get(first));
            Set<String> racksUsed = new HashSet<>();
            if (racks != null) racksUsed.add(racks.get(order.get(first)));
            int k = 0;
            while (replicas.size() < replicationFactor) {
                int broker = order.get(followerIndex(first, racks == null ? shift : shift * rackCount, k++, n));
                if (racks == null) {
                    replicas.add(broker);
                    continue;
                }
                String rack = racks.get(broker);
                boolean rackFree = !racksUsed.contains(rack) || racksUsed.size() == rackCount;
                boolean brokerFree = !replicas.contains(broker) || replicas.size() == n;
                if (rackFree && brokerFree) {
                    replicas.add(broker);
                    racksUsed.add(rack);
                }
            }
            result.put(partition, List.copyOf(replicas));
        }
        return result;
    }

    /** The broker index of the {@code k}th follower candidate: never the leader's own index. */
    private static int followerIndex(int first, int shift, int k, int n) {
        long step = 1 + ((long) shift + k) % (n - 1);
        return (int) ((first + step) % n);
    }

    /**
     * Brokers alternating by rack, racks in name order and each rack's brokers by id: {a: 0,1; b: 2} gives 0, 2, 1.
     */
    private static List<Integer> rackAlternated(Map<Integer, String> racks) {
        Map<String, List<Integer>> byRack = new TreeMap<>();
        racks.forEach((id, rack) -> byRack.computeIfAbsent(rack, r -> new ArrayList<>()).add(id));
        byRack.values().forEach(ids -> ids.sort(Comparator.naturalOrder()));
        List<Integer> result = new ArrayList<>(racks.size());
        for (int round = 0; result.size() < racks.size(); round++) {
            for (List<Integer> ids : byRack.values()) if (round < ids.size()) result.add(ids.get(round));
        }
        return result;
    }

    /** Why replicas cannot be placed, in Kafka's words; {@link Kind} says which of its errors it is. */
    public static final class Refusal extends Exception {
        /** INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, or an error Kafka does not answer per topic. */
        public enum Kind { PARTITIONS, REPLICATION_FACTOR, OTHER }

        private final Kind kind;

        Refusal(Kind kind, String message) {
            super(message, null, false, false);
            this.kind = kind;
        }

        public Kind kind() {
            return kind;
        }
    }
}
