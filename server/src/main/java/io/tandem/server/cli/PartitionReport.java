package io.tandem.server.cli;

import io.tandem.kafka.client.PartitionInfo;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * kafka-topics.sh's replication reports for {@code topics describe}: with any of them, only the partitions that match
 * at least one are shown, without the topics' header lines, as Kafka's TopicCommand prints them. The conditions are
 * Kafka's own (TopicCommand.PartitionDescription): the replica count here is the replica list's, as no reassignment
 * is read.
 */
final class PartitionReport {
    /** The topic config whose effective value the two min-ISR reports compare the ISR with. */
    static final String MIN_IN_SYNC_REPLICAS = "min.insync.replicas";

    @Option(names = "--under-replicated-partitions",
            description = "Only partitions whose ISR is smaller than their replica list.")
    boolean underReplicated;

    @Option(names = "--unavailable-partitions",
            description = "Only partitions without a leader, or whose leader is not a live broker.")
    boolean unavailable;

    @Option(names = "--under-min-isr-partitions",
            description = "Only partitions without a leader or whose ISR is smaller than min.insync.replicas.")
    boolean underMinIsr;

    @Option(names = "--at-min-isr-partitions",
            description = "Only partitions whose ISR size equals min.insync.replicas.")
    boolean atMinIsr;

    /** Whether any report was asked for; without one every partition is shown. */
    boolean any() {
        return underReplicated || unavailable || underMinIsr || atMinIsr;
    }

    /** Whether the reports need each topic's effective min.insync.replicas. */
    boolean needsMinIsr() {
        return underMinIsr || atMinIsr;
    }

    /**
     * Whether {@code partition} is shown: always without a report, else when it matches one of those asked for.
     * {@code minIsr} is the topic's effective min.insync.replicas (read only when {@link #needsMinIsr()}).
     */
    boolean shows(PartitionInfo partition, Set<Integer> liveBrokers, int minIsr) {
        if (!any()) {
            return true;
        }
        boolean hasLeader = partition.leader() >= 0;
        int isr = partition.isr().size();
        return underReplicated && partition.replicas().size() - isr > 0
                || unavailable && (!hasLeader || !liveBrokers.contains(partition.leader()))
                || underMinIsr && (!hasLeader || isr < minIsr)
                || atMinIsr && isr == minIsr;
    }
}
