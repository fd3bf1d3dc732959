package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZnodeStore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * The requests Kafka's tools and older brokers leave in ZooKeeper for the controller, handled as Kafka 3.9's
 * controller handles them: {@code /admin/preferred_replica_election} (a preferred election, then the znode goes),
 * {@code /admin/reassign_partitions} (each partition starts moving; it leaves the znode when its move finishes or
 * fails, or when an AlterPartitionReassignments supersedes it, and the empty znode goes), and
 * {@code /isr_change_notification/isr_change_N} (a broker of an older protocol changed ISRs in ZooKeeper itself: the
 * states are read again and every broker told). Runs on the controller's event thread.
 */
final class AdminZnodes {
    private static final System.Logger LOG = System.getLogger(AdminZnodes.class.getName());
    private final ZnodeStore store;
    private final ControllerState cluster;
    private final Elections elections;
    private final ControllerRequests requests;

    AdminZnodes(ZnodeStore store, ControllerState cluster, Elections elections, ControllerRequests requests) {
        this.store = store;
        this.cluster = cluster;
        this.elections = elections;
        this.requests = requests;
    }

    void preferredElectionRequested() throws Exception {
        byte[] data = store.getData(KafkaZkLayout.PREFERRED_REPLICA_ELECTION);
        if (data == null) return;
        Set<TopicPartition> partitions = new LinkedHashSet<>(KafkaZkLayout.decodePartitionList(data));
        elections.electLeaders(KafkaController.ElectionType.PREFERRED, partitions);
        store.deleteRecursive(KafkaZkLayout.PREFERRED_REPLICA_ELECTION);
    }

    void reassignmentRequested(Reassignments moves) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.REASSIGN_PARTITIONS);
        if (data == null) return;
        Map<TopicPartition, List<Integer>> targets = KafkaZkLayout.decodeReassignment(data);
        Map<TopicPartition, KafkaController.ElectionResult> results = moves.reassign(targets);
        List<TopicPartition> failed = new ArrayList<>();
        results.forEach((tp, result) -> {
            if (result.error() != NONE) failed.add(tp);
        });
        if (!failed.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "Reassignment through ZooKeeper failed for {0}: {1}", failed,
                    failed.stream().map(tp -> results.get(tp).message()).toList());
            removeFromReassignment(failed);
        }
    }

    /** Partitions whose move finished, failed or was superseded leave {@code /admin/reassign_partitions}. */
    void removeFromReassignment(Collection<TopicPartition> partitions) throws Exception {
        byte[] data = store.getData(KafkaZkLayout.REASSIGN_PARTITIONS);
        if (data == null) return;
        LinkedHashMap<TopicPartition, List<Integer>> targets = KafkaZkLayout.decodeReassignment(data);
        if (!targets.keySet().removeAll(partitions)) return;
        if (targets.isEmpty()) {
            store.deleteRecursive(KafkaZkLayout.REASSIGN_PARTITIONS);
        } else {
            store.setData(KafkaZkLayout.REASSIGN_PARTITIONS, KafkaZkLayout.encodeReassignment(targets));
        }
    }

    void isrChangesNotified() throws Exception {
        Set<TopicPartition> changed = new LinkedHashSet<>();
        for (String child : store.getChildren(KafkaZkLayout.ISR_CHANGE_NOTIFICATION)) {
            String path = KafkaZkLayout.ISR_CHANGE_NOTIFICATION + "/" + child;
            byte[] data = store.getData(path);
            if (data != null) changed.addAll(KafkaZkLayout.decodePartitionList(data));
            store.deleteRecursive(path);
        }
        List<TopicPartition> known = new ArrayList<>();
        for (TopicPartition tp : changed) {
            if (cluster.replicas(tp) == null) continue;
            ZnodeStore.Versioned state = store.getVersioned(KafkaZkLayout.partitionStatePath(tp.topic(), tp.partition()));
            if (state == null) continue;
            cluster.states.put(tp, KafkaZkLayout.decodePartitionState(state.data()).withZkVersion(state.version()));
            known.add(tp);
        }
        if (!known.isEmpty()) requests.updateMetadata(cluster.live.keySet(), known);
    }
}
