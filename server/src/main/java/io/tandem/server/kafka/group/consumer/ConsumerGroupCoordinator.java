package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupDeadlines;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.MemberLeaveResult;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import io.tandem.server.kafka.group.ModernGroups;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The consumer group coordinator of KIP-848 (ConsumerGroupHeartbeat): the membership, the group epoch, the server-side
 * target assignment and each member's reconciliation towards it, with Kafka's GroupMetadataManager rules. It shares the
 * classic {@link GroupCoordinator}'s lock and offsets: a group id is of one kind at a time, an empty group of either
 * kind may be taken over by the other, and a live group migrates between the two under
 * {@code group.consumer.migration.policy} ({@link GroupMigration}), classic members of a consumer group being served
 * by {@link ClassicProtocolMembers}. Time comes in as {@code nowMs} and {@link #tick(long)}, so tests drive it.
 * This class holds the lock, the groups and the store's flush after each call; joining ({@link MemberJoins}), leaving
 * and expiry ({@link MemberRemovals}) and the epoch bookkeeping they share ({@link GroupEpochs}) live beside it.
 */
public final class ConsumerGroupCoordinator implements ModernGroups {
    /** ConsumerGroupHeartbeat's MemberEpoch meaning "leave the group". */
    public static final int LEAVE_GROUP_MEMBER_EPOCH = -1;
    /** ConsumerGroupHeartbeat's MemberEpoch meaning "a static member leaves for now and will be back". */
    public static final int LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

    private final GroupCoordinator classic;
    private final ConsumerGroupConfig config;
    private final ConsumerGroupStore store;
    private final Map<String, ConsumerGroup> groups = new LinkedHashMap<>();
    private final TargetAssignments assignments;
    private final MemberJoins joins;
    private final MemberRemovals removals;
    private final ClassicProtocolMembers classicMembers;
    /** Every member's earliest deadline, ordered: the timer finds what is due without scanning the groups. */
    private final GroupDeadlines<ConsumerGroup, ConsumerGroupMember> deadlines;
    /** Each group's session timeout and heartbeat interval (its group configs over the broker's keys). */
    private java.util.function.Function<String, GroupTimeouts> timeouts;

    public ConsumerGroupCoordinator(GroupCoordinator classic, ConsumerGroupConfig config, ConsumerGroupStore store,
                                    TopicsView topics) {
        this.classic = classic;
        this.config = config;
        this.store = store;
        this.assignments = new TargetAssignments(config, store, topics);
        GroupMigration migration = new GroupMigration(classic, config, store, topics);
        GroupEpochs epochs = new GroupEpochs(assignments, store);
        this.joins = new MemberJoins(groups, classic, config, store, migration, epochs);
        this.removals = new MemberRemovals(groups, classic, migration, epochs, store);
        this.classicMembers = new ClassicProtocolMembers(epochs, removals, migration, config, store);
        this.timeouts = groupId -> new GroupTimeouts(config.sessionTimeoutMs(), config.heartbeatIntervalMs());
        this.deadlines = new GroupDeadlines<>(new ConsumerGroupDeadlines(groups));
        classic.modernGroups(this);
    }

    /**
     * Connects the groups' own configs (ConfigResource GROUP): a member's session timeout and the heartbeat interval
     * its answers carry are read per group at each heartbeat, so an altered config applies from the next one, as in
     * Kafka. The function may read the metadata store (it caches); it throws {@link ApiException} when it cannot.
     */
    public void groupTimeouts(java.util.function.Function<String, GroupTimeouts> timeouts) {
        synchronized (classic) {
            this.timeouts = timeouts;
        }
    }

    /** A ConsumerGroupHeartbeat request, independent of the wire classes. */
    public record HeartbeatRequest(String groupId, String memberId, int memberEpoch, String instanceId, String rackId,
                                   int rebalanceTimeoutMs, List<String> subscribedTopicNames,
                                   String subscribedTopicRegex, String serverAssignor,
                                   List<OwnedPartitions> ownedPartitions, String clientId, String clientHost,
                                   short apiVersion) {
    }

    /** The answer: the member's id and epoch, and its assignment when the member must be told (else null). */
    public record HeartbeatResult(String memberId, int memberEpoch, int heartbeatIntervalMs, Assignment assignment) {
    }

    // ---------------------------------------------------------------- ConsumerGroupHeartbeat

    /** Handles one heartbeat; a refused one throws {@link ApiException} with Kafka's error and message. */
    public HeartbeatResult heartbeat(HeartbeatRequest request, long nowMs) {
        synchronized (classic) {
            ConsumerGroup before = groups.get(request.groupId());
            int sizeBefore = before == null ? 0 : before.members.size();
            ConsumerGroupMember memberBefore = before == null || request.memberId() == null ? null
                    : before.members.get(request.memberId());
            boolean done = false;
            HeartbeatResult answered = null;
            try {
                HeartbeatChecks.validate(request, assignments);
                // Kafka 4.x checks the request, then finds the group's partition not loaded here.
                short coordinatorError = classic.coordinatorError(request.groupId());
                if (coordinatorError == NOT_COORDINATOR) {
                    throw new ApiException(NOT_COORDINATOR, "This is not the correct coordinator.");
                }
                if (coordinatorError != NONE) {
                    throw new ApiException(coordinatorError, "The coordinator is loading and hence can't process "
                            + "requests.");
                }
                if (request.memberEpoch() == LEAVE_GROUP_MEMBER_EPOCH
                        || request.memberEpoch() == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                    answered = removals.leave(request, nowMs);
                    done = true;
                    return answered;
                }
                // Read before anything changes: a group whose configs cannot be read is answered without a trace.
                GroupTimeouts groupTimeouts = timeouts.apply(request.groupId());
                answered = joins.join(request, groupTimeouts, nowMs);
                done = true;
                return answered;
            } finally {
                try {
                    store.flush();
                } finally {
                    // A heartbeat moves only its own member's deadlines (O(log n)), and a member that joins or
                    // leaves adds or removes only its own entry: the epoch bump sets no other member's deadline
                    // (each reconciles on its own heartbeat, as in Kafka). A new group, a replaced static member,
                    // a migration or a refused request may change more: the group is looked at whole.
                    ConsumerGroup after = groups.get(request.groupId());
                    boolean sameGroup = done && before != null && after == before;
                    ConsumerGroupMember joined = sameGroup && memberBefore == null && answered != null
                            && answered.memberId() != null ? after.members.get(answered.memberId()) : null;
                    if (sameGroup && memberBefore != null && after.members.size() == sizeBefore
                            && after.members.get(memberBefore.memberId) == memberBefore) {
                        deadlines.heard(after, memberBefore);
                    } else if (sameGroup && joined != null && after.members.size() == sizeBefore + 1) {
                        deadlines.heard(after, joined);
                    } else if (sameGroup && memberBefore != null && after.members.size() == sizeBefore - 1
                            && !after.members.containsKey(memberBefore.memberId)) {
                        deadlines.gone(after, memberBefore);
                    } else {
                        deadlines.refresh(request.groupId());
                    }
                    // A join sets session and rebalance deadlines: the group timer may have to wake earlier.
                    classic.deadlinesChanged();
                }
            }
        }
    }

    @Override
    public void tick(long nowMs) {
        synchronized (classic) {
            for (ConsumerGroup group : deadlines.due(nowMs)) {
                if (groups.get(group.groupId) == group) removals.expire(group, nowMs);
                deadlines.refresh(group.groupId);
            }
            store.flush();
        }
    }

    // ---------------------------------------------------------------- ModernGroups (for the classic coordinator)

    @Override
    public long nextDeadlineMs() {
        synchronized (classic) {
            return deadlines.nextDeadlineMs();
        }
    }

    @Override
    public boolean isConsumerGroup(String groupId) {
        synchronized (classic) {
            return groups.containsKey(groupId);
        }
    }

    @Override
    public void unload(java.util.function.Predicate<String> lost) {
        synchronized (classic) {
            groups.keySet().removeIf(lost);
            deadlines.forgetGone();
        }
    }

    @Override
    public boolean isEmptyConsumerGroup(String groupId) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            return group != null && group.members.isEmpty();
        }
    }

    @Override
    public void deleteEmptyConsumerGroup(String groupId) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            if (group == null || !group.members.isEmpty()) return;
            groups.remove(groupId);
            deadlines.refresh(groupId);
            store.groupDeleted(groupId);
            store.flush();
        }
    }

    @Override
    public short validateOffsetCommit(String groupId, String memberId, String instanceId, int memberEpoch,
                                      boolean transactional, short apiVersion) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            if (group == null) return NONE;
            // A commit without a member (admin tools, assign() consumers) is fine while the group has no members.
            if (memberEpoch < 0 && group.members.isEmpty()) return NONE;
            // A transactional producer that sends no group metadata (before KIP-447) commits without a member.
            if (transactional && memberEpoch == -1 && "".equals(memberId) && instanceId == null) return NONE;
            ConsumerGroupMember member = memberId == null ? null : group.members.get(memberId);
            if (member == null) return UNKNOWN_MEMBER_ID;
            // A classic member commits with its generation (its epoch) at any OffsetCommit version, as in Kafka.
            if (member.usesClassicProtocol()) return memberEpoch == member.memberEpoch ? NONE : ILLEGAL_GENERATION;
            if (!transactional && apiVersion < 9) return UNSUPPORTED_VERSION;
            return memberEpoch == member.memberEpoch ? NONE : STALE_MEMBER_EPOCH;
        }
    }

    /**
     * Kafka's ConsumerGroup.validateOffsetFetch (OffsetFetch v9+): NONE without a member (admin tools), else the
     * member must exist (UNKNOWN_MEMBER_ID) at its current epoch (STALE_MEMBER_EPOCH). NONE for other groups.
     */
    public short validateOffsetFetch(String groupId, String memberId, int memberEpoch) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            if (group == null || (memberId == null && memberEpoch < 0)) return NONE;
            ConsumerGroupMember member = memberId == null ? null : group.members.get(memberId);
            if (member == null) return UNKNOWN_MEMBER_ID;
            return memberEpoch == member.memberEpoch ? NONE : STALE_MEMBER_EPOCH;
        }
    }

    // ---------------------------------------------------------------- classic members (KIP-848 migration)

    @Override
    public void classicJoin(JoinRequest request, long nowMs, Consumer<JoinResult> callback) {
        JoinResult result;
        synchronized (classic) {
            try {
                result = classicMembers.join(groups.get(request.groupId()), request, nowMs);
            } finally {
                deadlines.refresh(request.groupId());
                store.flush();
            }
        }
        callback.accept(result);
    }

    @Override
    public SyncResult classicSync(SyncRequest request, long nowMs) {
        synchronized (classic) {
            try {
                return classicMembers.sync(groups.get(request.groupId()), request, nowMs);
            } finally {
                deadlines.refresh(request.groupId());
                store.flush();
            }
        }
    }

    @Override
    public short classicHeartbeat(String groupId, String memberId, String groupInstanceId, int generationId,
                                  long nowMs) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            try {
                return classicMembers.heartbeat(group, memberId, groupInstanceId, generationId, nowMs);
            } finally {
                // Its session restarts, or it is told to rejoin by a deadline: only this member's entry moves.
                ConsumerGroupMember member = group == null || memberId == null ? null : group.members.get(memberId);
                if (member != null) deadlines.heard(group, member);
            }
        }
    }

    @Override
    public List<MemberLeaveResult> classicLeave(String groupId, List<LeavingMember> leaving, long nowMs) {
        synchronized (classic) {
            try {
                return classicMembers.leave(groups.get(groupId), leaving, nowMs);
            } finally {
                deadlines.refresh(groupId);
                store.flush();
            }
        }
    }

    @Override
    public boolean isSubscribedTo(String groupId, String topic) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            return group != null && group.subscribedTopics.containsKey(topic);
        }
    }

    @Override
    public Set<String> groupIds() {
        synchronized (classic) {
            return Set.copyOf(groups.keySet());
        }
    }

    /**
     * ConsumerGroupDescribe: the group, or GROUP_ID_NOT_FOUND with Kafka's message when the id is unknown or belongs
     * to a classic group.
     */
    public ConsumerGroupDescription describe(String groupId) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            if (group != null) return ConsumerGroupDescription.of(group, assignments.assignorFor(group).name());
            String message = classic.hasGroup(groupId) ? "Group " + groupId + " is not a consumer group."
                    : "Group " + groupId + " not found.";
            return new ConsumerGroupDescription(GROUP_ID_NOT_FOUND, message, groupId, "", 0, 0, "", List.of());
        }
    }

    /** Every consumer group's id and state, for ListGroups (their protocol type is "consumer"). */
    public List<Listing> listGroups() {
        synchronized (classic) {
            List<Listing> result = new ArrayList<>();
            for (ConsumerGroup g : groups.values()) result.add(new Listing(g.groupId, g.state()));
            return result;
        }
    }

    public record Listing(String groupId, ConsumerGroup.State state) {
    }

    /** A member's reconciliation state, or null if it is not a member (for tests and diagnostics). */
    public MemberState readState(String groupId, String memberId) {
        synchronized (classic) {
            ConsumerGroup group = groups.get(groupId);
            ConsumerGroupMember member = group == null ? null : group.members.get(memberId);
            return member == null ? null : member.state;
        }
    }

    /** Replays one consumer group record of {@code __consumer_offsets} (value null: a tombstone) at load time. */
    public void replay(byte[] key, byte[] value) {
        synchronized (classic) {
            ConsumerGroupLoader.replay(groups, key, value);
        }
    }

    /**
     * Ends a load: members get a fresh session (and rebalance) timeout, as Kafka schedules them on load, and the
     * groups' subscribed topics are taken as they are now, so a restart alone starts no rebalance.
     */
    public void loaded(long nowMs) {
        synchronized (classic) {
            for (ConsumerGroup group : groups.values()) {
                group.ownershipChanged();
                int sessionTimeoutMs;
                try {
                    sessionTimeoutMs = timeouts.apply(group.groupId).sessionTimeoutMs();
                } catch (ApiException e) {
                    // The members' next heartbeats read the group's configs again (and fail until they can be).
                    sessionTimeoutMs = config.sessionTimeoutMs();
                }
                ConsumerGroupLoader.finish(group, nowMs, sessionTimeoutMs);
                group.subscribedTopics = assignments.subscribedTopics(group);
            }
            for (String groupId : List.copyOf(groups.keySet())) deadlines.refresh(groupId);
            classic.deadlinesChanged();
        }
    }

    /** How many deadline entries the consumer groups hold (for tests: at most one per live member). */
    int deadlineEntries() {
        synchronized (classic) {
            return deadlines.size();
        }
    }

    /** The coordinator's settings. */
    public ConsumerGroupConfig config() {
        return config;
    }
}
