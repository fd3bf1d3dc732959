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
 * The controller's leader and ISR decisions, as Kafka's partition state machine makes them: first leaders of new
 * partitions, leaders from the ISR when a leader goes (an out-of-sync replica only when the topic allows unclean
 * election, or an operator asks for one), departed followers out of the ISR, leaderships moved away from a broker in controlled shutdown and
 * back to preferred replicas. Each decision is written fenced and then sent to the brokers.
 */
final class Elections {
    private static final System.Logger LOG = System.getLogger(Elections.class.getName());
    /** Kafka's ApiError(ELECTION_NOT_NEEDED): the error's own message. */
    private static final String NOT_NEEDED_MESSAGE = "Leader election not needed for topic partition.";
    private final ControllerState cluster;
    private final ControllerRequests requests;
    private final UncleanElectionPolicy unclean;
    /** Whether a partition is one of a topic queued for deletion (such topics are out of {@link ControllerState}). */
    private final java.util.function.Predicate<TopicPartition> beingDeleted;

    Elections(ControllerState cluster, ControllerRequests requests, UncleanElectionPolicy unclean,
              java.util.function.Predicate<TopicPartition> beingDeleted) {
        this.cluster = cluster;
        this.requests = requests;
        this.unclean = unclean;
        this.beingDeleted = beingDeleted;
    }

    /** Partitions of {@code topic} without a state yet: leader the first live replica, ISR the live replicas. */
    List<TopicPartition> initializeNewPartitions(String topic) throws Exception {
        Map<TopicPartition, PartitionState> fresh = new java.util.LinkedHashMap<>();
        for (Map.Entry<Integer, List<Integer>> e : cluster.topics.get(topic).replicas().entrySet()) {
            TopicPartition tp = new TopicPartition(topic, e.getKey());
            if (cluster.states.containsKey(tp)) continue;
            List<Integer> isr = e.getValue().stream().filter(cluster.live::containsKey).toList();
            if (isr.isEmpty()) continue;
            fresh.put(tp, new PartitionState(isr.get(0), 0, cluster.epoch, isr, -1));
        }
        return cluster.writeNewStates(fresh);
    }

    /**
     * Partitions whose leader is gone (Kafka's triggerOnlinePartitionStateChange with its
     * offlinePartitionLeaderElection): the first live ISR member in assignment order leads, with a new epoch; with no
     * live ISR member, the first live replica when the topic's {@code unclean.leader.election.enable} (its override,
     * else the broker default) allows it, alone in the ISR: its log becomes the truth, and records only the lost
     * replicas held are gone.
     */
    List<TopicPartition> electLeadersForOfflinePartitions() throws Exception {
        return electLeadersForOfflinePartitions(null);
    }

