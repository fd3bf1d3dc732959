package io.tandem.server.kafka.group.consumer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Kafka's default server assignor, {@code uniform}: spreads all subscribed partitions as evenly as the subscriptions
 * allow and keeps each partition where it was whenever the balance permits (sticky), so a rebalance moves as few
 * partitions as possible. Works for identical and for differing subscriptions alike: partitions keep their previous
 * owner, the rest go to the least loaded eligible member, and partitions then move from the most to the least loaded
 * eligible member until no two eligible members differ by more than one. When every member subscribes to the same
 * topics (the usual group) it takes Kafka's homogeneous road instead, O(members + partitions): each member keeps up to
 * its quota of its previous partitions and the rest fill the members below quota, so a group of thousands computes
 * its target once per epoch in milliseconds where the general road's balancing looks at every member for every
 * partition.
 */
final class UniformAssignor implements PartitionAssignor {
    static final String NAME = "uniform";

    @Override
    public String name() {
        return NAME;
    }

    private record Slot(UUID topic, int partition) {
    }

    @Override
    public Map<String, Assignment> assign(Collection<MemberSubscription> members, Map<UUID, TopicRef> topics,
                                          Map<String, Assignment> previous) {
        Map<String, MemberSubscription> byId = new TreeMap<>();
        for (MemberSubscription m : members) byId.put(m.memberId(), m);
        if (homogeneous(byId.values())) return assignHomogeneous(byId, topics, previous);
        Map<String, List<Slot>> owned = new LinkedHashMap<>();
        for (String id : byId.keySet()) owned.put(id, new ArrayList<>());
        // Eligible members of every partition of every subscribed topic.
        Map<Slot, List<String>> eligible = new LinkedHashMap<>();
        for (TopicRef topic : sorted(topics.values())) {
            List<String> subscribers = new ArrayList<>();
            for (MemberSubscription m : byId.values()) if (m.topicIds().contains(topic.id())) subscribers.add(m.memberId());
            if (subscribers.isEmpty()) continue;
            for (int p = 0; p < topic.partitionCount(); p++) eligible.put(new Slot(topic.id(), p), subscribers);
        }
        // Stickiness: a partition stays with its previous owner if that member still subscribes to its topic.
        Map<Slot, String> owner = new HashMap<>();
        for (Map.Entry<String, Assignment> e : previous.entrySet()) {
            MemberSubscription m = byId.get(e.getKey());
            if (m == null) continue;
            e.getValue().partitions().forEach((topic, set) -> {
                for (int p : set) {
                    Slot slot = new Slot(topic, p);
                    if (eligible.containsKey(slot) && m.topicIds().contains(topic) && !owner.containsKey(slot)) {
                        owner.put(slot, m.memberId());
                        owned.get(m.memberId()).add(slot);
                    }
                }
            });
        }
        // The rest, the most constrained partitions first, to the least loaded eligible member.
        List<Slot> unassigned = new ArrayList<>();
        for (Slot slot : eligible.keySet()) if (!owner.containsKey(slot)) unassigned.add(slot);
        unassigned.sort(Comparator.comparingInt((Slot s) -> eligible.get(s).size()));
        for (Slot slot : unassigned) {
            String target = leastLoaded(eligible.get(slot), owned);
            owner.put(slot, target);
            owned.get(target).add(slot);
        }
        balance(eligible, owner, owned);
        Map<String, Assignment> result = new LinkedHashMap<>();
        for (Map.Entry<String, List<Slot>> e : owned.entrySet()) {
            Assignment.Builder b = new Assignment.Builder();
            for (Slot s : e.getValue()) b.add(s.topic(), s.partition());
            result.put(e.getKey(), b.build());
        }
        return result;
    }

    private static boolean homogeneous(Collection<MemberSubscription> members) {
        java.util.Set<UUID> first = null;
        for (MemberSubscription m : members) {
            if (first == null) first = m.topicIds();
            else if (!first.equals(m.topicIds())) return false;
        }
        return true;
    }

