package io.tandem.server.kafka.group.share;

import java.util.HashMap;
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
     * Share-partitions a heartbeat (or AlterShareGroupOffsets) is initializing at the share coordinator, outside the
     * coordinator's lock, as ShareGroupStatePartitionMetadata's InitializingTopics: another heartbeat meanwhile
     * leaves them to it, until group.share.initialize.retry.interval.ms after {@link #initializingSinceMs}.
     */
    final Map<UUID, SortedSet<Integer>> initializing = new TreeMap<>();
    /**
     * When each initializing topic was last set to initialize (or the group loaded with it), as Kafka 4.4's
     * InitMapValue timestamp: a heartbeat after the retry interval initializes its partitions again, since an
     * initialization that never ended (a coordinator that moved with it under way, an answer lost) would otherwise
     * keep them unassigned for good.
     */
    final Map<UUID, Long> initializingSinceMs = new TreeMap<>();
    /**
     * The heartbeat's initialization each share-partition of {@link #initializing} waits for now (memory only): an
     * older one that ends after a retry leaves the share-partition to the newer.
     */
    final Map<ShareSessions.Key, Object> initializingBy = new HashMap<>();
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

    /** Takes the share-partition out of the initializing set; whether it was there. */
    boolean initializingEnded(ShareSessions.Key k) {
        initializingBy.remove(k);
        SortedSet<Integer> busy = initializing.get(k.topicId());
        if (busy == null || !busy.remove(k.partition())) return false;
        if (busy.isEmpty()) {
            initializing.remove(k.topicId());
            initializingSinceMs.remove(k.topicId());
        }
        return true;
    }

    String state() {
        return members.isEmpty() ? ShareGroupCoordinator.STATE_EMPTY : ShareGroupCoordinator.STATE_STABLE;
    }
}
