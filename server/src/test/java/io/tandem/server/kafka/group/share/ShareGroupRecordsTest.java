package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.KafkaCodecException;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.coordinator.group.generated.ShareGroupCurrentMemberAssignmentKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupCurrentMemberAssignmentValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupMemberMetadataKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupMemberMetadataValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupMetadataKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupStatePartitionMetadataKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupStatePartitionMetadataValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupTargetAssignmentMemberKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupTargetAssignmentMemberValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupTargetAssignmentMetadataKey;
import org.apache.kafka.coordinator.group.generated.ShareGroupTargetAssignmentMetadataValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The share group records of __consumer_offsets, differential against Kafka 4.4's own generated classes
 * (kafka-group-coordinator in test scope): bytes Kafka writes decode with ours and re-encode to the same bytes.
 */
class ShareGroupRecordsTest {
    private static final UUID FOO = UUID.fromString("1f1c1a5e-3b0a-4c0e-9a1d-2f4e5d6c7b8a");
    private static final UUID BAR = UUID.fromString("6f1c1a5e-3b0a-4c0e-9a1d-2f4e5d6c7b8a");

    /** Kafka's record layout: the record type (the key's apiKey) as an int16, then version 0 of the message. */
    private static byte[] kafka(short prefix, Message message) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buf = ByteBuffer.allocate(2 + message.size(cache, (short) 0));
        buf.putShort(prefix);
        message.write(new ByteBufferAccessor(buf), cache, (short) 0);
        return buf.array();
    }

    private static Uuid uuid(UUID id) {
        return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    private static SortedSet<Integer> set(Integer... partitions) {
        return new TreeSet<>(Arrays.asList(partitions));
    }

    @Test
    void keysFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        ApiMessage[] keys = {
            new ShareGroupMemberMetadataKey().setGroupId("workers").setMemberId("m-1"),
            new ShareGroupMetadataKey().setGroupId("workers"),
            new ShareGroupTargetAssignmentMetadataKey().setGroupId("workers"),
            new ShareGroupTargetAssignmentMemberKey().setGroupId("workers").setMemberId("m-1"),
            new ShareGroupCurrentMemberAssignmentKey().setGroupId("workers").setMemberId("m-1"),
            new ShareGroupStatePartitionMetadataKey().setGroupId("workers"),
        };
        short[] types = {ShareGroupRecords.MEMBER_METADATA, ShareGroupRecords.GROUP_METADATA,
            ShareGroupRecords.TARGET_ASSIGNMENT_METADATA, ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER,
            ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT, ShareGroupRecords.STATE_PARTITION_METADATA};
        for (int i = 0; i < keys.length; i++) {
            assertEquals(types[i], keys[i].apiKey(), keys[i].getClass().getSimpleName());
            byte[] bytes = kafka(keys[i].apiKey(), keys[i]);
            ShareGroupRecords.Key ours = ShareGroupRecords.readKey(bytes);
            String member = types[i] == ShareGroupRecords.MEMBER_METADATA
                    || types[i] == ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER
                    || types[i] == ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT ? "m-1" : null;
            assertEquals(new ShareGroupRecords.Key(types[i], "workers", member), ours);
            assertArrayEquals(bytes, ShareGroupRecords.key(types[i], "workers", member));
        }
    }

    @Test
    void otherCoordinatorRecordTypesShouldNotBeTakenForShareGroupRecords() {
        // ConsumerGroupMetadata (3) and a streams group record (16) belong to other coordinators.
        assertNull(ShareGroupRecords.readKey(new byte[] {0, 3, 0, 1, 'g'}));
        assertNull(ShareGroupRecords.readKey(new byte[] {0, 16, 0, 1, 'g'}));
        assertThrows(KafkaCodecException.class, () -> ShareGroupRecords.readKey(new byte[] {0, 10, 0, 9, 'g'}));
    }

    @Test
    void memberMetadataFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        for (String rack : new String[] {null, "rack-a"}) {
            ShareGroupMemberMetadataValue value = new ShareGroupMemberMetadataValue().setRackId(rack)
                    .setClientId("consumer-workers-1").setClientHost("/127.0.0.1")
                    .setSubscribedTopicNames(List.of("jobs", "more-jobs"));
            byte[] bytes = kafka((short) 0, value);
            ShareGroupRecords.MemberMetadata ours = ShareGroupRecords.readMemberMetadata(bytes);
            assertEquals(new ShareGroupRecords.MemberMetadata(rack, "consumer-workers-1", "/127.0.0.1",
                    List.of("jobs", "more-jobs")), ours);
            assertArrayEquals(bytes, ShareGroupRecords.memberMetadataValue(ours));
        }
    }

    @Test
    void groupAndTargetMetadataFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        ShareGroupMetadataValue group = new ShareGroupMetadataValue().setEpoch(7).setMetadataHash(-4_242_424_242L);
        byte[] groupBytes = kafka((short) 0, group);
        assertEquals(new ShareGroupRecords.GroupMetadata(7, -4_242_424_242L),
                ShareGroupRecords.readGroupMetadata(groupBytes));
        assertArrayEquals(groupBytes, ShareGroupRecords.groupMetadataValue(
                ShareGroupRecords.readGroupMetadata(groupBytes)));

        // The tagged AssignmentTimestamp is written only when set, as Kafka's generated code does.
        for (long timestamp : new long[] {0L, 1_764_000_000_123L}) {
            ShareGroupTargetAssignmentMetadataValue target = new ShareGroupTargetAssignmentMetadataValue()
                    .setAssignmentEpoch(7).setAssignmentTimestamp(timestamp);
            byte[] bytes = kafka((short) 0, target);
            ShareGroupRecords.TargetAssignmentMetadata ours = ShareGroupRecords.readTargetAssignmentMetadata(bytes);
            assertEquals(new ShareGroupRecords.TargetAssignmentMetadata(7, timestamp), ours);
            assertArrayEquals(bytes, ShareGroupRecords.targetAssignmentMetadataValue(ours), "timestamp " + timestamp);
        }
    }

    @Test
    void assignmentsFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        Map<UUID, SortedSet<Integer>> partitions = new TreeMap<>(Map.of(FOO, set(0, 2), BAR, set(1)));
        ShareGroupTargetAssignmentMemberValue target = new ShareGroupTargetAssignmentMemberValue()
                .setTopicPartitions(List.of(
                        new ShareGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(uuid(FOO))
                                .setPartitions(List.of(0, 2)),
                        new ShareGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(uuid(BAR))
                                .setPartitions(List.of(1))));
        byte[] targetBytes = kafka((short) 0, target);
        assertEquals(partitions, ShareGroupRecords.readTargetAssignmentMember(targetBytes));
        assertArrayEquals(targetBytes, ShareGroupRecords.targetAssignmentMemberValue(partitions));

        ShareGroupCurrentMemberAssignmentValue current = new ShareGroupCurrentMemberAssignmentValue()
                .setMemberEpoch(5).setPreviousMemberEpoch(3).setState((byte) 0)
                .setAssignedPartitions(List.of(
                        new ShareGroupCurrentMemberAssignmentValue.TopicPartitions().setTopicId(uuid(FOO))
                                .setPartitions(List.of(0, 2)),
                        new ShareGroupCurrentMemberAssignmentValue.TopicPartitions().setTopicId(uuid(BAR))
                                .setPartitions(List.of(1))));
        byte[] currentBytes = kafka((short) 0, current);
        ShareGroupRecords.CurrentAssignment ours = ShareGroupRecords.readCurrentAssignment(currentBytes);
        assertEquals(new ShareGroupRecords.CurrentAssignment(5, 3, ShareGroupRecords.MEMBER_STATE_STABLE, partitions),
                ours);
        assertArrayEquals(currentBytes, ShareGroupRecords.currentAssignmentValue(ours));

        // An empty assignment (a member of a group without initialized share-partitions yet).
        byte[] empty = kafka((short) 0, new ShareGroupTargetAssignmentMemberValue());
        assertEquals(Map.of(), ShareGroupRecords.readTargetAssignmentMember(empty));
        assertArrayEquals(empty, ShareGroupRecords.targetAssignmentMemberValue(Map.of()));
    }

    @Test
    void statePartitionMetadataFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        ShareGroupStatePartitionMetadataValue value = new ShareGroupStatePartitionMetadataValue()
                .setInitializingTopics(List.of(new ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo()
                        .setTopicId(uuid(BAR)).setTopicName("bar").setPartitions(List.of(3))))
                .setInitializedTopics(List.of(new ShareGroupStatePartitionMetadataValue.TopicPartitionsInfo()
                        .setTopicId(uuid(FOO)).setTopicName("foo").setPartitions(List.of(0, 1, 2))))
                .setDeletingTopics(List.of(new ShareGroupStatePartitionMetadataValue.TopicInfo()
                        .setTopicId(uuid(BAR)).setTopicName("bar")));
        byte[] bytes = kafka((short) 0, value);
        ShareGroupRecords.StatePartitionMetadata ours = ShareGroupRecords.readStatePartitionMetadata(bytes);
        assertEquals(new ShareGroupRecords.StatePartitionMetadata(
                List.of(new ShareGroupRecords.TopicPartitions(BAR, "bar", List.of(3))),
                List.of(new ShareGroupRecords.TopicPartitions(FOO, "foo", List.of(0, 1, 2))),
                List.of(new ShareGroupRecords.TopicInfo(BAR, "bar"))), ours);
        assertArrayEquals(bytes, ShareGroupRecords.statePartitionMetadataValue(ours));
    }

    @Test
    void truncatedOrUnknownVersionValuesShouldFailWithACodecError() {
        byte[] good = ShareGroupRecords.groupMetadataValue(new ShareGroupRecords.GroupMetadata(3, 9));
        assertThrows(KafkaCodecException.class,
                () -> ShareGroupRecords.readGroupMetadata(Arrays.copyOf(good, good.length - 3)));
        byte[] version1 = good.clone();
        version1[1] = 1;
        assertThrows(KafkaCodecException.class, () -> ShareGroupRecords.readGroupMetadata(version1));
        assertThrows(KafkaCodecException.class, () -> ShareGroupRecords.readMemberMetadata(new byte[] {0}));
    }
}
