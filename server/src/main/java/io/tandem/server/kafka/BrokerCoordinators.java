package io.tandem.server.kafka;

import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.replica.ReplicaManager;

/**
 * The coordinators that follow this broker's replicas of their internal topics, as Kafka 3.9's broker drives them in
 * ZooKeeper mode: leading a {@code __consumer_offsets}, {@code __share_group_state} or {@code __transaction_state}
 * partition makes this broker the coordinator of what it holds (the partition loads: Kafka's onElection), and being
 * made a follower of one (LeaderAndIsr: Kafka's onLeadershipChange), or
 * deleting this broker's replica of one (StopReplica with delete: the topic was deleted, or the replica moved away),
 * unloads it (Kafka's onResignation). A group whose offsets partition this broker does not lead is answered
 * NOT_COORDINATOR (Kafka's isCoordinatorForGroup), so its clients find the new coordinator.
 */
final class BrokerCoordinators {
    private static final System.Logger LOG = System.getLogger(BrokerCoordinators.class.getName());
    private final KafkaBroker broker;
    private final BrokerGroups groups;

    /** Connects the coordinators to {@code replicas}' leadership changes. */
    BrokerCoordinators(KafkaBroker broker, BrokerGroups groups, ReplicaManager replicas) {
        this.broker = broker;
        this.groups = groups;
        groups.classic().leadership(broker.config().offsetsTopicPartitions(), this::leadsOffsetsPartition);
        replicas.becameLeaderListener(this::becameLeader);
        replicas.becameFollowerListener(partition -> resign(partition.topicPartition(), "this broker became a "
                + "follower of it"));
    }

    /**
     * Whether this broker leads the offsets partition, by its local replica's role (taken before the partition
     * loads, and never read from ZooKeeper). Before the offsets topic exists nobody leads it, so every group request
     * is NOT_COORDINATOR and makes no topic: only FindCoordinator creates {@code __consumer_offsets}, as in Kafka
     * 3.9 (GroupMetadataManager.isGroupLocal: no partition owned before one is loaded) and 4.x (the coordinator
     * runtime has no shard for the partition).
     */
    private boolean leadsOffsetsPartition(int index) {
        TopicInfo offsets = broker.metadata().knownTopic(TopicNames.CONSUMER_OFFSETS);
        return offsets != null && broker.isLeader(offsets, index);
    }

    /** LeaderAndIsr made this broker the partition's leader: a coordinator partition loads. */
    void becameLeader(Partition partition) {
        boolean offsets = partition.topicPartition().topic().equals(TopicNames.CONSUMER_OFFSETS);
        int index = partition.topicPartition().partition();
        // Until read, the partition's groups answer COORDINATOR_LOAD_IN_PROGRESS (Kafka's loadingPartitions).
        if (offsets) groups.classic().partitionLoading(index);
        broker.transactions().becameLeader(partition);
        try {
            groups.becameLeader(partition);
        } finally {
            if (offsets) groups.classic().partitionLoaded(index);
        }
    }

    /** This broker's replica of the partition was deleted: a coordinator partition unloads. */
    void replicaDeleted(TopicPartition tp) {
        resign(tp, "its replica here was deleted");
    }

    private void resign(TopicPartition tp, String why) {
        if (tp.topic().equals(TopicNames.CONSUMER_OFFSETS)) {
            int unloaded = groups.classic().unloadPartition(tp.partition(), broker.config().offsetsTopicPartitions());
            if (unloaded > 0) LOG.log(System.Logger.Level.INFO, "Unloaded {0} groups of {1}: {2}", unloaded, tp, why);
        } else if (tp.topic().equals(TopicNames.TRANSACTION_STATE)) {
            broker.transactions().resigned(tp.partition(), why);
        } else if (tp.topic().equals(TopicNames.SHARE_GROUP_STATE)) {
            // Kafka's onResignation: the state may hold records the new leader never got; it is reloaded from the
            // log if this broker leads the partition again.
            groups.shareState().unload(tp.partition());
            LOG.log(System.Logger.Level.INFO, "Unloaded the share state of {0}: {1}", tp, why);
        }
    }
}
