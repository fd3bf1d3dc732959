package io.tandem.server.kafka.group.share;

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
import java.util.concurrent.CompletableFuture;

/**
 * Which share-partitions of a share group have state at the share coordinator, and the group's
 * ShareGroupStatePartitionMetadata record that says so. As Kafka 4.4's group coordinator, a heartbeat initializes
 * every partition of the group's subscribed topics that has no state yet (GroupMetadataManager's
 * maybeCreateInitializeShareGroupStateRequest, then persisterInitialize and initializeShareGroupState): the partitions
 * of a topic new to the group at start offset -1, which the share-partition resolves from share.auto.offset.reset
 * when it first loads, and new partitions of a topic the group already has at offset 0, so nothing produced to them
 * before a member fetches them is skipped. The share coordinator is called without the group coordinator's lock (a
 * slow or unreachable one holds up no other group's heartbeat): {@link #plan} and {@link #finish} run under it,
 * {@link #initialize} between them, asynchronously. As Kafka 4.4's GroupCoordinatorService, which completes the
 * heartbeat with its shard write and runs persisterInitialize in a timer task, the heartbeat is answered once
 * {@link #plan} is recorded, and the rest ({@link #initializeAndRecord}) runs after it.
 */
final class ShareStatePartitions {
    private static final System.Logger LOG = System.getLogger(ShareStatePartitions.class.getName());

    private final SharePersister persister;
    private final ShareGroupStore store;
    private final TopicsView topics;
    private final SharePartitionManager partitions;

    /**
     * The coordinator's time as its last operation gave it (a heartbeat, a tick, a load, an admin call): what a
     * record written later without one of its own (an initialization's outcome) stamps the initializing topics with,
     * as Kafka's replay reads its shard's clock. Guarded by the coordinator's lock.
     */
    private long nowMs;

    ShareStatePartitions(SharePersister persister, ShareGroupStore store, TopicsView topics,
                         SharePartitionManager partitions) {
        this.persister = persister;
        this.store = store;
        this.topics = topics;
        this.partitions = partitions;
    }

    /** Share-partitions a heartbeat initializes: each with the start offset to initialize it at, and the epoch. */
    record Plan(ShareGroup group, int groupEpoch, Map<ShareSessions.Key, Long> startOffsets) {
    }

    /**
     * After a heartbeat's own records, under the coordinator's lock: the subscribed partitions without state (and
     * not being initialized by another heartbeat) are recorded as initializing (in the heartbeat's batch, so a
     * group deletion finds state the share coordinator may hold for them). Null when there are none. As Kafka 4.4's
     * subscribedTopicsChangeMap, a topic set to initialize {@code retryIntervalMs} or more before {@code nowMs}
     * (group.share.initialize.retry.interval.ms) is stuck: its partitions still initializing are initialized again,
     * at start offset 0 as Kafka's request builder gives every topic already in the initializing set.
     */
    Plan plan(ShareGroup group, Collection<String> subscribedTopicNames, long nowMs, long retryIntervalMs) {
        observe(nowMs);
        Map<ShareSessions.Key, Long> startOffsets = new java.util.LinkedHashMap<>();
        for (String name : new TreeSet<>(subscribedTopicNames)) {
            TopicRef topic = topics.byName(name);
            if (topic == null || group.deletionsUnderWay.contains(topic.id())) continue;
            SortedSet<Integer> have = group.initialized.get(topic.id());
            SortedSet<Integer> busy = group.initializing.get(topic.id());
            Long since = group.initializingSinceMs.get(topic.id());
            boolean stuck = busy != null && (since == null || nowMs - since >= retryIntervalMs);
            // Kafka's buildInitializeShareGroupStateRequest: 0 for a topic the group already initialized or is
            // initializing (partitions added to it, or a stuck initialization), else uninitialized.
            long startOffset = have != null || busy != null ? 0 : ShareStateCoordinator.UNINITIALIZED_START_OFFSET;
            for (int p = 0; p < topic.partitionCount(); p++) {
                if (have != null && have.contains(p) || busy != null && busy.contains(p) && !stuck) continue;
                startOffsets.put(new ShareSessions.Key(topic.id(), p), startOffset);
            }
        }
        if (startOffsets.isEmpty()) return null;
        Plan plan = new Plan(group, group.groupEpoch, startOffsets);
        for (ShareSessions.Key k : startOffsets.keySet()) {
            SortedSet<Integer> already = group.initializing.get(k.topicId());
            if (already != null && already.contains(k.partition())) {
                LOG.log(System.Logger.Level.INFO, "Share-partition " + group.groupId + ":" + k.topicId() + ":"
                        + k.partition() + " still initializing after " + retryIntervalMs + " ms: initializing again");
            }
            group.initializing.computeIfAbsent(k.topicId(), t -> new TreeSet<>()).add(k.partition());
            group.initializingSinceMs.put(k.topicId(), nowMs);
            group.initializingBy.put(k, plan);
            // Kafka's addInitializingTopicsRecords: a topic initialized again is no longer being deleted.
            group.deleting.remove(k.topicId());
        }
        writeRecord(group);
        return plan;
    }

