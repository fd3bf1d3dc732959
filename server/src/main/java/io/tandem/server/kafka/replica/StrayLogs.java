package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.LeaderAndIsrRequest.LeaderAndIsrPartitionState;
import io.tandem.server.kafka.TopicPartition;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A full LeaderAndIsr names every partition this broker hosts: a log on disk for any other partition is a stray,
 * left by a topic deleted or a replica moved away while this broker was down or cut off (the StopReplica that should
 * have deleted it never came), and is deleted, as Kafka's brokers do with strays on a full LeaderAndIsr from a KRaft
 * controller (ReplicaManager.findStrayPartitionsFromLeaderAndIsr). Without it the stray stays on disk for good, and a
 * later replica of that partition would start from its old records.
 */
final class StrayLogs {
    private static final System.Logger LOG = System.getLogger(StrayLogs.class.getName());

    private StrayLogs() {
    }

    /**
     * Deletes every log in {@code logs} that {@code states} (a full LeaderAndIsr's) does not give {@code localBrokerId};
     * {@code stopFetching} runs first for each.
     */
    static void delete(ReplicaManager.LocalLogs logs, int localBrokerId, List<LeaderAndIsrPartitionState> states,
                       Consumer<TopicPartition> stopFetching) {
        Set<TopicPartition> hosted = new HashSet<>();
        for (LeaderAndIsrPartitionState state : states) {
            if (state.replicas.contains(localBrokerId)) hosted.add(new TopicPartition(state.topicName, state.partitionIndex));
        }
        Collection<TopicPartition> onDisk;
        try {
            onDisk = logs.onDisk();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot list the logs to find strays: " + e);
            return;
        }
        for (TopicPartition tp : onDisk) {
            if (hosted.contains(tp)) continue;
            LOG.log(System.Logger.Level.WARNING, "Deleting the log of {0}: the controller does not give this broker "
                    + "that partition (a replica left behind by a deletion or a move)", tp);
            stopFetching.accept(tp);
            try {
                logs.delete(tp);
            } catch (UncheckedIOException e) {
                LOG.log(System.Logger.Level.WARNING, "Cannot delete stray log " + tp + ": " + e.getCause());
            }
        }
    }
}
