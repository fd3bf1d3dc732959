package io.tandem.server.kafka.group.share;

import java.util.Map;
import java.util.TreeSet;

/**
 * Rebuilds share groups from their {@code __consumer_offsets} records ({@link ShareGroupRecords}), oldest first, as
 * Kafka's GroupMetadataManager.replay does: the last record of each key wins and a tombstone removes what it names.
 * A member's assignment is its target (a share group member takes its target at once); its epochs come from its
 * current assignment. Runs under the coordinator's lock.
 */
final class ShareGroupLoader {
    private ShareGroupLoader() {
    }

    /** Replays one record; returns the group it touched, or null when it is another coordinator's record. */
    static String replay(Map<String, ShareGroup> groups, byte[] key, byte[] value) {
        ShareGroupRecords.Key k = ShareGroupRecords.readKey(key);
        if (k == null) return null;
        ShareGroup group = groups.get(k.groupId());
        if (value == null) {
            if (group == null) return k.groupId();
            switch (k.type()) {
                case ShareGroupRecords.GROUP_METADATA -> groups.remove(k.groupId());
                case ShareGroupRecords.MEMBER_METADATA -> group.members.remove(k.memberId());
                case ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER -> {
                    ShareGroupMember m = group.members.get(k.memberId());
                    if (m != null) m.assignment = Map.of();
                }
                case ShareGroupRecords.STATE_PARTITION_METADATA -> {
                    group.initialized.clear();
                    group.deleting.clear();
                }
                default -> { }
            }
            return k.groupId();
        }
        if (group == null) {
            group = new ShareGroup(k.groupId());
            groups.put(k.groupId(), group);
        }
        switch (k.type()) {
            case ShareGroupRecords.GROUP_METADATA ->
                    group.groupEpoch = ShareGroupRecords.readGroupMetadata(value).epoch();
            case ShareGroupRecords.TARGET_ASSIGNMENT_METADATA ->
                    group.assignmentEpoch = ShareGroupRecords.readTargetAssignmentMetadata(value).assignmentEpoch();
            case ShareGroupRecords.MEMBER_METADATA -> {
                ShareGroupRecords.MemberMetadata r = ShareGroupRecords.readMemberMetadata(value);
                ShareGroupMember m = group.members.computeIfAbsent(k.memberId(), ShareGroupMember::new);
                m.rackId = r.rackId();
                m.clientId = r.clientId();
                m.clientHost = r.clientHost();
                m.subscribedTopicNames = r.subscribedTopicNames();
            }
            case ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER -> {
                ShareGroupMember m = group.members.computeIfAbsent(k.memberId(), ShareGroupMember::new);
                m.assignment = ShareGroupRecords.readTargetAssignmentMember(value);
                m.hasTarget = true;
            }
            case ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT -> {
                ShareGroupRecords.CurrentAssignment r = ShareGroupRecords.readCurrentAssignment(value);
                ShareGroupMember m = group.members.computeIfAbsent(k.memberId(), ShareGroupMember::new);
                m.memberEpoch = r.memberEpoch();
                m.previousMemberEpoch = r.previousMemberEpoch();
            }
            case ShareGroupRecords.STATE_PARTITION_METADATA -> {
                ShareGroupRecords.StatePartitionMetadata r = ShareGroupRecords.readStatePartitionMetadata(value);
                group.initialized.clear();
                for (ShareGroupRecords.TopicPartitions t : r.initializedTopics()) {
                    group.initialized.put(t.topicId(), new TreeSet<>(t.partitions()));
                }
                // Kept, as Kafka 4.4 replays InitializingTopics: their initialization may have ended unrecorded (the
                // coordinator moved meanwhile), so the group's first heartbeat after the retry interval from the
                // load (ShareGroupCoordinator.loaded stamps them) initializes them again.
                group.initializing.clear();
                group.initializingSinceMs.clear();
                group.initializingBy.clear();
                for (ShareGroupRecords.TopicPartitions t : r.initializingTopics()) {
                    group.initializing.put(t.topicId(), new TreeSet<>(t.partitions()));
                }
                group.deleting.clear();
                for (ShareGroupRecords.TopicInfo t : r.deletingTopics()) group.deleting.add(t.topicId());
            }
            default -> { }
        }
        return k.groupId();
    }
}
