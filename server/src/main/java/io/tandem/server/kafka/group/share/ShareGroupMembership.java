package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.share.ShareGroupCoordinator.HeartbeatResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;

import static io.tandem.server.kafka.ErrorCodes.*;
import static io.tandem.server.kafka.group.share.ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH;

/**
 * ShareGroupHeartbeat's part of the share group coordinator: joining, heartbeating and leaving (Kafka's
 * shareGroupHeartbeat), the group epoch, the "simple" target assignment, and a member's removal. Split from
 * {@link ShareGroupCoordinator}, which owns the groups and calls in here under its lock.
 */
final class ShareGroupMembership {
    private final ShareGroupConfig config;
    /** A group's settings (its group configs over the broker's), as the coordinator has them now. */
    private final Function<String, ShareGroupConfig> configFor;
    private final TopicsView topics;
    private final Predicate<String> otherKind;
    private final Map<String, ShareGroup> groups;
    private final ShareGroupStore store;
    /** Told of each member removed, whose records go back once the coordinator's lock is released. */
    private final java.util.function.BiConsumer<String, String> memberLeft;

    ShareGroupMembership(ShareGroupConfig config, Function<String, ShareGroupConfig> configFor, TopicsView topics,
                         Predicate<String> otherKind, Map<String, ShareGroup> groups, ShareGroupStore store,
                         java.util.function.BiConsumer<String, String> memberLeft) {
        this.config = config;
        this.configFor = configFor;
        this.topics = topics;
        this.otherKind = otherKind;
        this.groups = groups;
        this.store = store;
        this.memberLeft = memberLeft;
    }

    HeartbeatResult join(HeartbeatRequest request, long nowMs) {
        validate(request);
        if (request.memberEpoch() == LEAVE_GROUP_MEMBER_EPOCH) return leave(request, nowMs);
        ShareGroup group = groups.get(request.groupId());
        if (group == null) {
            if (request.memberEpoch() != 0 || otherKind.test(request.groupId())) {
                throw new ApiException(GROUP_ID_NOT_FOUND, otherKind.test(request.groupId())
                        ? "Group " + request.groupId() + " is not a share group."
                        : "Share group " + request.groupId() + " not found.");
            }
            group = new ShareGroup(request.groupId());
            groups.put(group.groupId, group);
        }
        ShareGroupMember member = group.members.get(request.memberId());
        boolean joined = member == null;
        if (member == null && group.members.size() >= config.maxSize()) {
            throw new ApiException(GROUP_MAX_SIZE_REACHED, "The share group has reached its maximum capacity of "
                    + config.maxSize() + " members.");
        }
        if (member == null) {
            if (request.memberEpoch() != 0) {
                throw new ApiException(UNKNOWN_MEMBER_ID, "Member " + request.memberId()
                        + " is not a member of group " + request.groupId() + ".");
            }
            // Its subscription (new, so changed) bumps the group epoch below, once, as in Kafka.
            member = new ShareGroupMember(request.memberId());
            group.members.put(member.memberId, member);
        } else if (request.memberEpoch() > member.memberEpoch) {
            throw new ApiException(FENCED_MEMBER_EPOCH, "The share group member has a greater member epoch ("
                    + request.memberEpoch() + ") than the one known by the group coordinator (" + member.memberEpoch
                    + "). The member must abandon all its partitions and rejoin.");
        } else if (request.memberEpoch() < member.memberEpoch
                && request.memberEpoch() != member.previousMemberEpoch) {
            // As Kafka: the previous epoch is accepted, since the answer that bumped it may have been lost.
            throw new ApiException(FENCED_MEMBER_EPOCH, "The share group member has a smaller member epoch ("
                    + request.memberEpoch() + ") than the one known by the group coordinator (" + member.memberEpoch
                    + "). The member must abandon all its partitions and rejoin.");
        }
        member.lastHeartbeatMs = nowMs;
        // As Kafka 4.4's shareGroupHeartbeat: at most one new group epoch per heartbeat, for a subscription change,
        // for initialized share-partitions the target does not assign yet (initializedAssignmentPending, checked
        // only while the target is at the group epoch), or for a change of the subscribed topics' metadata.
        boolean bump = false;
        boolean changed = joined;
        if (request.clientId() != null && !request.clientId().equals(member.clientId)) {
            member.clientId = request.clientId();
            changed = true;
        }
        if (request.clientHost() != null && !request.clientHost().equals(member.clientHost)) {
            member.clientHost = request.clientHost();
            changed = true;
        }
        if (request.rackId() != null && !request.rackId().equals(member.rackId)) {
            member.rackId = request.rackId();
            changed = true;
        }
        if (request.subscribedTopicNames() != null
                && !request.subscribedTopicNames().equals(member.subscribedTopicNames)) {
            member.subscribedTopicNames = List.copyOf(request.subscribedTopicNames());
            bump = true;
            changed = true;
        }
        // Kafka's order of records: the member, the group epoch, the target assignment, the member's assignment.
        if (changed) store.memberMetadata(group.groupId, member);
        if (group.assignmentEpoch >= group.groupEpoch) bump |= initializedAssignmentPending(group);
        String topology = topology(group);
        if (!topology.equals(group.topology)) {
            // A subscribed topic appeared, went or grew: a new group epoch, as Kafka bumps it on metadata changes.
            bump = true;
            group.topology = topology;
        }
        if (bump) {
            group.groupEpoch++;
            store.groupEpoch(group.groupId, group.groupEpoch, metadataHash(group));
        }
        if (group.assignmentEpoch != group.groupEpoch) assign(group, nowMs);
        if (member.memberEpoch != group.assignmentEpoch) {
            member.previousMemberEpoch = member.memberEpoch;
            member.memberEpoch = group.assignmentEpoch;
            store.currentAssignment(group.groupId, member);
        }
        Map<UUID, SortedSet<Integer>> toSend = null;
        // As Kafka: a (re)join always gets its assignment, a heartbeat only when it changed.
        if (request.memberEpoch() == 0 || !member.assignment.equals(member.sentAssignment)) {
            toSend = member.assignment;
            member.sentAssignment = member.assignment;
        }
        return new HeartbeatResult(member.memberId, member.memberEpoch,
                configFor.apply(group.groupId).heartbeatIntervalMs(), toSend);
    }

