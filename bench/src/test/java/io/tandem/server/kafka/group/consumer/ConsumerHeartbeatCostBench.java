package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupConfig;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupStore;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The CPU of KIP-848 ConsumerGroupHeartbeats in the consumer group coordinator, for one group of 1,000 and 10,000
 * members on a topic with twice as many partitions ({@code --partitions-per-member}), so a join takes one partition
 * from a member that must revoke it first: a steady heartbeat (a Stable member at its epoch, reporting nothing, as
 * the Java consumer sends between rebalances); a member joining the Stable group (the epoch moves and the target
 * assignment is computed once, as Kafka does per epoch bump); each other member's next heartbeat after that join
 * (its own reconciliation); and the joined member leaving. Kafka reconciles each member on its own heartbeat, so a
 * membership change should cost one target computation plus O(1) per member heartbeat, not a pass over the group in
 * every heartbeat. No sockets, threads or disk; time is handed in; this thread's CPU ns (ThreadMXBean) are printed,
 * which a loaded machine moves far less than a rate. Uses the coordinator's public calls only, so any build runs it
 * (bench/kafka/group-heartbeat-ab.sh --bench consumer). Nothing here is asserted.
 */
public final class ConsumerHeartbeatCostBench {
    private static final int REBALANCE_MS = 60_000;
    private static final String GROUP = "g";
    private static final String TOPIC = "t";

    private final ConsumerGroupCoordinator coordinator;
    private final TopicRef topic;
    /** member id -> {epoch}; the partitions each member owns, as its client would report them. */
    private final Map<String, Integer> epochs = new HashMap<>();
    private final Map<String, List<Integer>> owned = new HashMap<>();
    private final List<String> memberIds = new ArrayList<>();
    private long now = 1_000;
    private long told;

    private ConsumerHeartbeatCostBench(int memberCount, int partitionsPerMember) {
        topic = new TopicRef(TOPIC, UUID.nameUUIDFromBytes(TOPIC.getBytes()), memberCount * partitionsPerMember);
        TopicsView topics = new TopicsView() {
            @Override public TopicRef byName(String name) { return TOPIC.equals(name) ? topic : null; }
            @Override public TopicRef byId(UUID id) { return topic.id().equals(id) ? topic : null; }
            @Override public Collection<String> names() { return List.of(TOPIC); }
        };
        GroupCoordinator classic = new GroupCoordinator(GroupConfig.defaults(), GroupStore.IN_MEMORY);
        classic.deadlineListener(deadline -> told += deadline);
        coordinator = new ConsumerGroupCoordinator(classic, new ConsumerGroupConfig(1_800_000, 5_000,
                Integer.MAX_VALUE, ConsumerGroupConfig.KNOWN_ASSIGNORS), ConsumerGroupStore.IN_MEMORY, topics);
        for (int i = 0; i < memberCount; i++) memberIds.add(join());
        settle();
    }

    /** A new member's first heartbeat; returns its id. */
    private String join() {
        now++;
        HeartbeatResult r = coordinator.heartbeat(new HeartbeatRequest(GROUP, UUID.randomUUID().toString(), 0, null,
                null, REBALANCE_MS, List.of(TOPIC), null, null, List.of(), "bench", "/127.0.0.1", (short) 1), now);
        took(r);
        return r.memberId();
    }

    private void took(HeartbeatResult r) {
        epochs.put(r.memberId(), r.memberEpoch());
        if (r.assignment() != null) owned.put(r.memberId(), List.copyOf(r.assignment().get(topic.id())));
    }

    /** One member's heartbeat, reporting its partitions when {@code report} (a client does after a change). */
    private void beat(String memberId, boolean report) {
        now++;
        List<OwnedPartitions> reported = report
                ? List.of(new OwnedPartitions(topic.id(), owned.getOrDefault(memberId, List.of()))) : null;
        took(coordinator.heartbeat(new HeartbeatRequest(GROUP, memberId, epochs.get(memberId), null, null, -1, null,
                null, null, reported, "bench", "/127.0.0.1", (short) 1), now));
    }

