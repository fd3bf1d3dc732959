package io.tandem.server.kafka.replica.sim;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.PartitionState;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code unclean.leader.election.enable} in the replication simulation: off (Kafka's default), on for the
 * simulation's topic ({@code /config/topics/events}, read by the controller at each election that needs it), or
 * turned on as the brokers' dynamic default part-way through the faults (each broker hears of it a little later, as
 * DynamicBrokerConfig after its change notification, and tells its controller, which elects the leaderless
 * partitions). Every partition-state write of the controller is watched: a leader outside the previous ISR is an
 * unclean election, a violation when it is off.
 *
 * <p>When an out-of-sync replica elected at epoch E takes the lead (applies the LeaderAndIsr; an election whose
 * leader never does changes no log), its log then is what survives, what its followers truncate to: a record of an
 * epoch below E that this log does not hold at the same offset is lost. The checks that still hold: replicas never diverge below their high watermarks once such lost
 * records are set aside (they are truncated away); a record consumed, committed or acknowledged vanishes only when an
 * unclean leader lacked it, and each such loss is counted, not hidden. A record acknowledged at leader epoch A may be
 * lost only by an unclean election of an epoch above A whose log lacked it.
 */
final class SimUncleanElections {
    /** How unclean election is enabled for the simulation's topic. */
    enum Mode {
        OFF,
        /** The topic's own override, set when the topic is created. */
        TOPIC,
        /** The brokers' dynamic default, turned on part-way through the faults. */
        DYNAMIC_DEFAULT
    }

    static final String KEY = "unclean.leader.election.enable";

    /**
     * An out-of-sync replica elected at one epoch, and its log (offset to value) as it took the lead, null until it
     * does: only then does its log become what its followers truncate to.
     */
    private record Takeover(int leader, TreeMap<Long, Long> log) {
    }

    private final ReplicationSimulator sim;
    final Mode mode;
    /** The unclean elections of each partition, by leader epoch. */
    private final Map<TopicPartition, TreeMap<Integer, Takeover>> takeovers = new TreeMap<>(ReplicationSimulator.ORDER);
    /** The brokers that have heard the dynamic default turned on (each broker's own view). */
    private final Set<Integer> defaultHeard = new HashSet<>();
    private boolean defaultEnabled;

    SimUncleanElections(ReplicationSimulator sim, Mode mode) {
        this.sim = sim;
        this.mode = mode;
    }

    /** The topic's override, when this run sets one: what the controller reads from ZooKeeper. */
    Map<String, String> topicConfig() {
        return mode == Mode.TOPIC ? Map.of(KEY, "true") : Map.of();
    }

    /** Turns the dynamic default on at a random time of the faults' first half (DYNAMIC_DEFAULT only). */
    void start() {
        if (mode != Mode.DYNAMIC_DEFAULT) return;
        sim.scheduler.after(sim.scheduler.between(0, ReplicationSimulator.FAULTY_MS / 2), () -> {
            defaultEnabled = true;
            sim.checks.count("unclean election enabled as the broker default");
            for (SimBroker b : sim.runningBrokers()) {
                b.later(sim.scheduler.between(1, 20), () -> {
                    defaultHeard.add(b.id);
                    b.controller.enableDefaultUncleanLeaderElection();
                });
            }
        });
    }

    /** A broker starting reads the dynamic default as it is in ZooKeeper now. */
    void brokerStarted(int id) {
        if (defaultEnabled) defaultHeard.add(id);
    }

    /** The broker default of unclean.leader.election.enable as broker {@code id} knows it. */
    boolean brokerDefault(int id) {
        return defaultHeard.contains(id);
    }

    /** A write of ZooKeeper: a partition state whose new leader was not in the previous ISR is an unclean election. */
    void written(String path, byte[] before, byte[] after) {
        if (before == null || after == null) return;
        TopicPartition tp = null;
        for (TopicPartition candidate : sim.partitions) {
            if (KafkaZkLayout.partitionStatePath(candidate.topic(), candidate.partition()).equals(path)) tp = candidate;
        }
        if (tp == null) return;
        PartitionState old = KafkaZkLayout.decodePartitionState(before);
        PartitionState now = KafkaZkLayout.decodePartitionState(after);
        if (now.leader() < 0 || old.isr().contains(now.leader())) return;
        if (mode == Mode.OFF) {
            sim.checks.violation("out-of-sync replica " + now.leader() + " elected leader of " + tp + " at epoch "
                    + now.leaderEpoch() + " (ISR was " + old.isr() + ") with unclean election off");
            return;
        }
        sim.checks.count("unclean election");
        sim.checks.record("out-of-sync replica " + now.leader() + " elected leader of " + tp + " at epoch "
                + now.leaderEpoch() + " (ISR was " + old.isr() + ")");
        TreeMap<Integer, Takeover> of = takeovers.computeIfAbsent(tp, k -> new TreeMap<>());
        // An earlier election whose leader never took the lead changed no log: a newer one replaces it.
        of.values().removeIf(t -> t.log() == null);
        of.put(now.leaderEpoch(), new Takeover(now.leader(), null));
    }

    /**
     * Broker {@code b} applied a LeaderAndIsr making it the leader of {@code p}: if an unclean election chose it and
     * it has not led since (at that epoch, or a later one if it was down when elected), its log now is what survives.
     */
    void leaderTookOver(SimBroker b, Partition p) {
        TreeMap<Integer, Takeover> of = takeovers.get(p.topicPartition());
        if (of == null) return;
        Map.Entry<Integer, Takeover> last = of.floorEntry(p.leaderEpoch());
        if (last == null || last.getValue().leader() != b.id || last.getValue().log() != null) return;
        TreeMap<Long, Long> log;
        try {
            log = SimRecords.below(p, p.logEndOffset());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        of.put(last.getKey(), new Takeover(b.id, log));
        sim.checks.record("unclean leader " + b.id + " of " + p.topicPartition() + " took the lead at epoch "
                + p.leaderEpoch() + " (elected at " + last.getKey() + ") with " + log.size() + " records, log end "
                + p.logEndOffset());
        sim.survivors(p.topicPartition(), log);
    }

    /** Whether the record ({@code offset}, {@code value}) written at leader epoch {@code epoch} was lost. */
    boolean lost(TopicPartition tp, long offset, long value, int epoch) {
        TreeMap<Integer, Takeover> of = takeovers.get(tp);
        if (of == null) return false;
        for (Takeover t : of.tailMap(epoch, false).values()) {
            if (t.log() == null) continue;
            Long kept = t.log().get(offset);
            if (kept == null || kept != value) return true;
        }
        return false;
    }

    /**
     * The out-of-sync replica whose takeover first lost the value acknowledged at leader epoch {@code ackEpoch} (the
     * first unclean leader of a later epoch whose log lacked it), or -1 if none did.
     */
    int acknowledgedLostBy(TopicPartition tp, long value, int ackEpoch) {
        TreeMap<Integer, Takeover> of = takeovers.get(tp);
        if (of == null) return -1;
        for (Takeover t : of.tailMap(ackEpoch, false).values()) {
            if (t.log() != null && !t.log().containsValue(value)) return t.leader();
        }
        return -1;
    }
}
