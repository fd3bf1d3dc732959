package io.tandem.server.kafka.controller;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Partition moves (AlterPartitionReassignments), as Kafka's controller makes them: the replicas become target plus
 * original under a new leader epoch, so the added ones fetch; once every target replica is in the ISR the target
 * leads, the assignment becomes the target, and the removed replicas are stopped and deleted.
 */
final class Reassignments {
    private static final System.Logger LOG = System.getLogger(Reassignments.class.getName());
    private final ControllerState cluster;
    private final ControllerRequests requests;
    private final Map<TopicPartition, KafkaController.Reassignment> moves = new LinkedHashMap<>();
    private final Finished finished;

    /** Told of each partition whose move completed (it leaves the ZooKeeper request, if it was there). */
    interface Finished {
        void moved(TopicPartition tp) throws Exception;
    }

    /** Told of each topic whose last move in progress finished; see {@link #onTopicSettled}. */
    private java.util.function.Consumer<String> settled = topic -> { };
    /** Topics queued for deletion, whose partitions no new move may start (Kafka's maybeTriggerPartitionReassignment). */
    private java.util.function.Predicate<String> deleting = topic -> false;

    Reassignments(ControllerState cluster, ControllerRequests requests, Finished finished) {
        this.cluster = cluster;
        this.requests = requests;
        this.finished = finished;
    }

    /**
     * Topic deletion's hooks: {@code settled} hears of each topic whose moves all finished (a deletion that waited
     * for them goes on, as Kafka's resumeDeletionForTopics after a reassignment), and no move starts for a topic
     * {@code deleting} names.
     */
    void onTopicSettled(java.util.function.Consumer<String> settled, java.util.function.Predicate<String> deleting) {
        this.settled = settled;
        this.deleting = deleting;
    }

    /** Whether a partition of {@code topic} is being moved. */
    boolean moving(String topic) {
        for (TopicPartition tp : moves.keySet()) if (tp.topic().equals(topic)) return true;
        return false;
    }

    /** The moves in progress (all, or those asked for). */
    Map<TopicPartition, KafkaController.Reassignment> inProgress(Set<TopicPartition> asked) {
        Map<TopicPartition, KafkaController.Reassignment> result = new LinkedHashMap<>();
        moves.forEach((tp, r) -> {
            if (asked == null || asked.contains(tp)) result.put(tp, r);
        });
        return result;
    }

    /**
     * A new controller picks up the moves an earlier one left in ZooKeeper (the replicas a partition is adding and
     * removing) and carries them on: target = replicas - removing, original = replicas - adding.
     */
    void resume() throws Exception {
        moves.clear();
        for (Map.Entry<String, TopicAssignment> t : cluster.topics.entrySet()) {
            TopicAssignment a = t.getValue();
            Set<Integer> partitions = new java.util.TreeSet<>(a.adding().keySet());
            partitions.addAll(a.removing().keySet());
            for (int p : partitions) {
                List<Integer> all = a.replicas().get(p);
                if (all == null) continue;
                List<Integer> adding = a.adding().getOrDefault(p, List.of());
                List<Integer> removing = a.removing().getOrDefault(p, List.of());
                TopicPartition tp = new TopicPartition(t.getKey(), p);
                moves.put(tp, new KafkaController.Reassignment(all.stream().filter(r -> !removing.contains(r)).toList(),
                        all.stream().filter(r -> !adding.contains(r)).toList()));
            }
        }
        for (TopicPartition tp : new ArrayList<>(moves.keySet())) startOrFinish(tp);
    }

