package io.tandem.server.kafka.group.share;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
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

    ShareGroup(String groupId) {
        this.groupId = groupId;
    }

    String state() {
        return members.isEmpty() ? ShareGroupCoordinator.STATE_EMPTY : ShareGroupCoordinator.STATE_STABLE;
    }
}
