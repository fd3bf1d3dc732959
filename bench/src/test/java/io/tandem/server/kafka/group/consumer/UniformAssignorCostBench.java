package io.tandem.server.kafka.group.consumer;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/**
 * The CPU of the {@code uniform} server assignor's general road (KIP-848 target assignment when members subscribe
 * to different topics, Kafka's UniformHeterogeneousAssignmentBuilder), in the style of
 * {@link ConsumerHeartbeatCostBench}: one group of {@code --members} (1,000) members over {@code --topics} (100)
 * topics of {@code --partitions} (30) partitions each, every member subscribed to a seeded random
 * {@code --min-topics}..{@code --max-topics} (10..30) of them, so no two subscriptions need be alike. Measured, as
 * the coordinator computes a target once per epoch bump: the first assignment (no previous one), a member joining
 * (previous: the first), that member leaving (previous: the join's), a recomputation where nothing changed, and the
 * group doubling at once (previous: the first half's own assignment, so half the partitions must move: a scale-out,
 * where balancing does most of the work).
 * Also printed: the largest spread between two members that could trade a partition, and how many partitions the
 * join and the leave moved (stickiness). This thread's CPU ns (ThreadMXBean). Nothing here is asserted. Run:
 * {@code java -cp server/target/classes:bench/target/test-classes
 * io.tandem.server.kafka.group.consumer.UniformAssignorCostBench [--members 1000] [--repeat 5]}.
 */
public final class UniformAssignorCostBench {
    private final UniformAssignor assignor = new UniformAssignor();
    private final Map<UUID, TopicRef> topics = new LinkedHashMap<>();
    private final List<PartitionAssignor.MemberSubscription> members = new ArrayList<>();
    private final PartitionAssignor.MemberSubscription joiner;

    private UniformAssignorCostBench(int memberCount, int topicCount, int partitions, int minTopics, int maxTopics,
                                     long seed) {
        List<UUID> ids = new ArrayList<>();
        for (int t = 0; t < topicCount; t++) {
            String name = String.format(Locale.ROOT, "topic-%03d", t);
            TopicRef topic = new TopicRef(name, UUID.nameUUIDFromBytes(name.getBytes()), partitions);
            topics.put(topic.id(), topic);
            ids.add(topic.id());
        }
        Random random = new Random(seed);
        for (int m = 0; m < memberCount; m++) members.add(member(String.format(Locale.ROOT, "member-%05d", m), ids,
                random, minTopics, maxTopics));
        joiner = member("member-joining", ids, random, minTopics, maxTopics);
    }

    private static PartitionAssignor.MemberSubscription member(String id, List<UUID> topicIds, Random random,
                                                               int minTopics, int maxTopics) {
        int count = minTopics + random.nextInt(maxTopics - minTopics + 1);
        List<UUID> shuffled = new ArrayList<>(topicIds);
        java.util.Collections.shuffle(shuffled, random);
        return new PartitionAssignor.MemberSubscription(id, new LinkedHashSet<>(shuffled.subList(0, count)));
    }

    private static long cpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /** The largest load difference between a member and another that subscribes to one of its partitions' topics. */
    private int spread(Map<String, Assignment> result) {
        Map<UUID, Integer> minLoadOfSubscribers = new LinkedHashMap<>();
        for (PartitionAssignor.MemberSubscription m : members) {
            int load = result.get(m.memberId()) == null ? 0 : result.get(m.memberId()).size();
            for (UUID t : m.topicIds()) minLoadOfSubscribers.merge(t, load, Math::min);
        }
        int worst = 0;
        for (Map.Entry<String, Assignment> e : result.entrySet()) {
            int load = e.getValue().size();
            for (UUID t : e.getValue().partitions().keySet()) {
                Integer min = minLoadOfSubscribers.get(t);
                if (min != null && !e.getValue().get(t).isEmpty()) worst = Math.max(worst, load - min);
            }
        }
        return worst;
    }

