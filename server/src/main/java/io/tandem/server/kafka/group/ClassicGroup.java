package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.GroupMessages.Protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The data of one classic group; the transitions live in {@link GroupCoordinator}. */
final class ClassicGroup {
    final String groupId;
    GroupState state = GroupState.EMPTY;
    int generationId;
    String protocolType;
    String protocolName;
    String leaderId;
    final Map<String, GroupMember> members = new LinkedHashMap<>();
    /** group.instance.id -> the member id that instance currently holds. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined, with their expiry time. */
    final Map<String, Long> pendingMembers = new HashMap<>();
    final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
    /**
     * When the group last became Empty after having members (Kafka's currentStateTimestamp), from which the
     * offsets of an empty group are retained; -1 if unknown (a group known only from its commits).
     */
    long emptySinceMs = -1;
    /** When the group entered its state (Kafka's currentStateTimestamp, written in its record); -1 if unknown. */
    long stateSinceMs = -1;

    /**
     * Offsets committed inside a producer's open transaction (TxnOffsetCommit), by producer id: invisible until the
     * transaction's COMMIT marker reaches the group's offsets partition, dropped by its ABORT marker.
     */
    final Map<Long, Map<TopicPartition, CommittedOffset>> pendingTxnOffsets = new HashMap<>();
    /** When PreparingRebalance ends at the latest. */
    long joinDeadlineMs;
    /** While the initial-rebalance delay runs, the join only completes on its timer, not when everyone is in. */
    boolean initialDelayActive;
    boolean newMemberAddedDuringDelay;
    long initialDelayRemainingMs;
    /** When members that have not sent SyncGroup in CompletingRebalance/Stable are dropped. */
    long syncDeadlineMs = Long.MAX_VALUE;
    /** Members of the current generation that have not sent SyncGroup yet. */
    final java.util.Set<String> pendingSyncMembers = new java.util.HashSet<>();

    ClassicGroup(String groupId) {
        this.groupId = groupId;
    }

    boolean is(GroupState s) {
        return state == s;
    }

    void transitionTo(GroupState next, long nowMs) {
        state = next;
        stateSinceMs = nowMs;
        if (next == GroupState.EMPTY) emptySinceMs = nowMs;
    }

    GroupMember member(String memberId) {
        return members.get(memberId);
    }

    boolean has(String memberId) {
        return members.containsKey(memberId);
    }

    boolean isLeader(String memberId) {
        return memberId.equals(leaderId);
    }

    /** Kafka's rule: a known instance id presented with a different member id is a zombie of an old instance. */
    boolean isStaticMemberFenced(String groupInstanceId, String memberId) {
        if (groupInstanceId == null) return false;
        String current = staticMembers.get(groupInstanceId);
        return current != null && !current.equals(memberId);
    }

    int rebalanceTimeoutMs() {
        int max = 0;
        for (GroupMember m : members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
        return max;
    }

    boolean allMembersJoined() {
        if (!pendingMembers.isEmpty()) return false;
        for (GroupMember m : members.values()) {
            if (!m.isAwaitingJoin()) return false;
        }
        return true;
    }

    /** Protocols every member supports, in no particular order. */
    Set<String> candidateProtocols() {
        Set<String> result = null;
        for (GroupMember m : members.values()) {
            Set<String> names = new LinkedHashSet<>();
            for (Protocol p : m.protocols) names.add(p.name());
            if (result == null) result = names; else result.retainAll(names);
        }
        return result == null ? Set.of() : result;
    }

    boolean supportsProtocols(String memberProtocolType, List<Protocol> memberProtocols) {
        if (memberProtocolType == null || memberProtocolType.isEmpty() || memberProtocols.isEmpty()) return false;
        if (members.isEmpty()) return true;
        if (!memberProtocolType.equals(protocolType)) return false;
        Set<String> candidates = candidateProtocols();
        for (Protocol p : memberProtocols) {
            if (candidates.contains(p.name())) return true;
        }
        return false;
    }

    /** Each member votes for its most preferred protocol that all support; the most votes wins, ties by first vote. */
    String selectProtocol() {
        Set<String> candidates = candidateProtocols();
        if (candidates.isEmpty()) throw new IllegalStateException("no protocol supported by all members of " + groupId);
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (GroupMember m : members.values()) {
            for (Protocol p : m.protocols) {
                if (candidates.contains(p.name())) {
                    votes.merge(p.name(), 1, Integer::sum);
                    break;
                }
            }
        }
        String best = null;
        int bestVotes = -1;
        for (Map.Entry<String, Integer> e : votes.entrySet()) {
            if (e.getValue() > bestVotes) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    void add(GroupMember member) {
        if (members.isEmpty()) protocolType = member.protocolType;
        members.put(member.memberId, member);
        if (member.isStatic()) staticMembers.put(member.groupInstanceId, member.memberId);
        if (leaderId == null) leaderId = member.memberId;
    }

    void remove(String memberId) {
        GroupMember removed = members.remove(memberId);
        if (removed != null && removed.isStatic()) staticMembers.remove(removed.groupInstanceId, memberId);
        if (memberId.equals(leaderId)) {
            leaderId = members.isEmpty() ? null : members.keySet().iterator().next();
        }
    }

    List<String> memberIds() {
        return new ArrayList<>(members.keySet());
    }

    /** Whether a consumer-protocol member of this group may be subscribed to the topic (used by OffsetDelete). */
    boolean isSubscribedTo(String topic) {
        if (!"consumer".equals(protocolType) || protocolName == null) return false;
        for (GroupMember m : members.values()) {
            for (Protocol p : m.protocols) {
                if (p.name().equals(protocolName) && ConsumerProtocolSubscription.topics(p.metadata()).contains(topic)) {
                    return true;
                }
            }
        }
        return false;
    }
}