    /**
     * Without the coordinator's lock: initializes the plan's share-partitions at the share coordinator, at the
     * group epoch; completes with those that have state now, once every one has answered (never exceptionally), with
     * no thread waiting meanwhile. State this group's record does not list (written before the record was, or not
     * yet loaded when the group was) is kept: initializing over it would lose its in-flight records. One the share
     * coordinator refuses is tried again by the next heartbeat.
     */
    CompletableFuture<Set<ShareSessions.Key>> initialize(Plan plan) {
        Set<ShareSessions.Key> done = java.util.Collections.synchronizedSet(new LinkedHashSet<>());
        String groupId = plan.group().groupId;
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (Map.Entry<ShareSessions.Key, Long> e : plan.startOffsets().entrySet()) {
            ShareSessions.Key k = e.getKey();
            calls.add(persister.summaryAsync(groupId, k.topicId(), k.partition())
                    .thenCompose(stored -> hasState(stored) ? CompletableFuture.<Void>completedFuture(null)
                            : persister.initializeAsync(groupId, k.topicId(), k.partition(), plan.groupEpoch(),
                                    e.getValue()))
                    .handle((v, ex) -> {
                        if (ex == null) {
                            done.add(k);
                        } else {
                            LOG.log(System.Logger.Level.WARNING, "Share-partition " + groupId + ":" + k.topicId()
                                    + ":" + k.partition() + " not initialized, the next heartbeat tries again: "
                                    + SharePartitionWriter.unwrap(ex).getMessage());
                        }
                        return null;
                    }));
        }
        return CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0]))
                .thenApply(v -> {
                    // In the plan's order, whichever answered first.
                    Set<ShareSessions.Key> ordered = new LinkedHashSet<>();
                    for (ShareSessions.Key k : plan.startOffsets().keySet()) if (done.contains(k)) ordered.add(k);
                    return ordered;
                });
    }

    /**
     * After the heartbeat was answered, without the coordinator's lock: {@code beforeStateInitialization} makes sure
     * of the share coordinator's topic, the plan's share-partitions are initialized ({@link #initialize}), and the
     * outcome is recorded under {@code lock} ({@link #record}). Never throws: what fails is logged and left to the
     * next heartbeat, as Kafka's timer task logs "Persister initialization failed".
     */
    void initializeAndRecord(Plan plan, Runnable beforeStateInitialization, Object lock,
                             java.util.function.BooleanSupplier groupStillThere) {
        String groupId = plan.group().groupId;
        try {
            beforeStateInitialization.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "Share group " + groupId + ": the share coordinator's topic is not "
                    + "there to initialize share-partitions: " + e.getMessage());
        }
        CompletableFuture<Set<ShareSessions.Key>> done;
        try {
            done = initialize(plan);
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        done.whenComplete((keys, failure) -> {
            if (failure != null) {
                LOG.log(System.Logger.Level.WARNING, "Share group " + groupId
                        + ": share-partitions not initialized, the next heartbeat tries again: " + failure);
            }
            record(plan, failure == null ? keys : Set.of(), lock, groupStillThere);
        });
    }

    /**
     * Under {@code lock} (the coordinator's): {@link #finish} and the record's write; a write this broker can no
     * longer make (it stopped leading the group's offsets partition meanwhile) is logged.
     */
    void record(Plan plan, Set<ShareSessions.Key> done, Object lock,
                java.util.function.BooleanSupplier groupStillThere) {
        try {
            synchronized (lock) {
                finish(plan, done, groupStillThere.getAsBoolean());
                store.flush();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "Share group " + plan.group().groupId
                    + "'s initialized share-partitions not recorded: " + e.getMessage());
        }
    }

    /**
     * Under the coordinator's lock again: the plan's share-partitions leave the initializing set (Kafka's
     * uninitializeShareGroupState for those refused), those with state join the initialized ones unless their topic
     * went meanwhile, and the record says so. A group deleted meanwhile is left alone.
     */
    void finish(Plan plan, Set<ShareSessions.Key> done, boolean groupStillThere) {
        ShareGroup group = plan.group();
        for (ShareSessions.Key k : plan.startOffsets().keySet()) {
            // A share-partition initialized again since (this initialization was stuck) is left to that one unless
            // this one gave it state; one an admin operation holds now is the operation's.
            if (done.contains(k) || group.initializingBy.get(k) == plan) group.initializingEnded(k);
        }
        if (!groupStillThere) return;
        for (ShareSessions.Key k : done) {
            if (topics.byId(k.topicId()) == null) continue;
            group.initialized.computeIfAbsent(k.topicId(), t -> new TreeSet<>()).add(k.partition());
        }
        writeRecord(group);
    }

    /** Under the coordinator's lock: the time of the coordinator's operation under way. */
    void observe(long nowMs) {
        this.nowMs = nowMs;
    }

    /**
     * Writes the group's ShareGroupStatePartitionMetadata record. As Kafka 4.4's GroupMetadataManager replays every
     * record it writes, and its replay of this one stamps each initializing topic with the time of the write, every
     * write restamps all the group's initializing topics: an initialization is retried
     * group.share.initialize.retry.interval.ms after the group's last such record, not after its own start.
     */
    private void writeRecord(ShareGroup group) {
        for (UUID topicId : group.initializing.keySet()) group.initializingSinceMs.put(topicId, nowMs);
        List<ShareGroupRecords.TopicInfo> deleting = new ArrayList<>();
        for (UUID id : group.deleting) {
            TopicRef topic = topics.byId(id);
            deleting.add(new ShareGroupRecords.TopicInfo(id, topic == null ? "" : topic.name()));
        }
        store.statePartitions(group.groupId, new ShareGroupRecords.StatePartitionMetadata(
                topicPartitions(group.initializing), topicPartitions(group.initialized), deleting));
    }

    /**
     * Under the coordinator's lock, before the share coordinator deletes the state of {@code topicIds} (null: all
     * the group's): they leave the initialized and initializing sets and join the deleting ones, and the record says
     * so, as Kafka's shareGroupBuildPartitionDeleteRequest and sharePartitionsEligibleForOffsetDeletion write it.
     * Returns the share-partitions to delete: those with state here, and every partition of a topic a deletion
     * left in the deleting set before.
     */
    Set<ShareSessions.Key> startDeleting(ShareGroup group, Set<UUID> topicIds) {
        Set<ShareSessions.Key> keys = new LinkedHashSet<>();
        for (ShareSessions.Key k : withState(group)) {
            if (topicIds == null || topicIds.contains(k.topicId())) keys.add(k);
        }
        for (UUID id : group.deleting) {
            if (topicIds != null && !topicIds.contains(id)) continue;
            TopicRef topic = topics.byId(id);
            if (topic == null) continue; // the topic's deletion took its state with it
            for (int p = 0; p < topic.partitionCount(); p++) keys.add(new ShareSessions.Key(id, p));
        }
        for (ShareSessions.Key k : keys) {
            group.deleting.add(k.topicId());
            group.deletionsUnderWay.add(k.topicId());
        }
        group.initialized.keySet().removeIf(id -> topicIds == null || topicIds.contains(id));
        if (topicIds == null) {
            group.initializing.clear();
            group.initializingSinceMs.clear();
            group.initializingBy.clear();
        }
        write(group);
        return keys;
    }

    /**
     * Under the coordinator's lock again, once the share coordinator answered: if it deleted their state
     * ({@code done}) they leave the deleting set (Kafka's completeDeleteShareGroupOffsets); if not they stay in it,
     * for the next deletion to try again. Either way heartbeats may initialize them again from now on.
     */
    void deletionEnded(ShareGroup group, Set<UUID> topicIds, boolean done) {
        group.deletionsUnderWay.removeAll(topicIds);
        if (done && group.deleting.removeAll(topicIds)) write(group);
    }

    /**
     * A share-partition of the group has state now (first used, or its offsets altered): the record lists it among
     * the initialized topics. Written only when the set grows, unless {@code restoring} (the share coordinator's
     * state is then what the record would say). A write this broker cannot make (it does not lead the group's
     * offsets partition) is logged, the share-partition's own state being already stored.
     */
    void initialized(ShareGroup group, UUID topicId, int partition, boolean restoring) {
        boolean wasDeleting = group.deleting.remove(topicId);
        if (!group.initialized.computeIfAbsent(topicId, k -> new TreeSet<>()).add(partition) && !wasDeleting) return;
        if (!restoring) write(group);
    }

    /** Writes the group's record as it stands now, and flushes it. */
    void write(ShareGroup group) {
        writeRecord(group);
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

    /**
     * The start offset and delivery-complete count of each of the group's share-partitions with state
     * ({@link #withState}, taken under the coordinator's lock): a loaded one's own, else the stored ones (maybe -1). Called without the coordinator's
     * lock; completes once every share coordinator asked has answered, with no thread waiting meanwhile (a loaded
     * share-partition's expired locks are written without waiting either).
     */
    CompletableFuture<List<ShareGroupCoordinator.PartitionOffset>> offsets(String groupId,
                                                                          Set<ShareSessions.Key> withState,
                                                                          long nowMs) {
        List<CompletableFuture<ShareGroupCoordinator.PartitionOffset>> answers = new ArrayList<>();
        for (ShareSessions.Key k : withState) {
            SharePartition p = partitions.loaded(groupId, k.topicId(), k.partition());
            Integer loadedEpoch = partitions.loadedLeaderEpoch(groupId, k.topicId(), k.partition());
            if (p != null && loadedEpoch != null) {
                p.expireLocks(nowMs);
                SharePartition.Progress progress = p.progress();
                answers.add(CompletableFuture.completedFuture(new ShareGroupCoordinator.PartitionOffset(k.topicId(),
                        k.partition(), progress.startOffset(), progress.deliveryCompleteCount(), loadedEpoch)));
                continue;
            }
            // As Kafka 4.4's computeShareGroupLagAndBuildResponse: a summary that failed answers start offset -1 and
            // leader epoch 0, without lag.
            answers.add(persister.summaryAsync(groupId, k.topicId(), k.partition())
                    .handle((stored, e) -> e == null
                            ? new ShareGroupCoordinator.PartitionOffset(k.topicId(), k.partition(),
                                    stored.startOffset(), stored.deliveryCompleteCount(), stored.leaderEpoch())
                            : new ShareGroupCoordinator.PartitionOffset(k.topicId(), k.partition(),
                                    ShareStateCoordinator.UNINITIALIZED_START_OFFSET,
                                    SharePersister.UNKNOWN_DELIVERY_COMPLETE_COUNT,
                                    ShareStateCoordinator.INITIAL_LEADER_EPOCH)));
        }
        return CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<ShareGroupCoordinator.PartitionOffset> result = new ArrayList<>();
            for (CompletableFuture<ShareGroupCoordinator.PartitionOffset> a : answers) result.add(a.join());
            // By topic and partition: which of them happen to be loaded on this broker must not change the answer.
            result.sort(java.util.Comparator.comparing(ShareGroupCoordinator.PartitionOffset::topicId)
                    .thenComparingInt(ShareGroupCoordinator.PartitionOffset::partition));
            return result;
        });
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
