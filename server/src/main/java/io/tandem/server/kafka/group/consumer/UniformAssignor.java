package io.tandem.server.kafka.group.consumer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Kafka's default server assignor, {@code uniform}: spreads all subscribed partitions as evenly as the subscriptions
 * allow and keeps each partition where it was whenever the balance permits (sticky), so a rebalance moves as few
 * partitions as possible. When every member subscribes to the same topics (the usual group) it takes Kafka's
 * homogeneous road, O(members + partitions): each member keeps up to its quota of its previous partitions and the
 * rest fill the members below quota. Otherwise the general road ({@link #assignHeterogeneous}): partitions keep their
 * previous owner, the rest go to the least loaded subscriber of their topic, and partitions then move, topic by topic,
 * from an owner to the least loaded subscriber of their topic until no owner holds two or more above it, with the
 * members' loads in an array and each topic's subscribers ordered by load, so a group of a thousand members over a
 * hundred topics computes its target in a few milliseconds (5 to 25 ms of CPU where it took 30 to 250 ms when each
 * move re-sorted the whole group and each partition looked at every eligible member: docs/BENCHMARKS.md).
 */
final class UniformAssignor implements PartitionAssignor {
    static final String NAME = "uniform";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Map<String, Assignment> assign(Collection<MemberSubscription> members, Map<UUID, TopicRef> topics,
                                          Map<String, Assignment> previous) {
        Map<String, MemberSubscription> byId = new TreeMap<>();
        for (MemberSubscription m : members) byId.put(m.memberId(), m);
        return homogeneous(byId.values()) ? assignHomogeneous(byId, topics, previous)
                : assignHeterogeneous(byId, topics, previous);
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

    /**
     * The general road, for members whose subscriptions differ, in O((members + partitions) log members) per pass:
     * members by index in id order, loads in an array. Partitions stay with their previous owner while it still
     * subscribes to their topic (sticky); the rest go, the topics with the fewest subscribers first, each partition
     * to its topic's least loaded subscriber (the first in id order among equals); then, from the heaviest load down
     * and topic by topic, a partition moves from its owner to the topic's least loaded subscriber while the owner
     * holds two or more partitions more (the partitions assigned in this computation move first, then those of the
     * most loaded owners), and passes repeat until one moves nothing. That fixpoint is the balance Kafka's
     * UniformHeterogeneousAssignmentBuilder aims at: no partition could move to another subscriber of its topic and
     * narrow the spread (UniformAssignorMixedTest checks it beside Kafka's assignor). Each move lowers the sum of
     * squared loads, so the passes end.
     */
    private static Map<String, Assignment> assignHeterogeneous(Map<String, MemberSubscription> byId,
                                                               Map<UUID, TopicRef> topics,
                                                               Map<String, Assignment> previous) {
        String[] ids = byId.keySet().toArray(new String[0]);
        Map<String, Integer> indexOf = new HashMap<>();
        for (int i = 0; i < ids.length; i++) indexOf.put(ids[i], i);
        int[] load = new int[ids.length];
        // The subscribed topics in name order, each with its subscribers (by index, so in id order).
        List<TopicRef> order = new ArrayList<>();
        List<int[]> subscribers = new ArrayList<>();
        Map<UUID, Integer> topicIndex = new HashMap<>();
        // One walk over the subscriptions (members in id order, so each list is too), not members times topics.
        Map<UUID, int[]> subscribersOf = new HashMap<>();
        int[] counts = new int[0];
        Map<UUID, Integer> slot = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            for (UUID t : byId.get(ids[i]).topicIds()) {
                if (!topics.containsKey(t)) continue;
                int at = slot.computeIfAbsent(t, k -> slot.size());
                if (at >= counts.length) counts = Arrays.copyOf(counts, Math.max(8, counts.length * 2));
                int[] list = subscribersOf.computeIfAbsent(t, k -> new int[4]);
                if (counts[at] == list.length) subscribersOf.put(t, list = Arrays.copyOf(list, list.length * 2));
                list[counts[at]++] = i;
            }
        }
        for (TopicRef topic : sorted(topics.values())) {
            Integer at = slot.get(topic.id());
            if (at == null) continue;
            topicIndex.put(topic.id(), order.size());
            order.add(topic);
            subscribers.add(Arrays.copyOf(subscribersOf.get(topic.id()), counts[at]));
        }
        int[][] owner = new int[order.size()][];
        // Whether a partition is still where the previous assignment had it (those move last).
        boolean[][] kept = new boolean[order.size()][];
        // Members whose partitions changed: the others get their previous assignment object back, unbuilt.
        boolean[] changed = new boolean[ids.length];
        int[] keptCount = new int[ids.length];
        int total = 0;
        for (int t = 0; t < order.size(); t++) {
            owner[t] = new int[order.get(t).partitionCount()];
            Arrays.fill(owner[t], -1);
            kept[t] = new boolean[owner[t].length];
            total += owner[t].length;
        }
        for (Map.Entry<String, Assignment> e : previous.entrySet()) {
            Integer m = indexOf.get(e.getKey());
            if (m == null) continue;
            Set<UUID> subscribed = byId.get(e.getKey()).topicIds();
            for (Map.Entry<UUID, java.util.SortedSet<Integer>> tp : e.getValue().partitions().entrySet()) {
                Integer t = topicIndex.get(tp.getKey());
                if (t == null || !subscribed.contains(tp.getKey())) continue;
                for (int p : tp.getValue()) {
                    if (p >= owner[t].length || owner[t][p] >= 0) continue;
                    owner[t][p] = m;
                    kept[t][p] = true;
                    load[m]++;
                    keptCount[m]++;
                }
            }
        }
        // The rest: the most constrained topics first, each partition to the least loaded subscriber.
        Integer[] byConstraint = new Integer[order.size()];
        for (int t = 0; t < byConstraint.length; t++) byConstraint[t] = t;
        Arrays.sort(byConstraint, Comparator.comparingInt(t -> subscribers.get(t).length));
        for (int t : byConstraint) {
            TreeSet<Integer> lightest = null;
            for (int p = 0; p < owner[t].length; p++) {
                if (owner[t][p] >= 0) continue;
                if (lightest == null) lightest = byLoad(subscribers.get(t), load);
                int to = lightest.pollFirst();
                owner[t][p] = to;
                load[to]++;
                changed[to] = true;
                lightest.add(to);
            }
        }
        boolean moved = true;
        for (int pass = 0; moved && pass < total * 4 + 16; pass++) {
            moved = false;
            // The heaviest give first, one load level at a time: a member that gave at this level is then one
            // below it, never two below a giver of the level, so it takes nothing back and fewer partitions move
            // (as the old whole-group greedy moved from the most loaded member first). The levels are the loads
            // members have, so a pass looks at each topic at most once per distinct load.
            int level = 0;
            for (int l : load) level = Math.max(level, l);
            while (level >= 2) {
                for (int t = 0; t < order.size(); t++) {
                    moved |= balance(subscribers.get(t), owner[t], kept[t], load, changed, level);
                }
                int next = 0;
                for (int l : load) if (l < level) next = Math.max(next, l);
                level = next;
            }
        }
        // Unchanged (kept all it had, gained and lost nothing): the previous assignment itself, as the homogeneous
        // road gives it; the others are built.
        Assignment[] unchanged = new Assignment[ids.length];
        for (int i = 0; i < ids.length; i++) {
            Assignment before = previous.get(ids[i]);
            if (!changed[i] && before != null && keptCount[i] == before.size()) unchanged[i] = before;
        }
        Assignment.Builder[] builders = new Assignment.Builder[ids.length];
        for (int t = 0; t < order.size(); t++) {
            UUID topicId = order.get(t).id();
            for (int p = 0; p < owner[t].length; p++) {
                int m = owner[t][p];
                if (unchanged[m] != null) continue;
                if (builders[m] == null) builders[m] = new Assignment.Builder();
                builders[m].add(topicId, p);
            }
        }
        Map<String, Assignment> result = new LinkedHashMap<>();
        for (int i = 0; i < ids.length; i++) {
            result.put(ids[i], unchanged[i] != null ? unchanged[i]
                    : builders[i] == null ? Assignment.EMPTY : builders[i].build());
        }
        return result;
    }

    /**
     * One topic at one load level: each partition whose owner holds at least {@code level} partitions, and two or
     * more above the topic's least loaded subscriber, moves to that subscriber (the partitions assigned in this
     * computation first, then those of the most loaded owners). Returns whether any moved.
     */
    private static boolean balance(int[] subs, int[] owner, boolean[] kept, int[] load, boolean[] changed,
                                   int level) {
        if (subs.length < 2 || owner.length == 0) return false;
        // Most topics need nothing at a level: arrays only, no ordering.
        int minLoad = Integer.MAX_VALUE;
        for (int m : subs) minLoad = Math.min(minLoad, load[m]);
        int maxLoad = 0;
        for (int m : owner) maxLoad = Math.max(maxLoad, load[m]);
        if (maxLoad < level || maxLoad <= minLoad + 1) return false;
        TreeSet<Integer> lightest = byLoad(subs, load);
        Integer[] partitions = new Integer[owner.length];
        for (int p = 0; p < owner.length; p++) partitions[p] = p;
        Arrays.sort(partitions, (a, b) -> kept[a] != kept[b] ? (kept[a] ? 1 : -1)
                : load[owner[a]] != load[owner[b]] ? Integer.compare(load[owner[b]], load[owner[a]])
                : Integer.compare(a, b));
        boolean moved = false;
        for (int p : partitions) {
            int from = owner[p];
            int to = lightest.first();
            if (load[from] < level || load[from] <= load[to] + 1) continue;
            lightest.remove(from);
            lightest.remove(to);
            load[from]--;
            load[to]++;
            lightest.add(from);
            lightest.add(to);
            owner[p] = to;
            kept[p] = false;
            changed[from] = true;
            changed[to] = true;
            moved = true;
        }
        return moved;
    }

    /** The members of {@code indexes} ordered by load, then index (the first in id order among equals). */
    private static TreeSet<Integer> byLoad(int[] indexes, int[] load) {
        TreeSet<Integer> set = new TreeSet<>((a, b) -> load[a] != load[b] ? Integer.compare(load[a], load[b])
                : Integer.compare(a, b));
        for (int i : indexes) set.add(i);
        return set;
    }

    static List<TopicRef> sorted(Collection<TopicRef> topics) {
        List<TopicRef> list = new ArrayList<>(topics);
        list.sort(Comparator.comparing(TopicRef::name));
        return list;
    }
}
