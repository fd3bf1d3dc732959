package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.GroupMessages.GroupDescription;
import io.tandem.server.kafka.group.GroupMessages.GroupListing;
import io.tandem.server.kafka.group.GroupMessages.HandedOverGroup;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeaveResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import io.tandem.server.kafka.producer.VerificationGuard;

import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The classic consumer group coordinator as a state machine (Kafka's GroupCoordinator/ClassicGroup semantics):
 * Empty -> PreparingRebalance -> CompletingRebalance -> Stable, with Dead for deleted groups. Time comes in as
 * {@code nowMs} and {@link #tick(long)} fires the deadlines (rebalance timeout, initial delay, session expiry,
 * pending sync), so there is no clock or thread inside and tests drive it deterministically. The parts live beside
 * it: JoinGroup in {@link ClassicJoin}, SyncGroup, Heartbeat, LeaveGroup and what a passed deadline does in
 * {@link ClassicMembers}, the deadlines themselves, one ordered entry per member and group, in {@link GroupDeadlines}
 * (what they are: {@link ClassicDeadlines}), rebalances in {@link ClassicRebalance}, offsets in {@link GroupOffsets}
 * and {@link TransactionalOffsets}, the admin requests in {@link ClassicGroupAdmin}, the groups' own records (members
 * included, so a group survives the move of its coordinator) in {@link ClassicGroupRecords}, and which offsets
 * partitions are served here (loading: COORDINATOR_LOAD_IN_PROGRESS; not led, or resigned: NOT_COORDINATOR) in
 * {@link OffsetsPartitionOwnership}.
 *
 * <p>Callbacks (delayed JoinGroup and SyncGroup answers) run on the caller's thread or, when they wait for a group
 * record to be replicated ({@link GroupStore#groupStored}), on the store's, under the coordinator's lock (a consumer
 * group's classic member's SyncGroup answer, waiting in {@link GroupStore#whenWritten}, outside it); they must only
 * hand the answer on (e.g. write it to a channel), never call back into the coordinator.
 */
public final class GroupCoordinator {
    private final GroupConfig config;
    private final GroupStore store;
    private final Map<String, ClassicGroup> groups = new LinkedHashMap<>();
    private final TransactionalOffsets transactional;
    /** The consumer groups (KIP-848) sharing this coordinator's group ids, offsets and lock. */
    private ModernGroups modern = ModernGroups.ABSENT;
    private final GroupOffsets offsets;
    private final ClassicRebalance rebalance;
    private final ClassicHandover handover;
    private final ClassicGroupAdmin admin;
    private final ClassicJoin join;
    private final OffsetsPartitionOwnership ownership;
    private final ClassicGroupRecords records;
    private final GroupDeadlines<ClassicGroup, GroupMember> deadlines;
    private final ClassicMembers members;
    /**
     * Told {@link #nextDeadlineMs()} after each call that may bring a deadline forward (the broker's group timer,
     * which sleeps until the earliest one); null when nothing waits on the deadlines (tests drive {@link #tick}).
     */
    private LongConsumer deadlineListener;

    public GroupCoordinator(GroupConfig config, GroupStore store) {
        this.config = config;
        this.store = store;
        this.records = new ClassicGroupRecords(groups, store, config, this);
        this.transactional = new TransactionalOffsets(groups, store, config);
        this.offsets = new GroupOffsets(groups, store, config);
        this.rebalance = new ClassicRebalance(config, records);
        this.handover = new ClassicHandover(rebalance, records);
        this.admin = new ClassicGroupAdmin(groups, records);
        this.join = new ClassicJoin(config, groups, rebalance, records);
        this.ownership = new OffsetsPartitionOwnership(groups);
        this.deadlines = new GroupDeadlines<>(new ClassicDeadlines(groups));
        this.members = new ClassicMembers(groups, rebalance, deadlines);
    }

    /** Connects the consumer group coordinator; it locks on this object, so both see one consistent state. */
    public synchronized void modernGroups(ModernGroups modernGroups) {
        this.modern = modernGroups;
        this.offsets.modern = modernGroups;
        this.admin.modern = modernGroups;
        this.join.modern = modernGroups;
    }

    /** Whether a live classic group (or one holding only offsets) has this id. */
    public synchronized boolean hasGroup(String groupId) {
        ClassicGroup group = groups.get(groupId);
        return group != null && !group.is(GroupState.DEAD);
    }

    /**
     * Whether a classic group with members (or one joining) holds the id: a consumer group cannot take it over then.
     * An Empty classic group, or one that only holds offsets, may become a consumer group, as in Kafka.
     */
    public synchronized boolean isClassicGroupInUse(String groupId) {
        ClassicGroup group = groups.get(groupId);
        return group != null && !group.is(GroupState.DEAD)
                && (!group.is(GroupState.EMPTY) || !group.members.isEmpty() || !group.pendingMembers.isEmpty());
    }

    // ---------------------------------------------------------------- online migration (KIP-848)

    /** The live classic group of this id (members, or members joining) as it would be handed over; else null. */
    public synchronized HandedOverGroup liveClassicGroup(String groupId) {
        return isClassicGroupInUse(groupId) ? ClassicHandover.describe(groups.get(groupId)) : null;
    }

    /**
     * Hands the classic group's membership to the consumer group coordinator (an upgrade, or an Empty group taken
     * over): its record gets a tombstone, its offsets stay here.
     */
    public synchronized void releaseToConsumerGroup(String groupId, long nowMs) {
        ClassicGroup group = groups.get(groupId);
        if (group != null) handover.release(group, nowMs);
        groupChanged(groupId);
    }

    /** Takes back a consumer group whose members all speak the classic protocol (downgrade); it rebalances. */
    public synchronized void takeFromConsumerGroup(HandedOverGroup from, boolean rebalance, long nowMs) {
        ClassicGroup group = groups.computeIfAbsent(from.groupId(), ClassicGroup::new);
        handover.install(group, from, rebalance, nowMs);
        groupChanged(from.groupId());
    }

    /** group.max.size: a downgrade that would exceed it is not done, as in Kafka. */
    public int maxClassicGroupSize() {
        return config.maxGroupSize();
    }

    // ---------------------------------------------------------------- JoinGroup

    public synchronized void joinGroup(JoinRequest request, long nowMs, Consumer<JoinResult> callback) {
        try {
            joinGroupLocked(request, nowMs, callback);
        } finally {
            groupChanged(request.groupId());
        }
    }

    private void joinGroupLocked(JoinRequest request, long nowMs, Consumer<JoinResult> callback) {
        short status = ownership.status(request.groupId());
        if (status != NONE) {
            callback.accept(JoinResult.error(request.memberId() == null ? "" : request.memberId(), status));
            return;
        }
        join.joinGroup(request, nowMs, callback);
    }

    // ---------------------------------------------------------------- SyncGroup

    public synchronized void syncGroup(SyncRequest request, long nowMs, Consumer<SyncResult> callback) {
        try {
            syncGroupLocked(request, nowMs, callback);
        } finally {
            groupChanged(request.groupId());
        }
    }

    private void syncGroupLocked(SyncRequest request, long nowMs, Consumer<SyncResult> callback) {
        short status = ownership.status(request.groupId());
        if (status != NONE) {
            // Kafka 3.9's GroupCoordinator (validateGroupStatus, then handleSyncGroup) answers a SyncGroup during the
            // load REBALANCE_IN_PROGRESS at every version: the rebalance's state was lost with the move, so the member
            // rejoins without looking its coordinator up again. Kafka 4.x's coordinator runtime answers
            // COORDINATOR_LOAD_IN_PROGRESS (CoordinatorRuntime refuses any operation on a loading shard, and
            // GroupCoordinatorService.syncGroup passes the error on unmapped); the other group APIs answer alike in
            // both (JoinGroup, LeaveGroup, OffsetCommit/Fetch, DescribeGroups, DeleteGroups, ListGroups
            // COORDINATOR_LOAD_IN_PROGRESS; Heartbeat NONE). Tandem keeps 3.9's answer: its coordinators load as 3.9's
            // do, the versions (SyncGroup 0-5) are the same in both so no version can tell them apart, and the Java
            // client (3.9 and 4.4 alike: AbstractCoordinator's SyncGroupResponseHandler) has no case for
            // COORDINATOR_LOAD_IN_PROGRESS and fails the consumer's poll with "Unexpected error from SyncGroup",
            // where REBALANCE_IN_PROGRESS makes it rejoin (SyncGroupWhileLoadingTest).
            callback.accept(SyncResult.error(status == COORDINATOR_LOAD_IN_PROGRESS ? REBALANCE_IN_PROGRESS : status));
            return;
        }
        if (modern.isConsumerGroup(request.groupId())) {
            SyncResult result = modern.classicSync(request, nowMs);
            if (result.error() != NONE) {
                callback.accept(result);
                return;
            }
            // As Kafka's coordinator runtime: the answer waits until what the group's coordinator wrote is replicated.
            store.whenWritten(request.groupId(), nowMs,
                    (error, doneMs) -> callback.accept(error == NONE ? result : SyncResult.error(error)));
            return;
        }
        members.sync(request, nowMs, callback);
    }

    // ---------------------------------------------------------------- Heartbeat and LeaveGroup

    public synchronized short heartbeat(String groupId, String memberId, String groupInstanceId, int generationId,
                                        long nowMs) {
        try {
            return heartbeatLocked(groupId, memberId, groupInstanceId, generationId, nowMs);
        } finally {
            deadlinesChanged();
        }
    }

    private short heartbeatLocked(String groupId, String memberId, String groupInstanceId, int generationId,
                                  long nowMs) {
        short status = ownership.status(groupId);
        // As Kafka: while the group's partition loads, a heartbeat is answered blindly with NONE.
        if (status != NONE) return status == COORDINATOR_LOAD_IN_PROGRESS ? NONE : status;
        if (modern.isConsumerGroup(groupId)) {
            return modern.classicHeartbeat(groupId, memberId, groupInstanceId, generationId, nowMs);
        }
        return members.heartbeat(groupId, memberId, groupInstanceId, generationId, nowMs);
    }

    public synchronized LeaveResult leaveGroup(String groupId, List<LeavingMember> leaving, long nowMs) {
        try {
            return leaveGroupLocked(groupId, leaving, nowMs);
        } finally {
            groupChanged(groupId);
        }
    }

    private LeaveResult leaveGroupLocked(String groupId, List<LeavingMember> leaving, long nowMs) {
        short status = ownership.status(groupId);
        if (status != NONE) return new LeaveResult(status, List.of());
        if (modern.isConsumerGroup(groupId)) return new LeaveResult(NONE, modern.classicLeave(groupId, leaving, nowMs));
        return members.leave(groupId, leaving, nowMs);
    }

    /** Fires every deadline that has passed: expired sessions, pending member ids, rebalance and sync timeouts. */
    public synchronized void tick(long nowMs) {
        modern.tick(nowMs);
        for (ClassicGroup group : deadlines.due(nowMs)) {
            if (groups.get(group.groupId) == group) members.expire(group, nowMs);
            deadlines.refresh(group.groupId);
        }
    }

    // ---------------------------------------------------------------- the deadlines, for the group timer

    /** Connects the group timer: it is told the earliest deadline whenever a call may have brought one forward. */
    public synchronized void deadlineListener(LongConsumer listener) {
        this.deadlineListener = listener;
    }

    /**
     * The earliest time at which {@link #tick} has something to do (classic and consumer groups); Long.MAX_VALUE when
     * nothing is pending, Long.MIN_VALUE when something is due already. The classic groups' deadlines are kept one
     * entry each, ordered ({@link GroupDeadlines}), so this costs no scan of the groups, and a timer that sleeps
     * until this time fires every deadline as a tick every few milliseconds would.
     */
    public synchronized long nextDeadlineMs() {
        return Math.min(modern.nextDeadlineMs(), deadlines.nextDeadlineMs());
    }

    /**
     * Called at the end of every request that may set or bring forward a deadline (a join, a sync, a leave, a
     * heartbeat, a handover, the end of a load, a group record's write); the consumer group coordinator calls it after
     * its own requests, under this lock. A deadline only pushed back (a heartbeat) costs the timer one early wake-up
     * at most.
     */
    public synchronized void deadlinesChanged() {
        LongConsumer listener = deadlineListener;
        if (listener != null) listener.accept(nextDeadlineMs());
    }

    /** The classic group of this id may have changed (or gone): its deadlines are refreshed and the timer told. */
    synchronized void groupChanged(String groupId) {
        deadlines.refresh(groupId);
        deadlinesChanged();
    }

    // ---------------------------------------------------------------- offsets

    /** OffsetCommit: per partition error codes; accepted offsets go to the {@link GroupStore} before this returns. */
    public synchronized Map<TopicPartition, Short> commitOffsets(String groupId, String memberId,
                                                                 String groupInstanceId, int generationId,
                                                                 Map<TopicPartition, CommittedOffset> offsets,
                                                                 long nowMs) {
        return commitOffsets(groupId, memberId, groupInstanceId, generationId, offsets, nowMs, Short.MAX_VALUE);
    }

    /**
     * OffsetCommit at a request version: a consumer group (KIP-848) checks the member and its epoch
     * (STALE_MEMBER_EPOCH), a classic group the member and its generation.
     */
    public synchronized Map<TopicPartition, Short> commitOffsets(String groupId, String memberId,
                                                                 String groupInstanceId, int generationId,
                                                                 Map<TopicPartition, CommittedOffset> offsets,
                                                                 long nowMs, short apiVersion) {
        short status = ownership.status(groupId);
        if (status != NONE) return GroupOffsets.allWith(offsets.keySet(), status);
        Map<TopicPartition, Short> results = offsets().commit(groupId, memberId, groupInstanceId, generationId,
                offsets, nowMs, apiVersion);
        // A member's commit counts as a heartbeat (Kafka's completeAndScheduleNextHeartbeatExpiration).
        ClassicGroup group = groupId == null ? null : groups.get(groupId);
        GroupMember member = group == null || memberId == null ? null : group.member(memberId);
        if (member != null) deadlines.heard(group, member);
        return results;
    }

    /** OffsetFetch: the committed offsets of the given partitions ({@code null}: all), absent ones left out. */
    public synchronized Map<TopicPartition, CommittedOffset> fetchOffsets(String groupId,
                                                                        Collection<TopicPartition> partitions) {
        return offsets().fetch(groupId, partitions);
    }

    public record OffsetDeleteResult(short error, Map<TopicPartition, Short> partitions) {
    }

    // ---------------------------------------------------------------- transactional offsets

    /** A TxnOffsetCommit whose offsets partition was not verified (the state machine's tests). */
    public Map<TopicPartition, Short> commitTransactionalOffsets(String groupId, long producerId,
            short producerEpoch, String memberId, String groupInstanceId, int generationId,
            Map<TopicPartition, CommittedOffset> offsets, long nowMs) {
        return commitTransactionalOffsets(groupId, producerId, producerEpoch, memberId, groupInstanceId, generationId,
                offsets, nowMs, null);
    }

    /**
     * TxnOffsetCommit: per partition errors; accepted offsets are written and stay pending until the marker. The
     * write carries {@code verificationGuard}, the offsets partition's guard of the transaction coordinator's check
     * (null when nothing was checked), so a check that an abort overtook writes nothing (INVALID_TXN_STATE).
     */
    public synchronized Map<TopicPartition, Short> commitTransactionalOffsets(String groupId, long producerId,
            short producerEpoch, String memberId, String groupInstanceId, int generationId,
            Map<TopicPartition, CommittedOffset> offsets, long nowMs, VerificationGuard verificationGuard) {
        short status = ownership.status(groupId);
        if (status != NONE) return GroupOffsets.allWith(offsets.keySet(), status);
        if (groupId != null && modern.isConsumerGroup(groupId)) {
            short error = modern.validateOffsetCommit(groupId, memberId, groupInstanceId, generationId, true,
                    Short.MAX_VALUE);
            if (error != NONE) return GroupOffsets.allWith(offsets.keySet(), error);
            // Checked as a consumer group member: written without the classic generation check.
            return transactional.commit(groupId, producerId, producerEpoch, "", null, -1, offsets, nowMs,
                    verificationGuard);
        }
        return transactional.commit(groupId, producerId, producerEpoch, memberId, groupInstanceId, generationId,
                offsets, nowMs, verificationGuard);
    }

    /** A TxnOffsetCommit whose write did not reach the ISR: its pending offsets are dropped. */
    public synchronized void failTransactionalOffsets(String groupId, long producerId,
                                                      Collection<TopicPartition> partitions) {
        transactional.fail(groupId, producerId, partitions);
    }

    /** A transaction marker landed on an offsets partition: its groups' pending offsets commit or vanish. */
    public synchronized void completeTransactionalOffsets(long producerId, boolean commit, int offsetsPartition,
                                                          int offsetsPartitionCount) {
        transactional.complete(producerId, commit, offsetsPartition, offsetsPartitionCount);
    }

    /** OffsetFetch with requireStable: whether a transaction still holds an offset of the partition. */
    public synchronized boolean hasPendingTransactionalOffset(String groupId, TopicPartition partition) {
        return transactional.hasPending(groupId, partition);
    }

    /** Replays an offset of a transaction still open at the end of the offsets log. */
    public synchronized void loadPendingTransactionalOffset(String groupId, long producerId, TopicPartition partition,
                                                            CommittedOffset offset) {
        transactional.loadPending(groupId, producerId, partition, offset);
    }

    public synchronized OffsetDeleteResult deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        short status = ownership.status(groupId);
        if (status != NONE) return new OffsetDeleteResult(status, Map.of());
        return offsets().delete(groupId, partitions);
    }

    /** Drops the offsets of deleted topics from every group (Kafka does this when a topic is deleted). */
    public synchronized void deleteTopicOffsets(Collection<String> topics) {
        offsets().deleteTopicOffsets(topics);
    }

    /**
     * Expires offsets by Kafka's retention rules ({@link OffsetRetention}; run every
     * offsets.retention.check.interval.ms). An Empty group left with no offsets is removed (Dead), as Kafka does,
     * unless a member id handed out with MEMBER_ID_REQUIRED is still expected back. Tombstones go to the store
     * before anything is forgotten, so expired offsets do not come back on a restart. Returns the offsets expired.
     */
    public synchronized int expireOffsets(long nowMs, long retentionMs) {
        int expired = offsets().expire(nowMs, retentionMs);
        deadlines.forgetGone();
        return expired;
    }

    private GroupOffsets offsets() {
        return offsets;
    }

    // ---------------------------------------------------------------- admin

    public synchronized Map<String, Short> deleteGroups(Collection<String> groupIds) {
        Map<String, Short> results = new LinkedHashMap<>();
        for (String groupId : groupIds) {
            short status = ownership.status(groupId);
            results.put(groupId, status == NONE ? null : status);
        }
        results.putAll(admin.deleteGroups(groupIds.stream().filter(id -> ownership.status(id) == NONE).toList()));
        for (String groupId : groupIds) deadlines.refresh(groupId);
        return results;
    }

    public synchronized List<GroupListing> listGroups() {
        return admin.listGroups();
    }

    /** DescribeGroups data; an unknown group is reported as Dead with GROUP_ID_NOT_FOUND (v6+ clients see it). */
    public synchronized GroupDescription describeGroup(String groupId) {
        short status = ownership.status(groupId);
        if (status != NONE) return new GroupDescription(status, groupId, GroupState.DEAD, "", "", List.of());
        return admin.describeGroup(groupId);
    }

    // ---------------------------------------------------------------- loading from __consumer_offsets

    /**
     * This broker resigned offsets partition {@code partition} (Kafka's onResignation: it became a follower of it,
     * or its replica here was deleted): its groups, classic and consumer, are unloaded and requests for them answer
     * NOT_COORDINATOR until it is loaded here again (see {@link OffsetsPartitionOwnership}). Returns how many
     * classic groups went.
     */
    public synchronized int unloadPartition(int partition, int partitionCount) {
        modern.unload(groupId -> OffsetsTopicCodec.partitionFor(groupId, partitionCount) == partition);
        int unloaded = ownership.resign(partition, partitionCount);
        deadlines.forgetGone();
        return unloaded;
    }

    /**
     * The broker stops (Kafka's GroupCoordinator.shutdown): every group is unloaded and the members waiting for a
     * JoinGroup or SyncGroup answer get NOT_COORDINATOR, so their requests are finished and their frames released
     * instead of waiting for a group record write or a deadline that no longer comes.
     */
    public synchronized void shutdown() {
        modern.unload(groupId -> true);
        ownership.resignAll();
        deadlines.forgetGone();
    }

    /**
     * Connects the broker's leadership of the {@code __consumer_offsets} partitions: a request for a group whose
     * partition {@code leads} says this broker does not lead answers NOT_COORDINATOR, as Kafka's isCoordinatorForGroup.
     */
    public synchronized void leadership(int partitionCount, java.util.function.IntPredicate leads) {
        ownership.leadership(partitionCount, leads);
    }

    /** NONE, or the error a request about the group gets here: COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR. */
    public synchronized short coordinatorError(String groupId) {
        return ownership.status(groupId);
    }

    /** Whether an offsets partition is loading here (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS then). */
    public synchronized boolean anyPartitionLoading() {
        return ownership.anyLoading();
    }

    /** This broker took the lead of offsets partition {@code partition} and reads it: COORDINATOR_LOAD_IN_PROGRESS. */
    public synchronized void partitionLoading(int partition) {
        ownership.loading(partition);
    }

    /** This broker leads offsets partition {@code partition} and loaded it: its groups are served here again. */
    public synchronized void partitionLoaded(int partition) {
        ownership.loaded(partition);
    }

    /** Replays one committed offset (or, with {@code null}, its deletion) while loading the offsets log. */
    public synchronized void loadOffset(String groupId, TopicPartition partition, CommittedOffset offset) {
        ClassicGroup group = groups.computeIfAbsent(groupId, ClassicGroup::new);
        if (offset == null) {
            group.offsets.remove(partition);
        } else {
            group.offsets.put(partition, offset);
        }
    }

    /** Replays a group's record (its members with their subscriptions and assignments) while loading. */
    public synchronized void loadGroupMetadata(String groupId, GroupMetadataCodec.StoredGroup stored) {
        // No deadlinesChanged() here: a loaded member's session starts at groupsLoaded, not before.
        records.load(groupId, stored);
    }

    /** Replays a group's tombstone while loading the offsets log: its record is gone, its offsets stay. */
    public synchronized void loadGroupDeletion(String groupId) {
        records.loadDeletion(groupId);
        deadlines.refresh(groupId);
    }

    /** The log holding these groups is read: their members' session timers start at {@code nowMs}. */
    public synchronized void groupsLoaded(Collection<String> groupIds, long nowMs) {
        records.loaded(groupIds, nowMs, rebalance);
        for (String groupId : groupIds) deadlines.refresh(groupId);
        deadlinesChanged();
    }

    /** For tests and DescribeGroups-like diagnostics. */
    synchronized ClassicGroup group(String groupId) {
        return groups.get(groupId);
    }

    /** Members whose JoinGroup or SyncGroup waits for its answer, each holding its request (tests, diagnostics). */
    public synchronized int membersAwaitingAnswer() {
        int waiting = 0;
        for (ClassicGroup group : groups.values()) {
            for (GroupMember member : group.members.values()) {
                if (member.isAwaitingJoin() || member.isAwaitingSync()) waiting++;
            }
        }
        return waiting;
    }

    /** How many deadline entries the classic groups hold (for tests: at most one per live member and group). */
    synchronized int deadlineEntries() {
        return deadlines.size();
    }

    /** How many live groups there are (for metrics and tests). */
    public synchronized int groupCount() {
        return new HashSet<>(groups.keySet()).size();
    }
}