    /**
     * Every member subscribes to the same topics: each gets {@code total / members} partitions, and the first
     * {@code total % members} to need it one more (Kafka's UniformHomogeneousAssignmentBuilder). Members, in id order,
     * keep their previous partitions up to their quota; the partitions left over go, in topic and partition order,
     * first to the members below the lower quota, then one each to members at it while extra ones remain.
     */
    private static Map<String, Assignment> assignHomogeneous(Map<String, MemberSubscription> byId,
                                                             Map<UUID, TopicRef> topics,
                                                             Map<String, Assignment> previous) {
        Map<String, Assignment> result = new LinkedHashMap<>();
        if (byId.isEmpty()) return result;
        java.util.Set<UUID> subscribed = byId.values().iterator().next().topicIds();
        List<TopicRef> order = new ArrayList<>();
        long total = 0;
        for (TopicRef topic : sorted(topics.values())) {
            if (!subscribed.contains(topic.id())) continue;
            order.add(topic);
            total += topic.partitionCount();
        }
        int count = byId.size();
        int minQuota = (int) (total / count);
        int extra = (int) (total % count);
        Map<UUID, java.util.BitSet> taken = new HashMap<>();
        for (TopicRef topic : order) taken.put(topic.id(), new java.util.BitSet(topic.partitionCount()));
        Map<String, Assignment.Builder> builders = new LinkedHashMap<>();
        Map<String, Integer> sizes = new HashMap<>();
        java.util.ArrayDeque<String> belowMin = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<String> atMin = new java.util.ArrayDeque<>();
        // Members that kept every previous partition: unless they get more, their previous assignment is reused.
        java.util.Set<String> unchanged = new java.util.HashSet<>();
        for (String id : byId.keySet()) {
            Assignment.Builder builder = new Assignment.Builder();
            builders.put(id, builder);
            int kept = 0;
            Assignment before = previous.get(id);
            if (before != null) {
                int quota = minQuota + (extra > 0 ? 1 : 0);
                for (Map.Entry<UUID, java.util.SortedSet<Integer>> e : before.partitions().entrySet()) {
                    java.util.BitSet bits = taken.get(e.getKey());
                    TopicRef topic = bits == null ? null : topics.get(e.getKey());
                    if (topic == null) continue;
                    for (int p : e.getValue()) {
                        if (kept >= quota) break;
                        if (p >= topic.partitionCount() || bits.get(p)) continue;
                        bits.set(p);
                        builder.add(e.getKey(), p);
                        kept++;
                    }
                }
                if (kept > minQuota) extra--;
                if (kept == before.size()) unchanged.add(id);
            }
            sizes.put(id, kept);
            if (kept < minQuota) belowMin.add(id);
            else if (kept == minQuota) atMin.add(id);
        }
        for (TopicRef topic : order) {
            java.util.BitSet bits = taken.get(topic.id());
            for (int p = bits.nextClearBit(0); p < topic.partitionCount(); p = bits.nextClearBit(p + 1)) {
                String to;
                if (!belowMin.isEmpty()) {
                    to = belowMin.peekFirst();
                    int size = sizes.merge(to, 1, Integer::sum);
                    if (size == minQuota) {
                        belowMin.pollFirst();
                        atMin.add(to);
                    }
                } else {
                    // Every member has its lower quota: the rest are the extra ones, one per member.
                    to = atMin.pollFirst();
                    sizes.merge(to, 1, Integer::sum);
                    extra--;
                }
                builders.get(to).add(topic.id(), p);
                unchanged.remove(to);
            }
        }
        for (Map.Entry<String, Assignment.Builder> e : builders.entrySet()) {
            String id = e.getKey();
            result.put(id, unchanged.contains(id) ? previous.get(id) : e.getValue().build());
        }
        return result;
    }

    /** Moves partitions from over- to under-loaded eligible members until no move narrows the spread. */
    private static void balance(Map<Slot, List<String>> eligible, Map<Slot, String> owner,
                                Map<String, List<Slot>> owned) {
        boolean moved = true;
        // Each move lowers the sum of squared loads, so this ends; the bound only guards against a mistake.
        for (int round = 0; moved && round < eligible.size() * 4 + 16; round++) {
            moved = false;
            List<String> byLoadDesc = new ArrayList<>(owned.keySet());
            byLoadDesc.sort(Comparator.comparingInt((String id) -> owned.get(id).size()).reversed()
                    .thenComparing(Comparator.naturalOrder()));
            for (String from : byLoadDesc) {
                List<Slot> slots = owned.get(from);
                // The most recently added partitions move first, so the ones kept from before stay.
                for (int i = slots.size() - 1; i >= 0 && !moved; i--) {
                    Slot slot = slots.get(i);
                    String to = leastLoaded(eligible.get(slot), owned);
                    if (owned.get(to).size() + 1 < slots.size()) {
                        slots.remove(i);
                        owned.get(to).add(slot);
                        owner.put(slot, to);
                        moved = true;
                    }
                }
                if (moved) break;
            }
        }
    }

    private static String leastLoaded(List<String> candidates, Map<String, List<Slot>> owned) {
        String best = null;
        for (String id : candidates) {
            if (best == null || owned.get(id).size() < owned.get(best).size()) best = id;
        }
        return best;
    }

    static List<TopicRef> sorted(Collection<TopicRef> topics) {
        List<TopicRef> list = new ArrayList<>(topics);
        list.sort(Comparator.comparing(TopicRef::name));
        return list;
    }
}
