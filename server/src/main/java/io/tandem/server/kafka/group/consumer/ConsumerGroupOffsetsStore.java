package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupRecordBatches;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Writes the consumer groups' records to {@code __consumer_offsets} ({@link ConsumerGroupRecords}). What one request
 * changes is buffered and appended as one batch per group on {@link #flush()}, so a restart never finds half of a
 * heartbeat's records.
 */
public final class ConsumerGroupOffsetsStore implements ConsumerGroupStore {
    private final GroupRecordBatches batches;

    /** @param appender appends one group's records as one batch on that group's offsets partition */
    public ConsumerGroupOffsetsStore(BiConsumer<String, List<byte[][]>> appender) {
        this.batches = new GroupRecordBatches(appender);
    }

    private void add(String groupId, byte[] key, byte[] value) {
        batches.add(groupId, key, value);
    }

    @Override
    public void groupEpoch(String groupId, int epoch) {
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.GROUP_METADATA, groupId, null),
                ConsumerGroupRecords.epochValue(epoch));
    }

    @Override
    public void memberMetadata(String groupId, ConsumerGroupMember member) {
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.MEMBER_METADATA, groupId, member.memberId),
                ConsumerGroupRecords.memberMetadataValue(member));
    }

    @Override
    public void targetAssignment(String groupId, String memberId, Assignment target) {
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.TARGET_ASSIGNMENT_MEMBER, groupId, memberId),
                ConsumerGroupRecords.targetAssignmentValue(target));
    }

    @Override
    public void targetAssignmentEpoch(String groupId, int epoch) {
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.TARGET_ASSIGNMENT_METADATA, groupId, null),
                ConsumerGroupRecords.epochValue(epoch));
    }

    @Override
    public void currentAssignment(String groupId, ConsumerGroupMember member) {
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.CURRENT_MEMBER_ASSIGNMENT, groupId,
                member.memberId), ConsumerGroupRecords.currentAssignmentValue(member));
    }

    @Override
    public void memberRemoved(String groupId, String memberId) {
        // Kafka's order: the current assignment, then the target, then the member itself.
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.CURRENT_MEMBER_ASSIGNMENT, groupId, memberId), null);
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.TARGET_ASSIGNMENT_MEMBER, groupId, memberId), null);
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.MEMBER_METADATA, groupId, memberId), null);
    }

    @Override
    public void groupDeleted(String groupId) {
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.TARGET_ASSIGNMENT_METADATA, groupId, null), null);
        add(groupId, ConsumerGroupRecords.key(ConsumerGroupRecords.GROUP_METADATA, groupId, null), null);
    }

    @Override
    public void flush() {
        batches.flush();
    }
}