    /** Kafka's throwIfShareGroupHeartbeatRequestIsInvalid, checks and messages in its order. */
    static void validate(HeartbeatRequest r) {
        if (r.memberId() == null || r.memberId().isBlank()) {
            throw new ApiException(INVALID_REQUEST, "MemberId can't be empty.");
        }
        if (r.groupId() == null || r.groupId().isBlank()) throw new ApiException(INVALID_REQUEST, "GroupId can't be empty.");
        if (r.rackId() != null && r.rackId().isBlank()) throw new ApiException(INVALID_REQUEST, "RackId can't be empty.");
        if (r.memberEpoch() == 0 && (r.subscribedTopicNames() == null || r.subscribedTopicNames().isEmpty())) {
            throw new ApiException(INVALID_REQUEST, "SubscribedTopicNames must be set in first request.");
        }
        if (r.memberEpoch() < LEAVE_GROUP_MEMBER_EPOCH) throw new ApiException(INVALID_REQUEST, "MemberEpoch is invalid.");
    }

    private HeartbeatResult leave(HeartbeatRequest request, long nowMs) {
        ShareGroup group = groups.get(request.groupId());
        if (group == null) {
            throw new ApiException(GROUP_ID_NOT_FOUND, "Share group " + request.groupId() + " not found.");
        }
        if (!group.members.containsKey(request.memberId())) {
            throw new ApiException(UNKNOWN_MEMBER_ID, "Member " + request.memberId()
                    + " is not a member of group " + request.groupId() + ".");
        }
        removeMember(group, request.memberId(), nowMs);
        return new HeartbeatResult(request.memberId(), LEAVE_GROUP_MEMBER_EPOCH, 0, null);
    }

