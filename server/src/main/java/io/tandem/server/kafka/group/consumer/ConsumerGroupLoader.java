package io.tandem.server.kafka.group.consumer;

import java.util.Map;

/**
 * Rebuilds consumer groups from their {@code __consumer_offsets} records ({@link ConsumerGroupRecords}), oldest
 * first, as Kafka's coordinator replays them: the last record of each key wins and a tombstone removes what it names.
 * Runs under the coordinator's lock.
 */
final class ConsumerGroupLoader {
    private ConsumerGroupLoader() {
    }

    static void replay(Map<String, ConsumerGroup> groups, byte[] key, byte[] value) {
        ConsumerGroupRecords.Key k = ConsumerGroupRecords.readKey(key);
        if (!ConsumerGroupRecords.isConsumerGroupRecord(k.type())) return;
        ConsumerGroup group = groups.get(k.groupId());
        if (value == null) {
            if (group == null) return;
            switch (k.type()) {
                case ConsumerGroupRecords.GROUP_METADATA -> groups.remove(k.groupId());
                case ConsumerGroupRecords.TARGET_ASSIGNMENT_METADATA -> group.assignmentEpoch = 0;
                case ConsumerGroupRecords.TARGET_ASSIGNMENT_MEMBER -> group.targetAssignment.remove(k.memberId());
                case ConsumerGroupRecords.MEMBER_METADATA -> group.members.remove(k.memberId());
                case ConsumerGroupRecords.CURRENT_MEMBER_ASSIGNMENT -> {
                    ConsumerGroupMember m = group.members.get(k.memberId());
                    if (m != null) {
                        m.assigned = Assignment.EMPTY;
                        m.pendingRevocation = Assignment.EMPTY;
                    }
                }
                default -> { }
            }
            return;
        }
        if (group == null) {
            group = new ConsumerGroup(k.groupId());
            groups.put(k.groupId(), group);
        }
        switch (k.type()) {
            case ConsumerGroupRecords.GROUP_METADATA -> group.groupEpoch = ConsumerGroupRecords.readEpoch(value);
            case ConsumerGroupRecords.TARGET_ASSIGNMENT_METADATA ->
                    group.assignmentEpoch = ConsumerGroupRecords.readEpoch(value);
            case ConsumerGroupRecords.TARGET_ASSIGNMENT_MEMBER ->
                    group.targetAssignment.put(k.memberId(), ConsumerGroupRecords.readTargetAssignment(value));
            case ConsumerGroupRecords.MEMBER_METADATA -> ConsumerGroupRecords.readMemberMetadata(value,
                    group.members.computeIfAbsent(k.memberId(), ConsumerGroupMember::new));
            case ConsumerGroupRecords.CURRENT_MEMBER_ASSIGNMENT -> ConsumerGroupRecords.readCurrentAssignment(value,
                    group.members.computeIfAbsent(k.memberId(), ConsumerGroupMember::new));
            default -> { }
        }
    }

    /** After the last record: the static member index and the members' timers. */
    static void finish(ConsumerGroup group, long nowMs, int sessionTimeoutMs) {
        group.staticMembers.clear();
        for (ConsumerGroupMember m : group.members.values()) {
            if (m.instanceId != null) group.staticMembers.put(m.instanceId, m.memberId);
            // A classic member of a migrating group keeps the session timeout it joined with.
            m.sessionDeadlineMs = nowMs + (m.classic != null ? m.classic.sessionTimeoutMs() : sessionTimeoutMs);
            m.revocationDeadlineMs = m.state == MemberState.UNREVOKED_PARTITIONS
                    ? nowMs + m.rebalanceTimeoutMs : Long.MAX_VALUE;
        }
    }
}