    /** Every member heartbeats, reporting its partitions, until the group is Stable. */
    private void settle() {
        for (int round = 0; round < 20; round++) {
            for (String m : memberIds) beat(m, true);
            if (coordinator.describe(GROUP).state().equals(ConsumerGroup.State.STABLE.toString())) return;
        }
        throw new IllegalStateException("the group did not settle: " + coordinator.describe(GROUP).state());
    }

    private static long cpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /** Steady heartbeats round-robin; CPU ns per heartbeat. */
    private double steady(int count) {
        long start = cpu();
        int n = memberIds.size();
        for (int i = 0; i < count; i++) beat(memberIds.get(i % n), false);
        return (double) (cpu() - start) / count;
    }

    /**
     * A member joins the Stable group, every member heartbeats once (reporting its partitions), and the new member
     * leaves; returns CPU ns of {join, per reconciling heartbeat, leave}. The group is settled again afterwards.
     */
    private double[] joinAndLeave() {
        long start = cpu();
        String joined = join();
        long afterJoin = cpu();
        for (String m : memberIds) beat(m, true);
        long afterRound = cpu();
        now++;
        coordinator.heartbeat(new HeartbeatRequest(GROUP, joined, ConsumerGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH,
                null, null, -1, null, null, null, null, "bench", "/127.0.0.1", (short) 1), now);
        long afterLeave = cpu();
        epochs.remove(joined);
        owned.remove(joined);
        settle();
        return new double[]{afterJoin - start, (double) (afterRound - afterJoin) / memberIds.size(),
                afterLeave - afterRound};
    }

    private static String stats(double[] samples) {
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "%.0f ns median [%.0f - %.0f]", sorted[sorted.length / 2], sorted[0],
                sorted[sorted.length - 1]);
    }

    public static void main(String[] args) {
        int[] memberCounts = {1_000, 10_000};
        int repeat = 5;
        int partitionsPerMember = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--members" -> memberCounts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt)
                        .toArray();
                case "--repeat" -> repeat = Integer.parseInt(args[++i]);
                case "--partitions-per-member" -> partitionsPerMember = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        for (int memberCount : memberCounts) {
            long buildStart = cpu();
            ConsumerHeartbeatCostBench bench = new ConsumerHeartbeatCostBench(memberCount, partitionsPerMember);
            double build = (cpu() - buildStart) / 1e6;
            bench.steady(Math.max(20_000, 2 * memberCount));
            double[] steady = new double[repeat];
            for (int r = 0; r < repeat; r++) steady[r] = bench.steady(Math.max(20_000, 2 * memberCount));
            bench.joinAndLeave();
            double[] joins = new double[repeat];
            double[] reconciles = new double[repeat];
            double[] leaves = new double[repeat];
            for (int r = 0; r < repeat; r++) {
                double[] cost = bench.joinAndLeave();
                joins[r] = cost[0];
                reconciles[r] = cost[1];
                leaves[r] = cost[2];
            }
            System.out.printf(Locale.ROOT, "consumer members %d: %.0f ms CPU to form the group (%d joins and "
                    + "their reconciliation), %d partitions%n", memberCount, build, memberCount,
                    memberCount * partitionsPerMember);
            System.out.printf(Locale.ROOT, "consumer members %d steady: %s CPU/heartbeat%n", memberCount,
                    stats(steady));
            System.out.printf(Locale.ROOT, "consumer members %d join: %s CPU%n", memberCount, stats(joins));
            System.out.printf(Locale.ROOT, "consumer members %d reconcile: %s CPU/heartbeat%n", memberCount,
                    stats(reconciles));
            System.out.printf(Locale.ROOT, "consumer members %d leave: %s CPU%n", memberCount, stats(leaves));
            if (bench.told == 42) System.out.println(); // keeps the listener's work observable
        }
    }
}
