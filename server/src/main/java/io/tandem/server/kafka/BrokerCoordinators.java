package io.tandem.server.kafka;

import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.TopicNames;

/**
 * The coordinators that follow this broker's replicas of their internal topics, as Kafka 3.9's broker drives them in
 * ZooKeeper mode: leading a {@code __consumer_offsets}, {@code __share_group_state} or {@code __transaction_state}
 * partition makes this broker the coordinator of what it holds (the partition loads: Kafka's onElection), and
 * deleting this broker's replica of an offsets or transaction-state partition (StopReplica with delete: the topic
 * was deleted, or the replica moved away) unloads it (Kafka's onResignation, from handleStopReplicaRequest).
 */
final class BrokerCoordinators {
    private static final System.Logger LOG = System.getLogger(BrokerCoordinators.class.getName());
    private final KafkaBroker broker;
    private final BrokerGroups groups;

    BrokerCoordinators(KafkaBroker broker, BrokerGroups groups) {
        this.broker = broker;
        this.groups = groups;
    }

    /** LeaderAndIsr made this broker the partition's leader: a coordinator partition loads. */
    void becameLeader(Partition partition) {
        if (partition.topicPartition().topic().equals(TopicNames.CONSUMER_OFFSETS)) {
            groups.classic().partitionLoaded(partition.topicPartition().partition());
        }
        broker.transactions().becameLeader(partition);
        groups.becameLeader(partition);
    }

    /** This broker's replica of the partition was deleted: a coordinator partition unloads. */
    void replicaDeleted(TopicPartition tp) {
        if (tp.topic().equals(TopicNames.CONSUMER_OFFSETS)) {
            int unloaded = groups.classic().unloadPartition(tp.partition(), broker.config().offsetsTopicPartitions());
            LOG.log(System.Logger.Level.INFO, "Unloaded {0} groups of {1}: its replica here was deleted", unloaded, tp);
        } else if (tp.topic().equals(TopicNames.TRANSACTION_STATE)) {
            broker.transactions().replicaDeleted(tp.partition());
        }
    }
}
