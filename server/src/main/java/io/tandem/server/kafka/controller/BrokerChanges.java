package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.TopicPartition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The controller's side of brokers coming and going, as Kafka 3.9's onBrokerStartup and onBrokerFailure: partitions
 * whose leader left get a new one from the live ISR or go offline, departed replicas leave the ISRs, a broker that
 * (re)registered is told everything and the others what changed. On the event thread only.
 */
final class BrokerChanges {
    private static final System.Logger LOG = System.getLogger(BrokerChanges.class.getName());
    private final int localBrokerId;
    private final ControllerState cluster;
    private final Elections elections;
    private final ControllerRequests requests;
    private final TopicDeletions deletions;

    BrokerChanges(int localBrokerId, ControllerState cluster, Elections elections, ControllerRequests requests,
                  TopicDeletions deletions) {
        this.localBrokerId = localBrokerId;
        this.cluster = cluster;
        this.elections = elections;
        this.requests = requests;
        this.deletions = deletions;
    }

    /** The live set was just read again; {@code before} is each broker's registration epoch before that. */
    void brokersChanged(Map<Integer, Long> before) throws Exception {
        Set<Integer> joined = new HashSet<>(cluster.live.keySet());
        // A broker that registered again (restarted before its old session ended: a new epoch) lost all its
        // roles: it is told everything again, as a newcomer.
        joined.removeIf(id -> before.containsKey(id) && before.get(id) == cluster.brokerEpoch(id));
        Set<Integer> departed = new HashSet<>(before.keySet());
        departed.removeAll(cluster.live.keySet());
        if (joined.isEmpty() && departed.isEmpty()) return;
        LOG.log(System.Logger.Level.INFO, "Controller {0}: brokers joined {1}, departed {2}", localBrokerId,
                joined, departed);
        deletions.brokersChanged(joined, departed);
        List<TopicPartition> changed = new ArrayList<>(elections.electLeadersForOfflinePartitions());
        changed.addAll(elections.markOffline(departed));
        changed.addAll(elections.removeFromIsr(departed));
        if (!joined.isEmpty()) {
            // Kafka 3.9's onBrokerStartup: before any LeaderAndIsr, the others learn of the newcomers (no partition
            // states) and the newcomers of every partition. An Apache broker takes a LeaderAndIsr's leader from its
            // metadata cache and will not follow one it does not know yet ("cannot become follower since the new
            // leader N is unavailable"): a restarted Apache broker stayed out of the ISR for good.
            Set<Integer> existing = new HashSet<>(cluster.live.keySet());
            existing.removeAll(joined);
            if (!existing.isEmpty()) requests.updateMetadata(existing, List.of());
            requests.updateMetadata(joined, cluster.states.keySet());
        }
        for (int broker : cluster.live.keySet()) {
            Collection<TopicPartition> partitions = joined.contains(broker) ? cluster.states.keySet() : changed;
            requests.leaderAndIsr(broker, cluster.partitionsOn(broker, partitions), joined.contains(broker));
        }
        requests.updateMetadata(cluster.live.keySet(), joined.isEmpty() ? changed : cluster.states.keySet());
    }
}
