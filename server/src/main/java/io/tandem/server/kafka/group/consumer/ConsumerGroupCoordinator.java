package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupMessages.HandedOverGroup;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.MemberLeaveResult;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import io.tandem.server.kafka.group.ModernGroups;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The consumer group coordinator of KIP-848 (ConsumerGroupHeartbeat): the membership, the group epoch, the server-side
 * target assignment and each member's reconciliation towards it, with Kafka's GroupMetadataManager rules. It shares the
 * classic {@link GroupCoordinator}'s lock and offsets: a group id is of one kind at a time, an empty group of either
 * kind may be taken over by the other, and a live group migrates between the two under
 * {@code group.consumer.migration.policy} ({@link GroupMigration}), classic members of a consumer group being served
 * by {@link ClassicProtocolMembers}. Time comes in as {@code nowMs} and {@link #tick(long)}, so tests drive it.
 */
public final class ConsumerGroupCoordinator implements ModernGroups {
    /** ConsumerGroupHeartbeat's MemberEpoch meaning "leave the group". */
    public static final int LEAVE_GROUP_MEMBER_EPOCH = -1;
    /** ConsumerGroupHeartbeat's MemberEpoch meaning "a static member leaves for now and will be back". */
    public static final int LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

    private final GroupCoordinator classic;
    private final ConsumerGroupConfig config;
    private final ConsumerGroupStore store;
    private final TopicsView topics;
    private final Map<String, ConsumerGroup> groups = new LinkedHashMap<>();
    private final TargetAssignments assignments;
    private final GroupMigration migration;
    private final ClassicProtocolMembers classicMembers;
    /** Each group's session timeout and heartbeat interval (its group configs over the broker's keys). */
    private java.util.function.Function<String, GroupTimeouts> timeouts;

    public ConsumerGroupCoordinator(GroupCoordinator classic, ConsumerGroupConfig config, ConsumerGroupStore store,
                                    TopicsView topics) {
        this.classic = classic;
        this.config = config;
        this.store = store;
        this.topics = topics;
        this.assignments = new TargetAssignments(config, store, topics);
        this.migration = new GroupMigration(classic, config, store, topics);
        this.classicMembers = new ClassicProtocolMembers(this, migration, config, store);
        this.timeouts = groupId -> new GroupTimeouts(config.sessionTimeoutMs(), config.heartbeatIntervalMs());
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
                    return leave(request, nowMs);
                }
                return join(request, nowMs);
            } finally {
                store.flush();
            }
        }
    }

    private HeartbeatResult join(HeartbeatRequest r, long nowMs) {
        // Read before anything changes: a group whose configs cannot be read is answered without a trace.
        GroupTimeouts groupTimeouts = timeouts.apply(r.groupId());
        boolean joining = r.memberEpoch() == 0;
        ConsumerGroup group = getOrMaybeCreate(r.groupId(), joining, nowMs);
        String memberId = r.memberId() == null || r.memberId().isEmpty() ? newMemberId() : r.memberId();
        if (group.members.size() >= config.maxSize() && !group.members.containsKey(memberId)) {
            throw new ApiException(GROUP_MAX_SIZE_REACHED, "The consumer group has reached its maximum capacity of "
                    + config.maxSize() + " members.");
        }
        boolean created = !group.members.containsKey(memberId);
        ConsumerGroupMember member;
        ConsumerGroupMember replaced = null;
        if (r.instanceId() == null) {
            member = memberFor(group, memberId, joining);
            HeartbeatChecks.checkEpoch(member, r.memberEpoch(), r.ownedPartitions());
        } else {
            ConsumerGroupMember current = group.staticMember(r.instanceId());
            if (joining) {
                if (current == null) {
                    member = memberFor(group, memberId, true);
                    HeartbeatChecks.checkEpoch(member, r.memberEpoch(), r.ownedPartitions());
                } else {
                    if (current.memberEpoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                        throw new ApiException(UNRELEASED_INSTANCE_ID, "Static member " + memberId
                                + " with instance id " + r.instanceId() + " cannot join the group because the"
                                + " instance id is owned by " + current.memberId + " member.");
                    }
                    // The instance came back under a new member id: it takes over the old member's subscription,
                    // partitions and target, so it gets its partitions back without a rebalance.
                    replaced = current;
                    member = new ConsumerGroupMember(memberId);
                    member.copySubscriptionFrom(current);
                    member.assigned = current.assigned;
                    member.memberEpoch = 0;
                }
            } else {
                if (current == null) {
                    throw new ApiException(UNKNOWN_MEMBER_ID, "Instance id " + r.instanceId() + " is unknown.");
                }
                if (!current.memberId.equals(memberId)) {
                    throw new ApiException(FENCED_INSTANCE_ID, "Static member " + memberId + " with instance id "
                            + r.instanceId() + " was fenced by member " + current.memberId + ".");
                }
                member = current;
                HeartbeatChecks.checkEpoch(member, r.memberEpoch(), r.ownedPartitions());
            }
        }
        Assignment assignedBefore = created && replaced == null ? null : member.assigned;
        boolean subscriptionChanged = updateMember(member, r);
        if (replaced != null) {
            group.members.remove(replaced.memberId);
            Assignment target = group.targetAssignment.remove(replaced.memberId);
            if (target != null) group.targetAssignment.put(memberId, target);
            store.memberRemoved(group.groupId, replaced.memberId);
            if (target != null) store.targetAssignment(group.groupId, memberId, target);
        }
        // A member heartbeating with ConsumerGroupHeartbeat speaks the consumer protocol (Kafka clears its
        // ClassicMemberMetadata).
        boolean wasClassic = member.classic != null;
        member.classic = null;
        member.joinDeadlineMs = Long.MAX_VALUE;
        member.syncDeadlineMs = Long.MAX_VALUE;
        if (created || replaced != null || subscriptionChanged || wasClassic) {
            store.memberMetadata(group.groupId, member);
        }
        group.members.put(memberId, member);
        if (member.instanceId != null) group.staticMembers.put(member.instanceId, memberId);
        updateEpochAndTarget(group, created && replaced == null || subscriptionChanged);
        MemberState stateBefore = member.state;
        int epochBefore = member.memberEpoch;
        CurrentAssignmentBuilder.reconcile(member, group.assignmentEpoch, group.targetAssignment(memberId),
                group::isOwnedByOther, r.ownedPartitions());
        afterReconcile(group, member, stateBefore, epochBefore, assignedBefore, nowMs);
        member.sessionDeadlineMs = nowMs + groupTimeouts.sessionTimeoutMs();
        boolean fullRequest = joining || (r.rebalanceTimeoutMs() != -1 && r.subscribedTopicNames() != null
                && r.ownedPartitions() != null);
        boolean assignmentChanged = assignedBefore == null || !assignedBefore.equals(member.assigned);
        return new HeartbeatResult(memberId, member.memberEpoch, groupTimeouts.heartbeatIntervalMs(),
                fullRequest || assignmentChanged ? member.assigned : null);
    }

    /**
     * Bumps the group epoch when the membership or a subscription changed ({@code bump}) or the subscribed topics
     * did, and computes a new target assignment when the epoch moved past it.
     */
    void updateEpochAndTarget(ConsumerGroup group, boolean bump) {
        Map<String, TopicRef> subscribed = assignments.subscribedTopics(group);
        if (!subscribed.equals(group.subscribedTopics)) {
            group.subscribedTopics = subscribed;
            bump = true;
        }
        if (bump) {
            group.groupEpoch++;
            store.groupEpoch(group.groupId, group.groupEpoch);
        }
        if (group.groupEpoch > group.assignmentEpoch) assignments.computeTargetAssignment(group);
    }

    /** After a reconciliation: the revocation deadline starts or stops, and a changed assignment is stored. */
    void afterReconcile(ConsumerGroup group, ConsumerGroupMember member, MemberState stateBefore, int epochBefore,
                        Assignment assignedBefore, long nowMs) {
        if (member.state == MemberState.UNREVOKED_PARTITIONS
                && (stateBefore != MemberState.UNREVOKED_PARTITIONS || epochBefore != member.memberEpoch)) {
            member.revocationDeadlineMs = nowMs + member.rebalanceTimeoutMs;
        } else if (member.state != MemberState.UNREVOKED_PARTITIONS) {
            member.revocationDeadlineMs = Long.MAX_VALUE;
        }
        if (stateBefore != member.state || epochBefore != member.memberEpoch || assignedBefore == null
                || !assignedBefore.equals(member.assigned)) {
            store.currentAssignment(group.groupId, member);
        }
    }

    /** Applies the fields the request sets (null means "unchanged"); returns whether the subscription changed. */
    private static boolean updateMember(ConsumerGroupMember member, HeartbeatRequest r) {
        List<String> names = r.subscribedTopicNames() == null ? member.subscribedTopicNames
                : List.copyOf(new LinkedHashSet<>(r.subscribedTopicNames()));
        // An empty regex clears the regex subscription, as in Kafka.
        String regex = r.subscribedTopicRegex() == null ? member.subscribedTopicRegex
                : r.subscribedTopicRegex().isEmpty() ? null : r.subscribedTopicRegex();
        boolean changed = !member.sameSubscription(names, regex)
                || (r.serverAssignor() != null && !r.serverAssignor().equals(member.serverAssignor));
        member.subscribedTopicNames = names;
        member.subscribedTopicRegex = regex;
        if (r.serverAssignor() != null) member.serverAssignor = r.serverAssignor();
        if (r.instanceId() != null) member.instanceId = r.instanceId();
        if (r.rackId() != null) member.rackId = r.rackId();
        if (r.rebalanceTimeoutMs() != -1) member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        member.clientId = r.clientId() == null ? "" : r.clientId();
        member.clientHost = r.clientHost() == null ? "" : r.clientHost();
        return changed;
    }

    private ConsumerGroupMember memberFor(ConsumerGroup group, String memberId, boolean createIfAbsent) {
        ConsumerGroupMember member = group.members.get(memberId);
        if (member != null) return member;
        if (!createIfAbsent) {
            throw new ApiException(UNKNOWN_MEMBER_ID, "Member " + memberId + " is not a member of group "
                    + group.groupId + ".");
        }
        return new ConsumerGroupMember(memberId);
    }

    private ConsumerGroup getOrMaybeCreate(String groupId, boolean create, long nowMs) {
        ConsumerGroup group = groups.get(groupId);
        if (group != null) return group;
        HandedOverGroup live = classic.liveClassicGroup(groupId);
        if (live != null && live.members().isEmpty() && create) {
            // Only member ids handed out with MEMBER_ID_REQUIRED: an Empty classic group, as Kafka sees it, which a
            // consumer group takes over under every policy (those ids may still join, as classic members).
            classic.releaseToConsumerGroup(groupId, nowMs);
            live = null;
        }
        if (live != null) {
            if (!create) throw new ApiException(GROUP_ID_NOT_FOUND, "Group " + groupId + " is not a consumer group");
            // The first consumer-protocol member of a live classic group: an online upgrade, policy permitting.
            group = migration.upgrade(live, nowMs);
            groups.put(groupId, group);
            return group;
        }
        if (!create) {
            // Kafka names an Empty classic group (its members gone, its offsets kept) as it names a live one.
            throw new ApiException(GROUP_ID_NOT_FOUND, classic.hasGroup(groupId)
                    ? "Group " + groupId + " is not a consumer group" : "Consumer group " + groupId + " not found.");
        }
        // An empty classic group (or one known only from its offsets) becomes a consumer group; offsets stay. As
        // Kafka 4.x's maybeDeleteEmptyClassicGroup, the classic group's record gets its tombstone, so a reload does
        // not bring the classic group back beside the consumer group.
        if (classic.hasGroup(groupId)) classic.releaseToConsumerGroup(groupId, nowMs);
        group = new ConsumerGroup(groupId);
        groups.put(groupId, group);
        return group;
    }

    static String newMemberId() {
        UUID uuid = UUID.randomUUID();
        ByteBuffer bytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits());
        // Kafka's Uuid.toString(): URL-safe base64 without padding.
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
    }

    // ---------------------------------------------------------------- leaving and fencing

    private HeartbeatResult leave(HeartbeatRequest r, long nowMs) {
        ConsumerGroup group = groups.get(r.groupId());
        if (group == null) {
            throw new ApiException(GROUP_ID_NOT_FOUND, classic.isClassicGroupInUse(r.groupId())
                    ? "Group " + r.groupId() + " is not a consumer group" : "Consumer group " + r.groupId()
                    + " not found.");
        }
        ConsumerGroupMember member;
        if (r.instanceId() == null) {
            member = memberFor(group, r.memberId(), false);
        } else {
            member = group.staticMember(r.instanceId());
            if (member == null) {
                throw new ApiException(UNKNOWN_MEMBER_ID, "Instance id " + r.instanceId() + " is unknown.");
            }
            if (!member.memberId.equals(r.memberId())) {
                throw new ApiException(FENCED_INSTANCE_ID, "Static member " + r.memberId() + " with instance id "
                        + r.instanceId() + " was fenced by member " + member.memberId + ".");
            }
            if (r.memberEpoch() == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                // It will be back within the session timeout: it keeps its partitions and its place meanwhile.
                member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                member.pendingRevocation = Assignment.EMPTY;
                member.revocationDeadlineMs = Long.MAX_VALUE;
                store.currentAssignment(group.groupId, member);
                return new HeartbeatResult(member.memberId, LEAVE_GROUP_STATIC_MEMBER_EPOCH, 0, null);
            }
        }
        fence(group, List.of(member), nowMs);
        return new HeartbeatResult(r.memberId(), r.memberEpoch(), 0, null);
    }

    /**
     * Removes members that left or were fenced; if only classic members remain, the group goes back to the classic
     * protocol instead, policy permitting (Kafka's online downgrade).
     */
    void fence(ConsumerGroup group, Collection<ConsumerGroupMember> leaving, long nowMs) {
        if (migration.shouldDowngrade(group, leaving)) {
            downgrade(group, leaving, true, nowMs);
            return;
        }
        for (ConsumerGroupMember m : leaving) removeMember(group, m);
    }

    /** Hands the group, without {@code leaving}, to the classic coordinator (Kafka's convertToClassicGroup). */
    void downgrade(ConsumerGroup group, Collection<ConsumerGroupMember> leaving, boolean rebalance, long nowMs) {
        groups.remove(group.groupId);
        migration.downgrade(group, leaving, rebalance, nowMs);
    }

    /** Removes a member (left, session expired, or fenced) and bumps the group epoch so the rest rebalance. */
    private void removeMember(ConsumerGroup group, ConsumerGroupMember member) {
        group.members.remove(member.memberId);
        if (member.instanceId != null && member.memberId.equals(group.staticMembers.get(member.instanceId))) {
            group.staticMembers.remove(member.instanceId);
        }
        group.targetAssignment.remove(member.memberId);
        store.memberRemoved(group.groupId, member.memberId);
        group.subscribedTopics = assignments.subscribedTopics(group);
        group.groupEpoch++;
        store.groupEpoch(group.groupId, group.groupEpoch);
    }

    @Override
    public void tick(long nowMs) {
        synchronized (classic) {
            for (ConsumerGroup group : List.copyOf(groups.values())) {
                List<ConsumerGroupMember> expired = new ArrayList<>();
                for (ConsumerGroupMember m : group.members.values()) {
                    // Session expiry; a member that kept partitions past its rebalance timeout is fenced, and so is
                    // a classic member that did not rejoin, or sync, within its rebalance timeout.
                    if (nowMs >= m.sessionDeadlineMs || nowMs >= m.revocationDeadlineMs || nowMs >= m.joinDeadlineMs
                            || nowMs >= m.syncDeadlineMs) {
                        expired.add(m);
                    }
                }
                if (!expired.isEmpty()) fence(group, expired, nowMs);
            }
            store.flush();
        }
    }

    // ---------------------------------------------------------------- ModernGroups (for the classic coordinator)

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
                store.flush();
            }
        }
    }

    @Override
    public short classicHeartbeat(String groupId, String memberId, String groupInstanceId, int generationId,
                                  long nowMs) {
        synchronized (classic) {
            return classicMembers.heartbeat(groups.get(groupId), memberId, groupInstanceId, generationId, nowMs);
        }
    }

    @Override
    public List<MemberLeaveResult> classicLeave(String groupId, List<LeavingMember> leaving, long nowMs) {
        synchronized (classic) {
            try {
                return classicMembers.leave(groups.get(groupId), leaving, nowMs);
            } finally {
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
        }
    }

    /** The coordinator's settings. */
    public ConsumerGroupConfig config() {
        return config;
    }
}
