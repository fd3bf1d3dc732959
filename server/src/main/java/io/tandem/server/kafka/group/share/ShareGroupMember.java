package io.tandem.server.kafka.group.share;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

/** One member of a share group: its subscription, its assignment (topic id to partitions) and its epoch. */
public final class ShareGroupMember {
    final String memberId;
    int memberEpoch;
    int previousMemberEpoch;
    String rackId;
    String clientId;
    String clientHost;
    List<String> subscribedTopicNames;
    Map<UUID, SortedSet<Integer>> assignment = Map.of();
    /**
     * Whether the group's target assignment has an entry for the member (a ShareGroupTargetAssignmentMember record):
     * Kafka's target assignment builder writes one for a member without an entry even when its target is empty.
     */
    boolean hasTarget;
    /** The assignment last sent to the member, so a heartbeat carries one only when it changed. */
    Map<UUID, SortedSet<Integer>> sentAssignment;
    long lastHeartbeatMs;

    ShareGroupMember(String memberId) {
        this.memberId = memberId;
    }

    public String memberId() {
        return memberId;
    }

    public int memberEpoch() {
        return memberEpoch;
    }

    public String rackId() {
        return rackId;
    }

    public String clientId() {
        return clientId;
    }

    public String clientHost() {
        return clientHost;
    }

    public List<String> subscribedTopicNames() {
        return subscribedTopicNames;
    }

    public Map<UUID, SortedSet<Integer>> assignment() {
        return assignment;
    }
}