    Map<TopicPartition, KafkaController.ElectionResult> reassign(Map<TopicPartition, List<Integer>> targets) throws Exception {
        Map<TopicPartition, KafkaController.ElectionResult> results = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, List<Integer>> e : targets.entrySet()) {
            TopicPartition tp = e.getKey();
            TopicAssignment assignment = cluster.topics.get(tp.topic());
            PartitionState state = cluster.states.get(tp);
            if (assignment == null || state == null || !assignment.replicas().containsKey(tp.partition())
                    || deleting.test(tp.topic())) {
                results.put(tp, new KafkaController.ElectionResult(UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
            } else if (e.getValue() == null) {
                KafkaController.Reassignment ongoing = moves.get(tp);
                if (ongoing == null) {
                    results.put(tp, new KafkaController.ElectionResult(NO_REASSIGNMENT_IN_PROGRESS,
                            "No reassignment in progress for partition " + tp));
                } else {
                    // Cancelled: back to where it came from, by the same path.
                    moves.put(tp, new KafkaController.Reassignment(ongoing.original(), ongoing.original()));
                    results.put(tp, new KafkaController.ElectionResult(NONE, null));
                }
            } else {
                List<Integer> target = e.getValue();
                if (target.isEmpty() || new HashSet<>(target).size() != target.size()) {
                    results.put(tp, new KafkaController.ElectionResult(INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment"
                            + " includes an empty replica list or duplicate brokers."));
                    continue;
                }
                Integer unknown = target.stream().filter(r -> !cluster.live.containsKey(r)).findFirst().orElse(null);
                if (unknown != null) {
                    results.put(tp, new KafkaController.ElectionResult(INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment"
                            + " includes broker " + unknown + ", but no such broker is registered."));
                    continue;
                }
                KafkaController.Reassignment ongoing = moves.get(tp);
                List<Integer> original = ongoing != null ? ongoing.original() : assignment.replicas().get(tp.partition());
                moves.put(tp, new KafkaController.Reassignment(List.copyOf(target), original));
                results.put(tp, new KafkaController.ElectionResult(NONE, null));
            }
        }
        for (TopicPartition tp : targets.keySet()) {
            if (results.get(tp).error() == NONE) startOrFinish(tp);
        }
        return results;
    }

    /**
     * One step of a move: while the target replicas are not all in the ISR, the partition has RS as replicas (the
     * adding ones fetch); once they are, the target leads and the removed replicas are stopped and deleted.
     */
    private void startOrFinish(TopicPartition tp) throws Exception {
        KafkaController.Reassignment r = moves.get(tp);
        PartitionState state = cluster.states.get(tp);
        if (r == null || state == null) return;
        TopicAssignment assignment = cluster.topics.get(tp.topic());
        List<Integer> current = assignment.replicas().get(tp.partition());
        if (!state.isr().containsAll(r.target())) {
            List<Integer> replicas = new ArrayList<>(r.replicas());
            List<Integer> isr = state.isr().stream().filter(replicas::contains).toList();
            if (isr.isEmpty()) {
                // Every in-sync replica is one a superseded move was adding: they stay until this move finishes
                // (deleting them now would delete the only copies of committed records).
                for (int b : current) if (state.isr().contains(b) && !replicas.contains(b)) replicas.add(b);
                isr = state.isr().stream().filter(replicas::contains).toList();
            }
            if (!current.equals(replicas)) {
                List<Integer> kept = replicas;
                List<Integer> keptIsr = isr;
                // The leader stays unless a superseded move was adding it; then an in-sync replica that stays leads.
                int leader = kept.contains(state.leader()) ? state.leader() : kept.stream()
                        .filter(b -> keptIsr.contains(b) && cluster.live.containsKey(b)).findFirst().orElse(-1);
                cluster.writeAssignment(tp, kept, kept.stream().filter(b -> !r.original().contains(b)).toList(),
                        kept.stream().filter(b -> !r.target().contains(b)).toList());
                // A new leader epoch, so the leader tracks the added followers (Kafka bumps it for RS changes too),
                // and an ISR of replicas that stay (seeds 178, 281: an ISR naming a replica no longer assigned made
                // the controller refuse every ISR expansion, so the move never finished).
                cluster.writeState(tp, new PartitionState(leader, state.leaderEpoch() + 1, cluster.epoch, keptIsr,
                        state.zkVersion()));
                for (int broker : kept) requests.leaderAndIsr(broker, List.of(tp), false);
                // Kafka's updateCurrentReassignment: replicas a superseded move was adding that this one does not
                // keep are stopped and deleted now (nothing else would: they are no longer assigned).
                stopAndDelete(tp, current, kept);
                requests.updateMetadata(cluster.live.keySet(), List.of(tp));
            }
            return;
        }
        List<Integer> isr = state.isr().stream().filter(r.target()::contains).toList();
        int leader = r.target().contains(state.leader()) && cluster.live.containsKey(state.leader()) ? state.leader()
                : r.target().stream().filter(b -> isr.contains(b) && cluster.live.containsKey(b)).findFirst().orElse(state.leader());
        cluster.writeAssignment(tp, r.target(), List.of(), List.of());
        cluster.writeState(tp, new PartitionState(leader, state.leaderEpoch() + 1, cluster.epoch, isr, state.zkVersion()));
        moves.remove(tp);
        for (int broker : r.target()) requests.leaderAndIsr(broker, List.of(tp), false);
        // The original replicas outside the target, and any replica the assignment still had from a superseded move
        // (seed 182: a broker a replaced move was adding kept its replica, and as the controller itself it never got
        // the full LeaderAndIsr that deletes strays).
        List<Integer> removed = new ArrayList<>(current);
        for (int r0 : r.removing()) if (!removed.contains(r0)) removed.add(r0);
        stopAndDelete(tp, removed, r.target());
        requests.updateMetadata(cluster.live.keySet(), List.of(tp));
        LOG.log(System.Logger.Level.INFO, "Reassignment of {0} to {1} done", tp, r.target());
        finished.moved(tp);
        if (!moving(tp.topic())) settled.accept(tp.topic());
    }

    /** The topic is being deleted (see {@link TopicDeletions}): its moves in progress are dropped and returned. */
    List<TopicPartition> forget(String topic) {
        List<TopicPartition> dropped = new ArrayList<>();
        moves.keySet().removeIf(tp -> {
            if (!tp.topic().equals(topic)) return false;
            dropped.add(tp);
            return true;
        });
        return dropped;
    }

    /** StopReplica with delete to each of {@code before} that {@code after} does not keep. */
    private void stopAndDelete(TopicPartition tp, List<Integer> before, List<Integer> after) {
        for (int broker : before) {
            if (!after.contains(broker)) requests.stopReplica(broker, tp, true);
        }
    }

    /** After ISR changes: moves whose targets are now in sync finish. */
    void progress(Collection<TopicPartition> changed) throws Exception {
        for (TopicPartition tp : changed) {
            if (moves.containsKey(tp)) startOrFinish(tp);
        }
    }
}