    void removeMember(ShareGroup group, String memberId, long nowMs) {
        group.members.remove(memberId);
        store.memberRemoved(group.groupId, memberId);
        group.groupEpoch++;
        store.groupEpoch(group.groupId, group.groupEpoch, metadataHash(group));
        assign(group, nowMs);
        // What it holds in the share-partitions led here goes back, once the coordinator's lock is released (the
        // release is written to the share coordinator); on other leaders its locks expire, as in Kafka (the leaving
        // member's client closes its share sessions there itself).
        memberLeft.accept(group.groupId, memberId);
    }

    String topology(ShareGroup group) {
        StringBuilder sb = new StringBuilder();
        for (String name : new java.util.TreeSet<>(subscribedNames(group))) {
            TopicRef t = topics.byName(name);
            if (t != null) sb.append(t.id()).append(':').append(t.partitionCount()).append(';');
        }
        return sb.toString();
    }

    static List<String> subscribedNames(ShareGroup group) {
        List<String> names = new ArrayList<>();
        for (ShareGroupMember m : group.members.values()) {
            if (m.subscribedTopicNames != null) names.addAll(m.subscribedTopicNames);
        }
        return names;
    }

    /**
     * Kafka 4.4's initializedAssignmentPending: whether a subscribed topic has initialized share-partitions that the
     * target assignment (all members together) does not hold exactly. The target covers initialized share-partitions
     * only, so a heartbeat that initializes some assigns them at the next heartbeat's new epoch.
     */
    boolean initializedAssignmentPending(ShareGroup group) {
        if (group.members.isEmpty() || group.initialized.isEmpty()) return false;
        java.util.Set<UUID> subscribed = new java.util.HashSet<>();
        for (String name : subscribedNames(group)) {
            TopicRef t = topics.byName(name);
            if (t != null) subscribed.add(t.id());
        }
        if (subscribed.isEmpty()) return false;
        Map<UUID, java.util.Set<Integer>> assigned = new java.util.HashMap<>();
        for (ShareGroupMember m : group.members.values()) {
            m.assignment.forEach((topicId, partitions) ->
                    assigned.computeIfAbsent(topicId, k -> new java.util.HashSet<>()).addAll(partitions));
        }
        for (Map.Entry<UUID, SortedSet<Integer>> e : group.initialized.entrySet()) {
            if (!subscribed.contains(e.getKey())) continue;
            java.util.Set<Integer> held = assigned.get(e.getKey());
            if (held == null || !held.equals(new java.util.HashSet<>(e.getValue()))) return true;
        }
        return false;
    }

    private void assign(ShareGroup group, long nowMs) {
        Map<String, List<TopicRef>> subscriptions = new TreeMap<>();
        for (ShareGroupMember m : group.members.values()) {
            List<TopicRef> refs = new ArrayList<>();
            if (m.subscribedTopicNames != null) {
                for (String name : m.subscribedTopicNames) {
                    TopicRef t = topics.byName(name);
                    if (t != null) refs.add(t);
                }
            }
            subscriptions.put(m.memberId, refs);
        }
        // As Kafka 4.4 (withTopicAssignablePartitionsMap): only share-partitions with state are assigned.
        Map<String, Map<UUID, SortedSet<Integer>>> result = SimpleAssignor.assign(subscriptions, group.initialized);
        for (ShareGroupMember m : group.members.values()) {
            Map<UUID, SortedSet<Integer>> target = result.getOrDefault(m.memberId, Map.of());
            // As Kafka's target assignment builder: a record only for the members whose target changed.
            if (!m.hasTarget || !target.equals(m.assignment)) store.targetAssignment(group.groupId, m.memberId, target);
            m.assignment = target;
            m.hasTarget = true;
        }
        group.assignmentEpoch = group.groupEpoch;
        group.topology = topology(group);
        // Kafka stamps a computed assignment with its time, and the empty group's (its last member gone) with 0.
        store.targetAssignmentEpoch(group.groupId, group.assignmentEpoch, group.members.isEmpty() ? 0 : nowMs);
    }


    /** Kafka's hash of the subscribed topics' metadata, written in ShareGroupMetadata. */
    long metadataHash(ShareGroup group) {
        return MetadataHash.groupHash(new java.util.TreeSet<>(subscribedNames(group)), topics);
    }
}