    /** Partitions whose owner differs between the two assignments (new owners of unowned ones not counted). */
    private static int moved(Map<String, Assignment> before, Map<String, Assignment> after) {
        Map<String, String> owner = new LinkedHashMap<>();
        before.forEach((m, a) -> a.partitions().forEach((t, ps) -> ps.forEach(p -> owner.put(t + ":" + p, m))));
        int moved = 0;
        for (Map.Entry<String, Assignment> e : after.entrySet()) {
            for (Map.Entry<UUID, java.util.SortedSet<Integer>> tp : e.getValue().partitions().entrySet()) {
                for (int p : tp.getValue()) {
                    String was = owner.get(tp.getKey() + ":" + p);
                    if (was != null && !was.equals(e.getKey())) moved++;
                }
            }
        }
        return moved;
    }

    private static String stats(double[] samples) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "%.1f ms median [%.1f - %.1f]", sorted[sorted.length / 2] / 1e6,
                sorted[0] / 1e6, sorted[sorted.length - 1] / 1e6);
    }

    public static void main(String[] args) {
        int memberCount = 1_000;
        int topicCount = 100;
        int partitions = 30;
        int minTopics = 10;
        int maxTopics = 30;
        int repeat = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--members" -> memberCount = Integer.parseInt(args[++i]);
                case "--topics" -> topicCount = Integer.parseInt(args[++i]);
                case "--partitions" -> partitions = Integer.parseInt(args[++i]);
                case "--min-topics" -> minTopics = Integer.parseInt(args[++i]);
                case "--max-topics" -> maxTopics = Integer.parseInt(args[++i]);
                case "--repeat" -> repeat = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        UniformAssignorCostBench bench = new UniformAssignorCostBench(memberCount, topicCount, partitions, minTopics,
                maxTopics, 42);
        double[] fresh = new double[repeat];
        double[] join = new double[repeat];
        double[] leave = new double[repeat];
        double[] steady = new double[repeat];
        double[] doubled = new double[repeat];
        int movedDoubling = 0;
        List<PartitionAssignor.MemberSubscription> firstHalf = bench.members.subList(0, memberCount / 2);
        int spread = 0;
        int movedJoin = 0;
        int movedLeave = 0;
        List<PartitionAssignor.MemberSubscription> withJoiner = new ArrayList<>(bench.members);
        withJoiner.add(bench.joiner);
        for (int r = 0; r < repeat; r++) {
            long start = cpu();
            Map<String, Assignment> first = bench.assignor.assign(bench.members, bench.topics, Map.of());
            fresh[r] = cpu() - start;
            start = cpu();
            Map<String, Assignment> joined = bench.assignor.assign(withJoiner, bench.topics, first);
            join[r] = cpu() - start;
            start = cpu();
            Map<String, Assignment> left = bench.assignor.assign(bench.members, bench.topics, joined);
            leave[r] = cpu() - start;
            start = cpu();
            bench.assignor.assign(bench.members, bench.topics, left);
            steady[r] = cpu() - start;
            Map<String, Assignment> half = bench.assignor.assign(firstHalf, bench.topics, Map.of());
            start = cpu();
            Map<String, Assignment> whole = bench.assignor.assign(bench.members, bench.topics, half);
            doubled[r] = cpu() - start;
            movedDoubling = moved(half, whole);
            spread = Math.max(spread, Math.max(bench.spread(first), bench.spread(left)));
            movedJoin = moved(first, joined);
            movedLeave = moved(joined, left);
        }
        String shape = String.format(Locale.ROOT, "members %d topics %d partitions %d subscriptions %d-%d",
                memberCount, topicCount, partitions, minTopics, maxTopics);
        System.out.println("uniform-mixed " + shape + " fresh: " + stats(fresh));
        System.out.println("uniform-mixed " + shape + " join: " + stats(join) + ", moved " + movedJoin);
        System.out.println("uniform-mixed " + shape + " leave: " + stats(leave) + ", moved " + movedLeave);
        System.out.println("uniform-mixed " + shape + " unchanged: " + stats(steady));
        System.out.println("uniform-mixed " + shape + " doubling: " + stats(doubled) + ", moved " + movedDoubling);
        System.out.println("uniform-mixed " + shape + " largest spread between eligible members: " + spread);
    }
}
