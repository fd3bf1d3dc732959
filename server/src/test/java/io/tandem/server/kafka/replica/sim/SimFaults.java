package io.tandem.server.kafka.replica.sim;

import io.tandem.server.kafka.TopicPartition;

import java.util.List;

/**
 * The faults of one seed while {@link ReplicationSimulator#faultsOn()}: every 0.3 to 2 s one of crashing a broker
 * (any, the controller or a partition leader, restarted 0.2 to 4 s later), cutting a broker off from the others (and
 * maybe the clients) or one link, expiring a broker's ZooKeeper session, or slowing a broker's disk; each partition or
 * slow disk heals by itself after a while. Every choice comes from the seed's random source, in simulated time.
 */
final class SimFaults {
    private final ReplicationSimulator sim;

    SimFaults(ReplicationSimulator sim) {
        this.sim = sim;
    }

    void start() {
        sim.scheduler.after(sim.scheduler.between(300, 2_000), () -> {
            if (!sim.faultsOn()) return;
            injectFault();
            start();
        });
    }

    private void injectFault() {
        List<SimBroker> up = sim.runningBrokers();
        // With unclean election on, an eighth kind: the in-sync replicas of a partition crash together while an
        // out-of-sync one lives (otherwise too rare to elect one). Off, the seven kinds draw as they always have.
        int kind = sim.scheduler.random.nextInt(sim.unclean.mode == SimUncleanElections.Mode.OFF ? 7 : 8);
        switch (kind) {
            case 0, 1 -> {
                SimBroker victim = switch (kind) {
                    case 0 -> sim.pick(up);
                    default -> up.stream().filter(b -> b.controller.isActive()).findFirst().orElse(sim.pick(up));
                };
                crash(victim, kind == 0 ? "crash: any broker" : "crash: the controller");
            }
            case 2 -> {
                TopicPartition tp = sim.partitions.get(sim.scheduler.random.nextInt(sim.partitions.size()));
                SimBroker leader = up.stream().filter(b -> b.leaderPartition(tp) != null).findFirst().orElse(null);
                crash(leader, "crash: a partition leader");
            }
            case 3 -> {
                SimBroker isolated = sim.pick(up);
                if (isolated == null) return;
                boolean fromClients = sim.scheduler.chance(0.5);
                for (int other : ReplicationSimulator.BROKER_IDS) sim.network.cut(isolated.id, other);
                if (fromClients) sim.network.cut(isolated.id, SimNetwork.CLIENT);
                sim.checks.count(fromClients ? "partition: broker cut off from all" : "partition: broker cut off from brokers");
                sim.scheduler.after(sim.scheduler.between(300, 5_000), () -> {
                    for (int other : ReplicationSimulator.BROKER_IDS) sim.network.heal(isolated.id, other);
                    sim.network.heal(isolated.id, SimNetwork.CLIENT);
                });
            }
            case 4 -> {
                int a = ReplicationSimulator.BROKER_IDS[sim.scheduler.random.nextInt(ReplicationSimulator.BROKER_IDS.length)];
                int b = ReplicationSimulator.BROKER_IDS[sim.scheduler.random.nextInt(ReplicationSimulator.BROKER_IDS.length)];
                if (a == b) return;
                sim.network.cut(a, b);
                sim.checks.count("partition: one link cut");
                sim.scheduler.after(sim.scheduler.between(300, 5_000), () -> sim.network.heal(a, b));
            }
            case 5 -> {
                SimBroker b = sim.pick(up);
                if (b == null) return;
                b.session.expire(sim.scheduler.between(100, 2_000));
                sim.checks.count("ZooKeeper session expired");
            }
            case 7 -> crashInSyncReplicas();
            default -> {
                SimBroker b = sim.pick(up);
                if (b == null) return;
                b.slowDiskMs = sim.scheduler.between(50, 1_500);
                sim.checks.count("slow disk");
                sim.scheduler.after(sim.scheduler.between(500, 5_000), () -> b.slowDiskMs = 0);
            }
        }
    }

    /**
     * The way to an unclean election: a follower of a partition is cut off from the other brokers until it has
     * fallen out of the ISR, then let back at the moment every other replica crashes, down for longer than a
     * ZooKeeper session, so the controller finds only the out-of-sync replica alive.
     */
    private void crashInSyncReplicas() {
        TopicPartition tp = sim.partitions.get(sim.scheduler.random.nextInt(sim.partitions.size()));
        io.tandem.server.kafka.metadata.PartitionState state = sim.zooKeeperState(tp);
        if (state == null) return;
        SimBroker behind = sim.pick(sim.runningBrokers().stream().filter(b -> b.id != state.leader()).toList());
        if (behind == null) return;
        for (int other : ReplicationSimulator.BROKER_IDS) sim.network.cut(behind.id, other);
        sim.checks.count("partition: follower cut off until it leaves the ISR");
        sim.scheduler.after(SimBroker.REPLICA_LAG_MS * 2, () -> {
            for (int other : ReplicationSimulator.BROKER_IDS) sim.network.heal(behind.id, other);
            io.tandem.server.kafka.metadata.PartitionState now = sim.zooKeeperState(tp);
            if (!sim.faultsOn() || now == null || now.isr().contains(behind.id) || sim.running(behind.id) != behind) {
                return;
            }
            for (int id : now.isr()) {
                crash(sim.running(id), "crash: every in-sync replica of a partition",
                        () -> ReplicationSimulator.SESSION_TIMEOUT_MS + sim.scheduler.between(500, 3_000));
            }
        });
    }

    private void crash(SimBroker victim, String what) {
        crash(victim, what, () -> sim.scheduler.between(200, 4_000));
    }

    /** {@code downMs}: drawn once the broker is down, as it always was (the seeds' draws stay in their order). */
    private void crash(SimBroker victim, String what, java.util.function.LongSupplier downMs) {
        if (victim == null) return;
        victim.crash();
        sim.checks.count(what);
        sim.scheduler.after(downMs.getAsLong(), () -> {
            if (sim.faultsOn() && sim.running(victim.id) == null) sim.start(victim.id);
        });
    }
}
