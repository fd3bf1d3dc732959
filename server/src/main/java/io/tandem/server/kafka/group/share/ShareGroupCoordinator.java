package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.consumer.TopicsView;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share group coordinator (KIP-932): its share groups, their membership ({@link ShareGroupMembership}:
 * ShareGroupHeartbeat, the group epoch, the "simple" server-side assignment, called under this lock), and each group's
 * share-partitions ({@link SharePartition}) with their acquisition locks, held by this broker's
 * {@link SharePartitionManager} for the partitions it leads (on a cluster, other brokers' managers hold the rest,
 * and their leaders serve ShareFetch and ShareAcknowledge for them). A share group
 * has no reconciliation: a member's assignment is the target at once, and its epoch is the group's assignment epoch.
 * Share-partition state (start offsets, in-flight records, delivery counts) is kept through a {@link SharePersister}
 * (the share coordinator on __share_group_state): initialized when a heartbeat subscribes the group to it
 * ({@link ShareStatePartitions}, as Kafka 4.4), read when a share-partition is first used, written on every change.
 * Groups and members are durable as Kafka 4.4 keeps them ({@link ShareGroupStore}: the ShareGroup* records of
 * {@code __consumer_offsets}), so after a restart a member carries on at its epoch, with a fresh session timeout, as
 * Kafka's coordinator schedules one for every member it loads. Time comes in as {@code nowMs}, so tests drive it.
 * This lock, which every share group request takes, is never held across a call to the share coordinator (another
 * broker, or a disk write): heartbeats initialize share-partitions after it ({@link ShareStatePartitions}), the admin
 * APIs check and apply under it and call between ({@link ShareGroupAdmin}), and a removed member's records are
 * released once it is released ({@link #releaseLeft}). Nor does any thread wait for the share coordinator: the
 * request handlers use the {@code ...Async} forms, answered from the persister's completion (the synchronous forms
 * wait for those, for tests).
 */
public final class ShareGroupCoordinator {
    /** ShareGroupHeartbeat's MemberEpoch meaning "leave the group". */
    public static final int LEAVE_GROUP_MEMBER_EPOCH = -1;
    public static final String STATE_EMPTY = "Empty";
    public static final String STATE_STABLE = "Stable";
    public static final String STATE_DEAD = "Dead";

    private static final System.Logger LOG = System.getLogger(ShareGroupCoordinator.class.getName());
    private final ShareGroupConfig config;
    private final TopicsView topics;
    /** Whether a classic or consumer group holds the id: a group id is of one kind at a time. */
    private final Predicate<String> otherKind;
    private final ShareSessions sessions;
    private final SharePersister persister;
    private final ShareGroupStore store;
    private final ShareStatePartitions statePartitions;
    private final ShareGroupMembership membership;
    private final SharePartitionManager partitions;
    private final ShareGroupAdmin admin;
    /** The groups replayed since the last {@link #loaded}: their members' timers start then. */
    private final java.util.Set<String> replayed = new java.util.LinkedHashSet<>();
    private boolean restoring;
    /** A group's settings: the broker's under its group-level configs (ConfigResource GROUP). */
    private java.util.function.Function<String, ShareGroupConfig> configFor;
    /**
     * Where a heartbeat's share-partition initialization runs once the heartbeat is answered, as Kafka 4.4's
     * GroupCoordinatorService hands persisterInitialize to its timer (a TimerTask of delay 0) and completes the
     * heartbeat at once. Directly on the caller until set (unit tests: the state is there when the call returns);
     * the broker gives it a thread of its own, with a bounded queue.
     */
    private volatile java.util.concurrent.Executor initializations = Runnable::run;
    /** Volatile: ShareFetch asks it without this lock (a heartbeat may hold it across a share coordinator call). */
    private volatile Predicate<String> coordinatedHere = groupId -> true;
    /**
     * NONE, or what a request about the group gets here because of its {@code __consumer_offsets} partition:
     * NOT_COORDINATOR (not led here) or COORDINATOR_LOAD_IN_PROGRESS (still loading); NONE for all until set.
     */
    private volatile java.util.function.ToIntFunction<String> coordinatorError = groupId -> NONE;
    private final Map<String, ShareGroup> groups = new LinkedHashMap<>();
    /**
     * Members removed (left, or timed out) under this lock, as group and member id, whose records in the
     * share-partitions led here go back once it is released ({@link #releaseLeft}): a release is written to the
     * share coordinator, which may stall, and every group request needs this lock. Drained by whichever request
     * releases the lock next, so it holds only the members removed since.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<String[]> left =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    public ShareGroupCoordinator(ShareGroupConfig config, TopicsView topics, Predicate<String> otherKind) {
        this(config, topics, otherKind, SharePersister.NONE);
    }

    public ShareGroupCoordinator(ShareGroupConfig config, TopicsView topics, Predicate<String> otherKind,
                                 SharePersister persister) {
        this(config, topics, otherKind, persister, ShareGroupStore.IN_MEMORY);
    }

    public ShareGroupCoordinator(ShareGroupConfig config, TopicsView topics, Predicate<String> otherKind,
                                 SharePersister persister, ShareGroupStore store) {
        this.persister = persister;
        this.store = store;
        this.config = config;
        this.configFor = groupId -> config;
        this.topics = topics;
        this.otherKind = otherKind;
        this.sessions = new ShareSessions(config.maxShareSessions());
        this.partitions = new SharePartitionManager(persister, sessions, groupId -> this.configFor.apply(groupId));
        this.statePartitions = new ShareStatePartitions(persister, store, topics, partitions);
        this.membership = new ShareGroupMembership(config, groupId -> this.configFor.apply(groupId), topics, otherKind,
                groups, store, (groupId, memberId) -> left.add(new String[] {groupId, memberId}));
        this.admin = new ShareGroupAdmin(this, groups, otherKind, persister, store, statePartitions, partitions);
        partitions.listener(this::partitionLoaded);
    }

    /** This broker's share-partitions, of the partitions it leads (ShareFetch and ShareAcknowledge). */
    public SharePartitionManager partitions() {
        return partitions;
    }

    /** Whether this broker coordinates the group (leads its offsets partition), whether or not it exists. */
    public boolean coordinates(String groupId) {
        return coordinatedHere.test(groupId);
    }

    public ShareGroupConfig config() {
        return config;
    }

    /** The settings of one group: its group configs over the broker's. */
    public ShareGroupConfig config(String groupId) {
        return configFor.apply(groupId);
    }

    /**
     * Which groups this broker coordinates (leads their {@code __consumer_offsets} partition); all until set. On a
     * cluster a share coordinator holds state of groups coordinated elsewhere: those are not restored here.
     */
    public synchronized void coordinates(Predicate<String> coordinatedHere) {
        this.coordinatedHere = coordinatedHere;
    }

    /** Where the group coordinator's view of the groups' offsets partitions comes from (NONE for all until set). */
    public void coordinatorErrors(java.util.function.ToIntFunction<String> coordinatorError) {
        this.coordinatorError = coordinatorError;
    }

    /** NONE, or the error a request about the group gets here: NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
    public short coordinatorError(String groupId) {
        return (short) coordinatorError.applyAsInt(groupId);
    }

    /**
     * Where heartbeats' share-partition initializations run after the heartbeat is answered (directly on the
     * caller until set). One it refuses (its queue full) leaves those share-partitions for the next heartbeat.
     */
    public void initializations(java.util.concurrent.Executor executor) {
        this.initializations = Objects.requireNonNull(executor);
    }

    /** Where the group-level settings come from (the broker's alone until set). */
    public synchronized void groupConfigs(java.util.function.Function<String, ShareGroupConfig> configFor) {
        this.configFor = configFor;
    }

    public ShareSessions sessions() {
        return sessions;
    }

    /** A ShareGroupHeartbeat request, independent of the wire classes. */
    public record HeartbeatRequest(String groupId, String memberId, int memberEpoch, String rackId,
                                   List<String> subscribedTopicNames, String clientId, String clientHost) {
    }

    /** The answer: the member's id and epoch, and its assignment when the member must be told (else null). */
    public record HeartbeatResult(String memberId, int memberEpoch, int heartbeatIntervalMs,
                                  Map<UUID, SortedSet<Integer>> assignment) {
    }

    /** A member as ShareGroupDescribe shows it (copies). */
    public record MemberDescription(String memberId, String rackId, int memberEpoch, String clientId,
                                    String clientHost, List<String> subscribedTopicNames,
                                    Map<UUID, SortedSet<Integer>> assignment) {
    }

    /** ShareGroupDescribe's view of a group; {@code error} GROUP_ID_NOT_FOUND for an unknown or other-kind id. */
    public record Description(short error, String errorMessage, String state, int groupEpoch, int assignmentEpoch,
                              String assignorName, List<MemberDescription> members) {
    }

    /**
     * One share-partition's start offset and delivery-complete count (-1 unknown), for DescribeShareGroupOffsets'
     * lag, and the leader epoch it answers: the share state's (Kafka 4.4 takes it from ReadShareGroupStateSummary,
     * not from the end offset's lookup).
     */
    public record PartitionOffset(UUID topicId, int partition, long startOffset, int deliveryCompleteCount,
                                  int leaderEpoch) {
    }

    // ---------------------------------------------------------------- ShareGroupHeartbeat

    /**
     * Handles one heartbeat and waits for its answer: {@link #heartbeatAsync} for callers that may wait (tests).
     */
    public HeartbeatResult heartbeat(HeartbeatRequest request, long nowMs) {
        return SharePersister.await(heartbeatAsync(request, nowMs));
    }

    /**
     * Handles one heartbeat; a refused one fails with {@link ApiException}, Kafka's error and message. As Kafka 4.4,
     * the share-partitions the group is subscribed to get state now, not on first fetch, but the heartbeat does not
     * wait for it: its answer completes once its own records are written, and the share coordinator is called
     * afterwards, without this lock, on {@link #initializations(java.util.concurrent.Executor)}
     * ({@link ShareStatePartitions}). The target assignment holds only initialized share-partitions, so a later
     * heartbeat assigns them once the share coordinator has answered.
     */
    public CompletableFuture<HeartbeatResult> heartbeatAsync(HeartbeatRequest request, long nowMs) {
        return heartbeatAsync(request, nowMs, () -> { });
    }

    /**
     * As {@link #heartbeatAsync(HeartbeatRequest, long)}; {@code beforeStateInitialization} runs, without this lock
     * and after the heartbeat is answered, only when an accepted heartbeat leaves share-partitions to initialize,
     * just before the share coordinator is asked: where Kafka 4.x's persister looks the share coordinator up
     * (FindCoordinator key type 2), which creates {@code __share_group_state}. So a refused heartbeat (a bad request,
     * a coordinator not here, an unknown member) creates nothing, as in Kafka, and an accepted one is not held up by
     * the topic's creation. Its failure is logged and the initialization goes on, failing as Kafka's does when no
     * share coordinator answers (the next heartbeat tries again).
     */
    public CompletableFuture<HeartbeatResult> heartbeatAsync(HeartbeatRequest request, long nowMs,
                                                             Runnable beforeStateInitialization) {
        HeartbeatResult result;
        ShareStatePartitions.Plan plan = null;
        try {
            // As Kafka 4.x: the request is checked, then the coordinator runtime finds the group's offsets partition
            // not led (NOT_COORDINATOR) or not loaded (COORDINATOR_LOAD_IN_PROGRESS) here, with the errors' messages.
            ShareGroupMembership.validate(request);
            short notHere = coordinatorError(request.groupId());
            if (notHere != NONE) throw new ApiException(notHere, Errors.forCode(notHere).message());
            try {
                synchronized (this) {
                    expire(nowMs);
                    try {
                        result = membership.join(request, nowMs);
                        ShareGroup group = groups.get(request.groupId());
                        if (group != null && request.memberEpoch() != LEAVE_GROUP_MEMBER_EPOCH) {
                            plan = statePartitions.plan(group, ShareGroupMembership.subscribedNames(group), nowMs,
                                    config.initializeRetryIntervalMs());
                        }
                    } finally {
                        store.flush();
                    }
                }
            } finally {
                releaseLeft();
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (plan != null) {
            ShareStatePartitions.Plan initializing = plan;
            java.util.function.BooleanSupplier groupStillThere =
                    () -> groups.get(initializing.group().groupId) == initializing.group();
            try {
                initializations.execute(() -> statePartitions.initializeAndRecord(initializing,
                        beforeStateInitialization, this, groupStillThere));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // Too many initializations queued (or the broker is stopping): these share-partitions leave the
                // initializing set unstarted, and the next heartbeat tries again, as after a refusal.
                LOG.log(System.Logger.Level.WARNING, "Share group " + request.groupId()
                        + ": share-partitions not initialized now, the next heartbeat tries again: " + e.getMessage());
                statePartitions.record(initializing, java.util.Set.of(), this, groupStillThere);
            }
        }
        // Kafka 4.4's GroupCoordinatorService.shareGroupHeartbeat: the answer completes with the shard's write, and
        // the persister's initialization is scheduled apart (a TimerTask), so no heartbeat waits for
        // __share_group_state to be created, led, written and replicated.
        return CompletableFuture.completedFuture(result);
    }

    /** Removes members whose session timed out and releases their records, as Kafka's session timer does. */
    public void tick(long nowMs) {
        synchronized (this) {
            expire(nowMs);
        }
        releaseLeft();
    }

    /** Under this lock: {@link #tick}'s removals; their records go back at the next {@link #releaseLeft}. */
    synchronized void expire(long nowMs) {
        statePartitions.observe(nowMs);
        for (ShareGroup group : groups.values()) {
            if (group.members.isEmpty()) continue;
            int sessionTimeoutMs = configFor.apply(group.groupId).sessionTimeoutMs();
            Iterator<ShareGroupMember> it = new ArrayList<>(group.members.values()).iterator();
            while (it.hasNext()) {
                ShareGroupMember m = it.next();
                if (nowMs - m.lastHeartbeatMs >= sessionTimeoutMs) membership.removeMember(group, m.memberId, nowMs);
            }
        }
        try {
            store.flush();
        } catch (RuntimeException e) {
            // Expiries come with any request (a ListGroups too); a write refused here (this broker no longer leads
            // the group's offsets partition) must not fail that request. The members are gone either way.
            System.getLogger(ShareGroupCoordinator.class.getName()).log(System.Logger.Level.WARNING,
                    "Share group members' expiry not written: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- describe, list, delete

    /** Without this lock: the records of the members removed since the last call go back. */
    void releaseLeft() {
        for (String[] member = left.poll(); member != null; member = left.poll()) {
            partitions.closeSession(member[0], member[1]);
        }
    }

    public Description describe(String groupId, long nowMs) {
        tick(nowMs);
        synchronized (this) {
            return describeLocked(groupId);
        }
    }

    private Description describeLocked(String groupId) {
        ShareGroup group = groups.get(groupId);
        if (group == null) {
            String message = otherKind.test(groupId) ? "Group " + groupId + " is not a share group."
                    : "Group " + groupId + " not found.";
            return new Description(GROUP_ID_NOT_FOUND, message, STATE_DEAD, -1, -1, "", List.of());
        }
        List<MemberDescription> members = new ArrayList<>();
        for (ShareGroupMember m : group.members.values()) {
            members.add(new MemberDescription(m.memberId, m.rackId, m.memberEpoch,
                    Objects.requireNonNullElse(m.clientId, ""), Objects.requireNonNullElse(m.clientHost, ""),
                    m.subscribedTopicNames == null ? List.of() : m.subscribedTopicNames, m.assignment));
        }
        return new Description(NONE, null, group.state(), group.groupEpoch, group.assignmentEpoch, SimpleAssignor.NAME,
                members);
    }

    public synchronized boolean isShareGroup(String groupId) {
        return groups.containsKey(groupId);
    }

    public synchronized boolean isMember(String groupId, String memberId) {
        ShareGroup group = groups.get(groupId);
        return group != null && group.members.containsKey(memberId);
    }

    /** Group id to state, for ListGroups. */
    public Map<String, String> listGroups(long nowMs) {
        tick(nowMs);
        Map<String, String> result = new LinkedHashMap<>();
        synchronized (this) {
            for (ShareGroup g : groups.values()) result.put(g.groupId, g.state());
        }
        return result;
    }

    /**
     * DeleteGroups of a share group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND when it is not a share group, or the
     * share coordinator's error; the share coordinator is called without this lock ({@link ShareGroupAdmin}).
     */
    public short deleteGroup(String groupId, long nowMs) {
        return SharePersister.await(deleteGroupAsync(groupId, nowMs));
    }

    /** {@link #deleteGroup}, completed with the error code once done, with no thread waiting. */
    public CompletableFuture<Short> deleteGroupAsync(String groupId, long nowMs) {
        return admin.deleteGroup(groupId, nowMs);
    }

    // ---------------------------------------------------------------- share-partitions

    /**
     * The group's share-partition as this broker's {@link SharePartitionManager} has it (leader epoch 0: a single
     * broker's), created at {@code initialOffset} (share.auto.offset.reset) on first use. Null when the group does
     * not exist.
     */
    public SharePartition partition(String groupId, UUID topicId, int partition, LongSupplier initialOffset) {
        // Loaded without this lock: loading reads the share coordinator.
        if (!isShareGroup(groupId)) return null;
        return partitions.partition(groupId, topicId, partition, 0, initialOffset);
    }

    /** A share-partition of a group coordinated here was loaded (here): the group's record lists it as initialized. */
    private synchronized void partitionLoaded(String groupId, UUID topicId, int partition) {
        ShareGroup group = groups.get(groupId);
        if (group != null && coordinatedHere.test(groupId)) initialized(group, topicId, partition);
    }

    /**
     * The persister's share groups exist again after a restart (or once their state partition is loaded here):
     * empty, with their share-partitions as stored, so ListGroups, the offsets APIs and rejoining members find them.
     * The share coordinator is read without this lock and without waiting (its summaries may come from another
     * broker, and this runs on the thread making this broker a leader); the groups appear once it has answered.
     */
    public CompletableFuture<Void> restoreStoredGroups() {
        Map<String, List<ShareSessions.Key>> readable = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (Map.Entry<String, Map<UUID, List<Integer>>> g : persister.stored().entrySet()) {
            String groupId = g.getKey();
            if (otherKind.test(groupId) || !coordinatedHere.test(groupId)) continue;
            List<ShareSessions.Key> keys = java.util.Collections.synchronizedList(new ArrayList<>());
            readable.put(groupId, keys);
            for (Map.Entry<UUID, List<Integer>> t : g.getValue().entrySet()) {
                for (int p : t.getValue()) {
                    // Read to find it readable (its topic may be gone); the partition's leader loads it on first
                    // use, whichever broker that is.
                    reads.add(persister.summaryAsync(groupId, t.getKey(), p).handle((stored, e) -> {
                        if (e == null) {
                            keys.add(new ShareSessions.Key(t.getKey(), p));
                        } else {
                            // Its topic is gone, or another writer fenced this reader: the share-partition comes
                            // back on first use, or answers that error then; the group's others still load.
                            System.getLogger(ShareGroupCoordinator.class.getName()).log(System.Logger.Level.WARNING,
                                    "Share-partition " + groupId + ":" + t.getKey() + ":" + p + " not restored: "
                                            + SharePartitionWriter.unwrap(e).getMessage());
                        }
                        return null;
                    }));
                }
            }
        }
        return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0])).thenRun(() -> {
            synchronized (this) {
                restoring = true;
                try {
                    for (Map.Entry<String, List<ShareSessions.Key>> g : readable.entrySet()) {
                        ShareGroup group = groups.computeIfAbsent(g.getKey(), ShareGroup::new);
                        List<ShareSessions.Key> keys;
                        synchronized (g.getValue()) {
                            keys = new ArrayList<>(g.getValue());
                        }
                        for (ShareSessions.Key k : keys) {
                            statePartitions.initialized(group, k.topicId(), k.partition(), true);
                        }
                    }
                } finally {
                    restoring = false;
                }
            }
        });
    }

    // ---------------------------------------------------------------- loading __consumer_offsets

    /**
     * Replays one share group record of {@code __consumer_offsets} (value null: a tombstone) at load time, oldest
     * first ({@link ShareGroupLoader}); other coordinators' records are ignored.
     */
    public synchronized void replay(byte[] key, byte[] value) {
        String groupId = ShareGroupLoader.replay(groups, key, value);
        if (groupId != null) replayed.add(groupId);
    }

    /**
     * Ends a load: every member of the groups replayed gets a fresh session timeout from now, as Kafka's onLoaded
     * schedules one for each member it loads; a member already told its assignment is not told again unless it
     * changes; the subscribed topics are taken as they are now, so a restart alone bumps no epoch.
     */
    public synchronized void loaded(long nowMs) {
        statePartitions.observe(nowMs);
        for (String groupId : replayed) {
            ShareGroup group = groups.get(groupId);
            if (group == null) continue;
            // A member record without its metadata (cannot follow from Kafka's own writes): not a member.
            group.members.values().removeIf(m -> m.subscribedTopicNames == null);
            for (ShareGroupMember m : group.members.values()) {
                m.lastHeartbeatMs = nowMs;
                m.sentAssignment = m.memberEpoch == group.assignmentEpoch ? m.assignment : null;
            }
            group.topology = membership.topology(group);
            // As Kafka's replay stamps them: share-partitions left initializing by the coordinator before (its
            // initialization's outcome never recorded) are initialized again once the retry interval has passed.
            for (UUID topicId : group.initializing.keySet()) group.initializingSinceMs.put(topicId, nowMs);
            System.getLogger(ShareGroupCoordinator.class.getName()).log(System.Logger.Level.INFO,
                    "Loaded share group " + groupId + " with " + group.members.size() + " members.");
        }
        replayed.clear();
    }

    /**
     * The group's share-partitions that have state, with their start offsets (null when no such share group): -1 for
     * one initialized but never loaded, as Kafka's share coordinator summarizes it.
     */
    public List<PartitionOffset> offsets(String groupId, long nowMs) {
        return SharePersister.await(offsetsAsync(groupId, nowMs));
    }

    /** {@link #offsets}, completed once every share coordinator asked has answered, with no thread waiting. */
    public CompletableFuture<List<PartitionOffset>> offsetsAsync(String groupId, long nowMs) {
        java.util.Set<ShareSessions.Key> withState;
        synchronized (this) {
            ShareGroup group = groups.get(groupId);
            if (group == null) return CompletableFuture.completedFuture(null);
            withState = statePartitions.withState(group);
        }
        // Outside this lock: summaries may come from a share coordinator on another broker.
        return statePartitions.offsets(groupId, withState, nowMs);
    }

    /**
     * The start offsets of the named share-partitions, read whether or not the group is coordinated here: as Kafka's
     * describeShareGroupOffsets of named topics, which asks the share coordinators (its persister) alone. -1 for one
     * without state. Completed once every share coordinator asked has answered, with no thread waiting.
     */
    public CompletableFuture<List<PartitionOffset>> offsetsAsync(String groupId, java.util.Set<ShareSessions.Key> keys,
                                                                 long nowMs) {
        return statePartitions.offsets(groupId, keys, nowMs);
    }

    /**
     * AlterShareGroupOffsets: sets start offsets of an empty group (creating it if absent, as Kafka does); a group
     * with members is NON_EMPTY_GROUP, another kind's id GROUP_ID_NOT_FOUND. The share coordinator is called without
     * this lock ({@link ShareGroupAdmin}).
     */
    public void alterOffsets(String groupId, Map<ShareSessions.Key, Long> offsets, long nowMs) {
        SharePersister.await(alterOffsetsAsync(groupId, offsets, nowMs));
    }

    /** {@link #alterOffsets}, completed once done (failed with the ApiException), with no thread waiting. */
    public CompletableFuture<Void> alterOffsetsAsync(String groupId, Map<ShareSessions.Key, Long> offsets,
                                                     long nowMs) {
        CompletableFuture<Void> notHere = notCoordinatedHere(groupId);
        return notHere != null ? notHere : admin.alterOffsets(groupId, offsets, nowMs);
    }

    private void initialized(ShareGroup group, UUID topicId, int partition) {
        statePartitions.initialized(group, topicId, partition, restoring);
    }

    /**
     * DeleteShareGroupOffsets: forgets the share-partitions of the topics of an empty group; the share coordinator is
     * called without this lock ({@link ShareGroupAdmin}).
     */
    public void deleteOffsets(String groupId, List<UUID> topicIds, long nowMs) {
        SharePersister.await(deleteOffsetsAsync(groupId, topicIds, nowMs));
    }

    /** {@link #deleteOffsets}, completed once done (failed with the ApiException), with no thread waiting. */
    public CompletableFuture<Void> deleteOffsetsAsync(String groupId, List<UUID> topicIds, long nowMs) {
        CompletableFuture<Void> notHere = notCoordinatedHere(groupId);
        return notHere != null ? notHere : admin.deleteOffsets(groupId, topicIds, nowMs);
    }

    /**
     * As Kafka 4.x's coordinator runtime before a group operation: failed with NOT_COORDINATOR or
     * COORDINATOR_LOAD_IN_PROGRESS (with the errors' own messages) when the group's offsets partition is not led or
     * not loaded here, so nothing of the group is made or changed on a broker that does not coordinate it; else null.
     */
    private CompletableFuture<Void> notCoordinatedHere(String groupId) {
        short error = coordinatorError(groupId);
        return error == NONE ? null
                : CompletableFuture.failedFuture(new ApiException(error, Errors.forCode(error).message()));
    }

    /**
     * Topics were deleted (the controller told this broker to forget them): as Kafka 4.4's
     * maybeCleanupShareGroupState, they leave every share group's initialized share-partitions, with a new
     * ShareGroupStatePartitionMetadata record where that changed, and their loaded share-partitions go. The share
     * coordinator drops their state itself ({@link io.tandem.server.kafka.group.share.state.ShareStateCoordinator#topicsDeleted}).
     * A topic recreated under the same name has a new id, so it is new to the group: initialized afresh by the next
     * heartbeat, at share.auto.offset.reset.
     */
    public synchronized void topicsDeleted(java.util.Set<UUID> topicIds) {
        if (topicIds.isEmpty()) return;
        partitions.topicsDeleted(topicIds);
        for (ShareGroup group : groups.values()) {
            // Kafka's maybeCleanupShareGroupState: out of every set, the deleting one too (the share coordinator
            // drops a deleted topic's state itself).
            boolean changed = group.initialized.keySet().removeAll(topicIds);
            changed |= group.initializing.keySet().removeAll(topicIds);
            group.initializingSinceMs.keySet().removeAll(topicIds);
            group.initializingBy.keySet().removeIf(k -> topicIds.contains(k.topicId()));
            changed |= group.deleting.removeAll(topicIds);
            if (changed) statePartitions.write(group);
        }
    }

    /** A share-partition's end of a member's session: its records go back (the member closed its share session). */
    public void closeSession(String groupId, String memberId) {
        partitions.closeSession(groupId, memberId);
    }

}
