package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.GroupRecordBatches;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * Writes the share groups' records to {@code __consumer_offsets} ({@link ShareGroupRecords}). What one request
 * changes is buffered and appended as one batch per group on {@link #flush()}, so a restart never finds half of a
 * heartbeat's records.
 */
public final class ShareGroupOffsetsStore implements ShareGroupStore {
    private final GroupRecordBatches batches;

    /** @param appender appends one group's records as one batch on that group's offsets partition */
    public ShareGroupOffsetsStore(BiConsumer<String, List<byte[][]>> appender) {
        this.batches = new GroupRecordBatches(appender);
    }

    private void add(String groupId, short type, String memberId, byte[] value) {
        batches.add(groupId, ShareGroupRecords.key(type, groupId, memberId), value);
    }

    @Override
    public void groupEpoch(String groupId, int epoch, long metadataHash) {
        add(groupId, ShareGroupRecords.GROUP_METADATA, null,
                ShareGroupRecords.groupMetadataValue(new ShareGroupRecords.GroupMetadata(epoch, metadataHash)));
    }

    @Override
    public void memberMetadata(String groupId, ShareGroupMember m) {
        add(groupId, ShareGroupRecords.MEMBER_METADATA, m.memberId, ShareGroupRecords.memberMetadataValue(
                new ShareGroupRecords.MemberMetadata(m.rackId, m.clientId == null ? "" : m.clientId,
                        m.clientHost == null ? "" : m.clientHost,
                        m.subscribedTopicNames == null ? List.of() : m.subscribedTopicNames)));
    }

    @Override
    public void targetAssignment(String groupId, String memberId, Map<UUID, SortedSet<Integer>> target) {
        add(groupId, ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER, memberId,
                ShareGroupRecords.targetAssignmentMemberValue(target));
    }

    @Override
    public void targetAssignmentEpoch(String groupId, int epoch, long timestampMs) {
        add(groupId, ShareGroupRecords.TARGET_ASSIGNMENT_METADATA, null, ShareGroupRecords
                .targetAssignmentMetadataValue(new ShareGroupRecords.TargetAssignmentMetadata(epoch, timestampMs)));
    }

    @Override
    public void currentAssignment(String groupId, ShareGroupMember m) {
        add(groupId, ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT, m.memberId, ShareGroupRecords.currentAssignmentValue(
                new ShareGroupRecords.CurrentAssignment(m.memberEpoch, m.previousMemberEpoch,
                        ShareGroupRecords.MEMBER_STATE_STABLE, m.assignment)));
    }

    @Override
    public void statePartitions(String groupId, ShareGroupRecords.StatePartitionMetadata metadata) {
        add(groupId, ShareGroupRecords.STATE_PARTITION_METADATA, null,
                ShareGroupRecords.statePartitionMetadataValue(metadata));
    }

    @Override
    public void memberRemoved(String groupId, String memberId) {
        // Kafka's order (shareGroupFenceMember): the current assignment, then the target, then the member itself.
        add(groupId, ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT, memberId, null);
        add(groupId, ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER, memberId, null);
        add(groupId, ShareGroupRecords.MEMBER_METADATA, memberId, null);
    }

    @Override
    public void groupDeleted(String groupId) {
        // Kafka's order (ShareGroup.createGroupTombstoneRecords of an empty group).
        add(groupId, ShareGroupRecords.TARGET_ASSIGNMENT_METADATA, null, null);
        add(groupId, ShareGroupRecords.STATE_PARTITION_METADATA, null, null);
        add(groupId, ShareGroupRecords.GROUP_METADATA, null, null);
    }

    @Override
    public void flush() {
        batches.flush();
    }
}
