package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Which share-partitions of a share group have state at the share coordinator, and the group's
 * ShareGroupStatePartitionMetadata record that says so. As Kafka 4.4's group coordinator, a heartbeat initializes
 * every partition of the group's subscribed topics that has no state yet (GroupMetadataManager's
 * maybeCreateInitializeShareGroupStateRequest, then persisterInitialize and initializeShareGroupState): the partitions
 * of a topic new to the group at start offset -1, which the share-partition resolves from share.auto.offset.reset
 * when it first loads, and new partitions of a topic the group already has at offset 0, so nothing produced to them
 * before a member fetches them is skipped. Called under the coordinator's lock.
 */
final class ShareStatePartitions {
    private static final System.Logger LOG = System.getLogger(ShareStatePartitions.class.getName());

    private final SharePersister persister;
    private final ShareGroupStore store;
    private final TopicsView topics;
    private final SharePartitionManager partitions;

    ShareStatePartitions(SharePersister persister, ShareGroupStore store, TopicsView topics,
                         SharePartitionManager partitions) {
        this.persister = persister;
        this.store = store;
        this.topics = topics;
        this.partitions = partitions;
    }

    /**
     * After a heartbeat's own records: the subscribed partitions without state are recorded as initializing (in the
     * heartbeat's batch, so a group deletion finds state the share coordinator may hold for them), initialized at the
     * share coordinator at the group epoch, then recorded as initialized. One the share coordinator refuses leaves
     * the initializing set (Kafka's uninitializeShareGroupState) and is tried again by the next heartbeat.
     */
    void initializeSubscribed(ShareGroup group, Collection<String> subscribedTopicNames) {
        Map<UUID, SortedSet<Integer>> toInitialize = new TreeMap<>();
        for (String name : new TreeSet<>(subscribedTopicNames)) {
            TopicRef topic = topics.byName(name);
            if (topic == null) continue;
            SortedSet<Integer> have = group.initialized.get(topic.id());
            for (int p = 0; p < topic.partitionCount(); p++) {
                if (have != null && have.contains(p)) continue;
                toInitialize.computeIfAbsent(topic.id(), k -> new TreeSet<>()).add(p);
            }
        }
        if (toInitialize.isEmpty()) return;
        store.statePartitions(group.groupId, new ShareGroupRecords.StatePartitionMetadata(
                topicPartitions(toInitialize), topicPartitions(group.initialized), List.of()));
        store.flush();
        for (Map.Entry<UUID, SortedSet<Integer>> e : toInitialize.entrySet()) {
            // Kafka's buildInitializeShareGroupStateRequest: 0 for a topic the group already initialized or is
            // initializing (partitions added to it), else uninitialized.
            long startOffset = group.initialized.containsKey(e.getKey()) ? 0
                    : ShareStateCoordinator.UNINITIALIZED_START_OFFSET;
            for (int p : e.getValue()) {
                try {
                    // State this group's record does not list (written before the record was, or not yet loaded
                    // when the group was) is kept: initializing over it would lose its in-flight records.
                    if (!hasState(persister.summary(group.groupId, e.getKey(), p))) {
                        persister.initialize(group.groupId, e.getKey(), p, group.groupEpoch, startOffset);
                    }
                } catch (ApiException ex) {
                    LOG.log(System.Logger.Level.WARNING, "Share-partition " + group.groupId + ":" + e.getKey() + ":"
                            + p + " not initialized, the next heartbeat tries again: " + ex.getMessage());
                    continue;
                }
                group.initialized.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(p);
            }
        }
        store.statePartitions(group.groupId, new ShareGroupRecords.StatePartitionMetadata(List.of(),
                topicPartitions(group.initialized), List.of()));
    }

    /**
     * A share-partition of the group has state now (first used, or its offsets altered): the record lists it among
     * the initialized topics. Written only when the set grows, unless {@code restoring} (the share coordinator's
     * state is then what the record would say). A write this broker cannot make (it does not lead the group's
     * offsets partition) is logged, the share-partition's own state being already stored.
     */
    void initialized(ShareGroup group, UUID topicId, int partition, boolean restoring) {
        if (!group.initialized.computeIfAbsent(topicId, k -> new TreeSet<>()).add(partition)) return;
        if (!restoring) write(group);
    }

    /** Writes the group's record as it stands now, and flushes it. */
    void write(ShareGroup group) {
        store.statePartitions(group.groupId, new ShareGroupRecords.StatePartitionMetadata(List.of(),
                topicPartitions(group.initialized), List.of()));
        try {
            store.flush();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING,
                    "Share group " + group.groupId + "'s share-partitions not recorded: " + e.getMessage());
        }
    }

    /** Whether the share coordinator holds state for it (a start offset, or an initialization at -1). */
    static boolean hasState(SharePersister.Stored stored) {
        return stored.startOffset() >= 0 || stored.stateEpoch() != ShareStateCoordinator.DEFAULT_STATE_EPOCH;
    }

    /** The start offset of every share-partition with state: a loaded one's own, else the stored one (maybe -1). */
    List<ShareGroupCoordinator.PartitionOffset> offsets(ShareGroup group, long nowMs) {
        List<ShareGroupCoordinator.PartitionOffset> result = new ArrayList<>();
        for (ShareSessions.Key k : withState(group)) {
            SharePartition p = partitions.loaded(group.groupId, k.topicId(), k.partition());
            long start;
            if (p != null) {
                p.expireLocks(nowMs);
                start = p.startOffset();
            } else {
                try {
                    start = persister.summary(group.groupId, k.topicId(), k.partition()).startOffset();
                } catch (ApiException e) {
                    start = ShareStateCoordinator.UNINITIALIZED_START_OFFSET;
                }
            }
            result.add(new ShareGroupCoordinator.PartitionOffset(k.topicId(), k.partition(), start));
        }
        // By topic and partition: which of them happen to be loaded on this broker must not change the answer.
        result.sort(java.util.Comparator.comparing(ShareGroupCoordinator.PartitionOffset::topicId)
                .thenComparingInt(ShareGroupCoordinator.PartitionOffset::partition));
        return result;
    }

    /** Every share-partition of the group that may have state: those in use here and those initialized. */
    Set<ShareSessions.Key> withState(ShareGroup group) {
        Set<ShareSessions.Key> keys = new LinkedHashSet<>(partitions.ofGroup(group.groupId).keySet());
        for (Map.Entry<UUID, SortedSet<Integer>> e : group.initialized.entrySet()) {
            for (int p : e.getValue()) keys.add(new ShareSessions.Key(e.getKey(), p));
        }
        return keys;
    }

    private List<ShareGroupRecords.TopicPartitions> topicPartitions(Map<UUID, SortedSet<Integer>> byTopic) {
        List<ShareGroupRecords.TopicPartitions> result = new ArrayList<>();
        for (Map.Entry<UUID, SortedSet<Integer>> e : byTopic.entrySet()) {
            TopicRef topic = topics.byId(e.getKey());
            result.add(new ShareGroupRecords.TopicPartitions(e.getKey(), topic == null ? "" : topic.name(),
                    List.copyOf(e.getValue())));
        }
        return result;
    }
}
