package io.tandem.server.kafka.group.share;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * One share group as its coordinator keeps it: epochs, members, the share-partitions with state. Guarded by the
 * coordinator; the loaded share-partitions are the partition leaders' ({@link SharePartitionManager}).
 */
final class ShareGroup {
    final String groupId;
    /** As Kafka 4.4's groups, a new group starts at epoch 1, so its first member gets epoch 2. */
    int groupEpoch = 1;
    int assignmentEpoch;
    final Map<String, ShareGroupMember> members = new LinkedHashMap<>();
    /** The subscribed topics' ids and partition counts the assignment was computed from. */
    String topology = "";
    /** Share-partitions with state, by topic, as ShareGroupStatePartitionMetadata's InitializedTopics. */
    final Map<UUID, SortedSet<Integer>> initialized = new TreeMap<>();
    /**
     * Share-partitions a heartbeat is initializing at the share coordinator, outside the coordinator's lock, as
     * ShareGroupStatePartitionMetadata's InitializingTopics: another heartbeat meanwhile leaves them to it.
     */
    final Map<UUID, SortedSet<Integer>> initializing = new TreeMap<>();
    /**
     * Topics whose share-partitions' state is being deleted (DeleteGroups, DeleteShareGroupOffsets), as
     * ShareGroupStatePartitionMetadata's DeletingTopics: recorded before the share coordinator deletes it and kept
     * until it did, so a deletion the share coordinator refused, or one a restart cut short, is retried by the next
     * (with every partition of the topic, as Kafka's shareGroupBuildPartitionDeleteRequest does).
     */
    final Set<UUID> deleting = new TreeSet<>();
    /**
     * Topics whose deletion at the share coordinator is under way now (kept in memory only): a heartbeat leaves them
     * alone meanwhile rather than initialize state that the deletion then removes.
     */
    final Set<UUID> deletionsUnderWay = new TreeSet<>();

    ShareGroup(String groupId) {
        this.groupId = groupId;
    }

    String state() {
        return members.isEmpty() ? ShareGroupCoordinator.STATE_EMPTY : ShareGroupCoordinator.STATE_STABLE;
    }
}
