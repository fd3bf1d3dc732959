package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The CPU of one classic Heartbeat in the group coordinator, with the group timer connected as the broker connects it
 * (told the next deadline after each request), for a coordinator holding 1, 100, 1,000 and 10,000 members in Stable
 * groups of up to {@code --group-size} members. Before issue 15's deadline entries the coordinator found its next
 * deadline by scanning every group and member after each heartbeat, so the cost grew with the members; with them a
 * heartbeat moves one entry. No sockets, threads or clock: members join, sync and heartbeat round-robin at a time
 * handed in, and this thread's CPU nanoseconds per heartbeat (ThreadMXBean) are printed, which a loaded machine moves
 * far less than a rate. Uses the coordinator's public calls only, so any build runs it: put the build's server jar
 * first on the class path (bench/kafka/group-heartbeat-ab.sh alternates builds). Nothing here is asserted.
 */
public final class HeartbeatCostBench {
    /** group.max.session.timeout.ms: no member expires while the other groups form (time moves seconds there). */
    private static final int SESSION_MS = 1_800_000;
    private static final int REBALANCE_MS = 60_000;

    /** Kafka's defaults: the initial rebalance delay (3 s) lets a whole group join in one generation. */
    private final GroupCoordinator coordinator = new GroupCoordinator(GroupConfig.defaults(), GroupStore.IN_MEMORY);
    private final List<String[]> members = new ArrayList<>(); // {group id, member id}
    private final List<Integer> generations = new ArrayList<>();
    private long now = 1_000;
    private long told;

    private HeartbeatCostBench(int memberCount, int groupSize) {
        coordinator.deadlineListener(deadline -> told += deadline);
        List<Protocol> protocols = List.of(new Protocol("range", new byte[0]));
        for (int g = 0; g * groupSize < memberCount; g++) {
            String groupId = "group-" + g;
            int size = Math.min(groupSize, memberCount - g * groupSize);
            // All members join inside the empty group's initial delay (each new member id handed out at once, as
            // JoinGroup v3 does), and the delay's end forms one generation.
            List<JoinResult> answers = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                coordinator.joinGroup(new JoinRequest(groupId, "", null, "bench", "/127.0.0.1", SESSION_MS,
                        REBALANCE_MS, "consumer", protocols, false), now, answers::add);
            }
            for (int t = 0; answers.size() < size && t < 100; t++) {
                now += GroupConfig.defaults().initialRebalanceDelayMs();
                coordinator.tick(now);
            }
            if (answers.size() != size) throw new IllegalStateException(groupId + ": " + answers.size() + " answers");
            JoinResult leader = answers.stream().filter(a -> a.memberId().equals(a.leaderId())).findFirst()
                    .orElseThrow();
            Map<String, byte[]> assignments = new LinkedHashMap<>();
            for (JoinResult a : answers) assignments.put(a.memberId(), new byte[0]);
            for (JoinResult a : answers) {
                coordinator.syncGroup(new SyncRequest(groupId, a.generationId(), a.memberId(), null, "consumer", null,
                        a == leader ? assignments : Map.of()), now, result -> {
                    if (result.error() != 0) throw new IllegalStateException("sync: " + result.error());
                });
                members.add(new String[]{groupId, a.memberId()});
                generations.add(a.generationId());
            }
        }
    }

    /** Heartbeats round-robin, {@code count} of them, time moving 1 ms each; returns CPU ns per heartbeat. */
    private double heartbeats(int count) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        int n = members.size();
        for (int i = 0; i < count; i++) {
            String[] m = members.get(i % n);
            now++;
            short error = coordinator.heartbeat(m[0], m[1], null, generations.get(i % n), now);
            if (error != 0) throw new IllegalStateException("heartbeat: " + error);
        }
        return (double) (threads.getCurrentThreadCpuTime() - cpu) / count;
    }

    public static void main(String[] args) {
        int[] memberCounts = {1, 100, 1_000, 10_000};
        int groupSize = 1_000;
        int repeat = 5;
        long cpuBudgetNs = 200_000_000L;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--members" -> memberCounts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt)
                        .toArray();
                case "--group-size" -> groupSize = Integer.parseInt(args[++i]);
                case "--repeat" -> repeat = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        for (int memberCount : memberCounts) {
            HeartbeatCostBench bench = new HeartbeatCostBench(memberCount, groupSize);
            // Warm up, then size each measured batch to about cpuBudgetNs of CPU.
            bench.heartbeats(200_000);
            double estimate = bench.heartbeats(20_000);
            int batch = (int) Math.max(2_000, Math.min(2_000_000, cpuBudgetNs / Math.max(estimate, 1)));
            double[] samples = new double[repeat];
            for (int r = 0; r < repeat; r++) samples[r] = bench.heartbeats(batch);
            double[] sorted = samples.clone();
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "heartbeat members %d groups %d: %.0f ns CPU/heartbeat median [%.0f - %.0f]"
                            + " over %d x %d heartbeats%n", memberCount, (memberCount + groupSize - 1) / groupSize,
                    sorted[repeat / 2], sorted[0], sorted[repeat - 1], repeat, batch);
            if (bench.told == 42) System.out.println(); // keeps the listener's work observable
        }
    }
}
