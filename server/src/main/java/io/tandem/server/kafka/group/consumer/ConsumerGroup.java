package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The data of one consumer group (KIP-848); the transitions live in {@link MemberJoins}, {@link MemberRemovals} and
 * {@link GroupEpochs}. The group epoch moves when the membership or the subscribed topics change; the assignment epoch
 * is the group epoch the current target assignment was computed for; each member reconciles to the target at its own
 * pace.
 */
public final class ConsumerGroup {
    /** Kafka's ConsumerGroupState names, as ListGroups, DescribeGroups and ConsumerGroupDescribe report them. */
    public enum State {
        EMPTY("Empty"), ASSIGNING("Assigning"), RECONCILING("Reconciling"), STABLE("Stable"), DEAD("Dead");

        private final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }

        @Override
        public String toString() {
            return kafkaName;
        }
    }

    final String groupId;
    /**
     * Kafka 4.4 starts a new group at epoch 1 (its first member gets epoch 2), so a group deleted and created again
     * never hands out the epochs of its first life to members still holding them.
     */
    int groupEpoch = 1;
    int assignmentEpoch;
    final Map<String, ConsumerGroupMember> members = new LinkedHashMap<>();
    /** group.instance.id -> the member id that instance currently holds. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** The target assignment by member id, computed for {@link #assignmentEpoch}. */
    final Map<String, Assignment> targetAssignment = new HashMap<>();
    /** The subscribed topics as they were when the group epoch last moved: a change of these bumps it again. */
    Map<String, TopicRef> subscribedTopics = Map.of();
    /**
     * How many members subscribe to each topic name and regular expression, gathered from every member on a
     * subscription change and kept by a member's leave, and the member count they stand for; null until gathered.
     * A heartbeat that changes neither resolves these again (topics come and go) without a pass over the members.
     */
    Map<String, Integer> subscribedNames;
    Map<String, Integer> subscribedRegexes;
    int subscribedMembers = -1;

    ConsumerGroup(String groupId) {
        this.groupId = groupId;
    }

    public String groupId() {
        return groupId;
    }

    public int groupEpoch() {
        return groupEpoch;
    }

    public int assignmentEpoch() {
        return assignmentEpoch;
    }

    public Map<String, ConsumerGroupMember> members() {
        return members;
    }

    public Assignment targetAssignment(String memberId) {
        return targetAssignment.getOrDefault(memberId, Assignment.EMPTY);
    }

    public State state() {
        if (members.isEmpty()) return State.EMPTY;
        if (groupEpoch > assignmentEpoch) return State.ASSIGNING;
        for (ConsumerGroupMember m : members.values()) {
            if (m.memberEpoch != assignmentEpoch || m.state != MemberState.STABLE) return State.RECONCILING;
        }
        return State.STABLE;
    }

    /**
     * Partition -> the member that last took it (assigned or pending revocation), as Kafka's currentPartitionEpoch
     * answers "is it free?" in O(1) where a pass over the members cost O(members) per partition; null until first
     * asked, and again after a change that moved partitions outside reconciliation (a static member replaced, a
     * load). An entry may be stale (its member left, or let the partition go): it is checked against the member.
     */
    private Map<UUID, Map<Integer, ConsumerGroupMember>> owners;

    /** Whether a member other than {@code memberId} owns the partition or still has to revoke it. */
    boolean isOwnedByOther(String memberId, UUID topicId, int partition) {
        if (owners == null) {
            owners = new HashMap<>();
            for (ConsumerGroupMember m : members.values()) tookPartitions(m);
        }
        Map<Integer, ConsumerGroupMember> byPartition = owners.get(topicId);
        ConsumerGroupMember m = byPartition == null ? null : byPartition.get(partition);
        // A partition is never held by two members, so the last one that took it is the only possible holder.
        return m != null && !m.memberId.equals(memberId) && members.get(m.memberId) == m
                && (m.assigned.contains(topicId, partition) || m.pendingRevocation.contains(topicId, partition));
    }

    /** The member's assigned and pending partitions changed by reconciliation: it is their holder now. */
    void tookPartitions(ConsumerGroupMember member) {
        if (owners == null) return;
        for (Assignment a : new Assignment[]{member.assigned, member.pendingRevocation}) {
            a.partitions().forEach((topic, set) -> {
                Map<Integer, ConsumerGroupMember> byPartition = owners.computeIfAbsent(topic, t -> new HashMap<>());
                for (int p : set) byPartition.put(p, member);
            });
        }
    }

    /** Partitions moved outside reconciliation: the holders are looked up again from every member. */
    void ownershipChanged() {
        owners = null;
    }

    /** The member, or UNKNOWN_MEMBER_ID with Kafka's message. */
    ConsumerGroupMember requireMember(String memberId) {
        ConsumerGroupMember member = members.get(memberId);
        if (member == null) {
            throw new ApiException(ErrorCodes.UNKNOWN_MEMBER_ID, "Member " + memberId + " is not a member of group "
                    + groupId + ".");
        }
        return member;
    }

    ConsumerGroupMember staticMember(String instanceId) {
        String memberId = staticMembers.get(instanceId);
        return memberId == null ? null : members.get(memberId);
    }
}