    /** The same for the partitions of {@code topic} only (null: every topic). */
    List<TopicPartition> electLeadersForOfflinePartitions(String topic) throws Exception {
        List<TopicPartition> changed = new ArrayList<>();
        // Kafka reads the topic configs once per election pass, and only for partitions without a live ISR member.
        Map<String, Boolean> uncleanAllowed = new HashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(cluster.states.entrySet())) {
            PartitionState state = e.getValue();
            if (cluster.live.containsKey(state.leader())) continue;
            if (topic != null && !topic.equals(e.getKey().topic())) continue;
            List<Integer> replicas = cluster.topics.get(e.getKey().topic()).replicas().get(e.getKey().partition());
            Integer leader = replicas.stream().filter(r -> cluster.live.containsKey(r) && state.isr().contains(r))
                    .findFirst().orElse(null);
            boolean clean = leader != null;
            if (leader == null && replicas.stream().anyMatch(cluster.live::containsKey)
                    && uncleanAllowed.computeIfAbsent(e.getKey().topic(), unclean::allowed)) {
                leader = replicas.stream().filter(cluster.live::containsKey).findFirst().orElseThrow();
                LOG.log(System.Logger.Level.WARNING, "Unclean leader election for {0}: out-of-sync replica {1} leads"
                        + " (ISR was {2}); records only the ISR held are lost", e.getKey(), leader, state.isr());
            }
            if (leader == null) {
                if (state.leader() != -1) {
                    // No in-sync replica is alive: the partition stays offline rather than lose committed records.
                    LOG.log(System.Logger.Level.WARNING, "No live in-sync replica for {0} (ISR {1}); it stays offline",
                            e.getKey(), state.isr());
                }
                continue;
            }
            List<Integer> isr = clean ? state.isr().stream().filter(cluster.live::containsKey).toList()
                    : List.of(leader);
            if (cluster.writeState(e.getKey(), new PartitionState(leader, state.leaderEpoch() + 1, cluster.epoch, isr,
                    state.zkVersion())) != null) {
                changed.add(e.getKey());
            }
        }
        return changed;
    }

    /**
     * Unclean election was just enabled for {@code topic} (null: as the broker default): its leaderless partitions
     * are elected again, and the changes sent, as Kafka's processTopicUncleanLeaderElectionEnable and
     * processUncleanLeaderElectionEnable run triggerOnlinePartitionStateChange.
     */
    void uncleanElectionEnabled(String topic) throws Exception {
        List<TopicPartition> changed = electLeadersForOfflinePartitions(topic);
        if (changed.isEmpty()) return;
        for (int broker : cluster.live.keySet()) requests.leaderAndIsr(broker, cluster.partitionsOn(broker, changed), false);
        requests.updateMetadata(cluster.live.keySet(), changed);
    }

    /**
     * Kafka's removeReplicasFromIsr for a departed leader no live in-sync replica could replace: the partition is
     * marked offline (leader -1, a new leader epoch) and keeps its last in-sync replica as the ISR, so clients and
     * the other replicas stop following a broker that is gone, and only that replica (or an unclean election an
     * operator asks for) brings the partition back. Kafka removes the departed replicas one at a time and never empties
     * the ISR; the old leader goes last here, so the one kept is the replica that held every acknowledged record.
     */
    List<TopicPartition> markOffline(Set<Integer> departed) throws Exception {
        List<TopicPartition> changed = new ArrayList<>();
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(cluster.states.entrySet())) {
            PartitionState state = e.getValue();
            if (!departed.contains(state.leader()) || cluster.live.containsKey(state.leader())) continue;
            List<Integer> isr = new ArrayList<>(state.isr());
            for (int r : state.isr()) {
                if (r != state.leader() && departed.contains(r) && isr.size() > 1) isr.remove(Integer.valueOf(r));
            }
            if (isr.size() > 1) isr.remove(Integer.valueOf(state.leader()));
            PartitionState offline = new PartitionState(io.tandem.server.kafka.log.Partition.NO_LEADER,
                    state.leaderEpoch() + 1, cluster.epoch, List.copyOf(isr), state.zkVersion());
            if (cluster.writeState(e.getKey(), offline) != null) {
                changed.add(e.getKey());
            }
        }
        return changed;
    }

    /** Departed followers leave the ISR of partitions that still have a leader, with a new leader epoch. */
    List<TopicPartition> removeFromIsr(Set<Integer> departed) throws Exception {
        List<TopicPartition> changed = new ArrayList<>();
        if (departed.isEmpty()) return changed;
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(cluster.states.entrySet())) {
            PartitionState state = e.getValue();
            if (!cluster.live.containsKey(state.leader()) || state.isr().stream().noneMatch(departed::contains)) continue;
            List<Integer> isr = state.isr().stream().filter(r -> !departed.contains(r)).toList();
            if (cluster.writeState(e.getKey(), new PartitionState(state.leader(), state.leaderEpoch() + 1, cluster.epoch, isr,
                    state.zkVersion())) != null) {
                changed.add(e.getKey());
            }
        }
        return changed;
    }

    Map<TopicPartition, KafkaController.ElectionResult> electLeaders(KafkaController.ElectionType type, Set<TopicPartition> asked) throws Exception {
        Map<TopicPartition, KafkaController.ElectionResult> results = new LinkedHashMap<>();
        Collection<TopicPartition> partitions = asked == null ? new ArrayList<>(cluster.states.keySet()) : asked;
        List<TopicPartition> changed = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = cluster.states.get(tp);
            TopicAssignment assignment = cluster.topics.get(tp.topic());
            List<Integer> replicas = assignment == null ? null : assignment.replicas().get(tp.partition());
            if (state == null || replicas == null) {
                results.put(tp, beingDeleted.test(tp)
                        ? new KafkaController.ElectionResult(INVALID_TOPIC_EXCEPTION, "The topic is being deleted")
                        : new KafkaController.ElectionResult(UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
                continue;
            }
            Integer leader;
            List<Integer> isr = state.isr();
            if (type == KafkaController.ElectionType.PREFERRED) {
                int preferred = replicas.get(0);
                if (state.leader() == preferred) {
                    if (asked != null) {
                        results.put(tp, new KafkaController.ElectionResult(ELECTION_NOT_NEEDED, NOT_NEEDED_MESSAGE));
                    }
                    continue;
                }
                leader = cluster.live.containsKey(preferred) && isr.contains(preferred) ? preferred : null;
                if (leader == null) {
                    results.put(tp, new KafkaController.ElectionResult(PREFERRED_LEADER_NOT_AVAILABLE, "Failed to elect leader for"
                            + " partition " + tp + " under strategy PreferredReplicaPartitionLeaderElectionStrategy"));
                    continue;
                }
            } else {
                if (cluster.live.containsKey(state.leader())) {
                    if (asked != null) {
                        results.put(tp, new KafkaController.ElectionResult(ELECTION_NOT_NEEDED, NOT_NEEDED_MESSAGE));
                    }
                    continue;
                }
                List<Integer> inSync = isr;
                leader = replicas.stream().filter(r -> cluster.live.containsKey(r) && inSync.contains(r)).findFirst()
                        .orElse(replicas.stream().filter(cluster.live::containsKey).findFirst().orElse(null));
                if (leader == null) {
                    results.put(tp, new KafkaController.ElectionResult(ELIGIBLE_LEADERS_NOT_AVAILABLE, "Failed to elect leader for"
                            + " partition " + tp + " under strategy OfflinePartitionLeaderElectionStrategy(true)"));
                    continue;
                }
                if (!isr.contains(leader)) {
                    // Unclean, asked for explicitly: the new leader's log is the truth, so it is the whole ISR.
                    isr = List.of(leader);
                }
            }
            List<Integer> newIsr = isr.stream().filter(cluster.live::containsKey).toList();
            if (cluster.writeState(tp, new PartitionState(leader, state.leaderEpoch() + 1, cluster.epoch, newIsr, state.zkVersion())) != null) {
                changed.add(tp);
                results.put(tp, KafkaController.ElectionResult.elected(leader));
            } else {
                results.put(tp, new KafkaController.ElectionResult(UNKNOWN_SERVER_ERROR, "the partition state changed meanwhile"));
            }
        }
        for (int broker : cluster.live.keySet()) requests.leaderAndIsr(broker, cluster.partitionsOn(broker, changed), false);
        requests.updateMetadata(cluster.live.keySet(), changed);
        return results;
    }

    io.tandem.kafka.wire.message.ControlledShutdownResponse controlledShutdown(int brokerId, long brokerEpoch)
            throws Exception {
        var response = new io.tandem.kafka.wire.message.ControlledShutdownResponse();
        if (!cluster.live.containsKey(brokerId)) {
            response.errorCode = BROKER_NOT_AVAILABLE;
            return response;
        }
        // Kafka 3.9's doControlledShutdown: a request sent by an earlier registration of this broker (a retry that
        // outlived a restart) must not take the leaderships of the broker that registered since. -1 (versions 0-1,
        // or a sender that names none) is obeyed, as Kafka keeps the behaviour from before KIP-380.
        if (brokerEpoch != -1 && brokerEpoch < cluster.brokerEpoch(brokerId)) {
            LOG.log(System.Logger.Level.INFO, "Refused controlled shutdown of broker {0} at epoch {1}: its current"
                    + " registration is at {2}", brokerId, brokerEpoch, cluster.brokerEpoch(brokerId));
            response.errorCode = STALE_BROKER_EPOCH;
            return response;
        }
        // From now on it may not rejoin an ISR (its followers may still fetch and catch up until it stops).
        cluster.shuttingDown.put(brokerId, cluster.brokerEpoch(brokerId));
        List<TopicPartition> changed = new ArrayList<>();
        for (Map.Entry<TopicPartition, PartitionState> e : new ArrayList<>(cluster.states.entrySet())) {
            PartitionState state = e.getValue();
            List<Integer> replicas = replicasOf(e.getKey());
            // Kafka's partitionsToActOn: a partition of one replica has nowhere to move, and is left as it is.
            if (replicas.size() <= 1 || !state.isr().contains(brokerId)) continue;
            List<Integer> isr = state.isr().stream().filter(r -> r != brokerId).toList();
            int leader = state.leader();
            if (leader == brokerId) {
                Integer next = replicas.stream().filter(r -> isr.contains(r) && cluster.isrEligible(r)).findFirst()
                        .orElse(null);
                // No other in-sync replica to take over: it stays led here, and is answered as remaining below.
                if (next == null) continue;
                leader = next;
            }
            if (cluster.writeState(e.getKey(), new PartitionState(leader, state.leaderEpoch() + 1, cluster.epoch, isr,
                    state.zkVersion())) != null) {
                changed.add(e.getKey());
            }
        }
        for (int broker : cluster.live.keySet()) requests.leaderAndIsr(broker, cluster.partitionsOn(broker, changed), false);
        requests.updateMetadata(cluster.live.keySet(), changed);
        // Kafka's partitionLeadersOnBroker: what the broker still leads among partitions of more than one replica
        // (topics queued for deletion are out of the state already). The broker retries until this is empty, so a
        // partition of one replica, which can never move, must not count, or every stop would wait out the retries.
        cluster.states.entrySet().stream()
                .filter(e -> e.getValue().leader() == brokerId && replicasOf(e.getKey()).size() > 1)
                .map(Map.Entry::getKey)
                .sorted(java.util.Comparator.comparing(TopicPartition::topic).thenComparing(TopicPartition::partition))
                .forEach(tp -> {
                    var remaining = new io.tandem.kafka.wire.message.ControlledShutdownResponse.RemainingPartition();
                    remaining.topicName = tp.topic();
                    remaining.partitionIndex = tp.partition();
                    response.remainingPartitions.add(remaining);
                });
        LOG.log(System.Logger.Level.INFO, "Controlled shutdown of broker {0}: {1} partitions moved, {2} remain",
                brokerId, changed.size(), response.remainingPartitions.size());
        return response;
    }

    private List<Integer> replicasOf(TopicPartition tp) {
        return cluster.topics.get(tp.topic()).replicas().get(tp.partition());
    }

    /**
     * Kafka's checkAndTriggerAutoLeaderRebalance: per live broker, the share of the partitions it is preferred for
     * (first replica) that it does not lead; above leader.imbalance.per.broker.percentage, those whose preferred
     * replica is in the ISR get it back as leader.
     */
    void rebalanceLeaders(int imbalancePercentage) {
        try {
            Map<Integer, List<TopicPartition>> preferredOf = new HashMap<>();
            Map<Integer, List<TopicPartition>> notLeading = new HashMap<>();
            for (Map.Entry<TopicPartition, PartitionState> e : cluster.states.entrySet()) {
                TopicAssignment assignment = cluster.topics.get(e.getKey().topic());
                if (assignment == null) continue;
                int preferred = assignment.replicas().get(e.getKey().partition()).get(0);
                preferredOf.computeIfAbsent(preferred, b -> new ArrayList<>()).add(e.getKey());
                if (e.getValue().leader() != preferred) notLeading.computeIfAbsent(preferred, b -> new ArrayList<>()).add(e.getKey());
            }
            Set<TopicPartition> toMove = new java.util.LinkedHashSet<>();
            for (Map.Entry<Integer, List<TopicPartition>> e : notLeading.entrySet()) {
                if (!cluster.live.containsKey(e.getKey())) continue;
                double imbalance = 100.0 * e.getValue().size() / preferredOf.get(e.getKey()).size();
                if (imbalance <= imbalancePercentage) continue;
                for (TopicPartition tp : e.getValue()) {
                    if (cluster.states.get(tp).isr().contains(e.getKey())) toMove.add(tp);
                }
            }
            if (toMove.isEmpty()) return;
            LOG.log(System.Logger.Level.INFO, "Moving {0} partitions back to their preferred leaders", toMove.size());
            electLeaders(KafkaController.ElectionType.PREFERRED, toMove);
        } catch (Exception e) {
            throw new IllegalStateException("cannot rebalance leaders", e);
        }
    }
}
