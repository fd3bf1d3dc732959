package io.tandem.server.kafka.group.share;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.Primitives;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The share group records of {@code __consumer_offsets} in Kafka 4.4's format (group-coordinator's ShareGroup*
 * Key/Value), so the topic reads the same with Kafka's tools and a Kafka group coordinator. A key is its record type
 * as an int16 (10 ShareGroupMemberMetadata, 11 ShareGroupMetadata, 12 ShareGroupTargetAssignmentMetadata,
 * 13 ShareGroupTargetAssignmentMember, 14 ShareGroupCurrentMemberAssignment, 15 ShareGroupStatePartitionMetadata)
 * followed by version 0 of the key (int16-length group id, and member id for the member records); a value is its
 * version (0) followed by the flexible value. A null value is a tombstone.
 */
public final class ShareGroupRecords {
    public static final short MEMBER_METADATA = 10;
    public static final short GROUP_METADATA = 11;
    public static final short TARGET_ASSIGNMENT_METADATA = 12;
    public static final short TARGET_ASSIGNMENT_MEMBER = 13;
    public static final short CURRENT_MEMBER_ASSIGNMENT = 14;
    public static final short STATE_PARTITION_METADATA = 15;
    private static final short VALUE_VERSION = 0;
    /** ShareGroupTargetAssignmentMetadataValue's tagged AssignmentTimestamp (KIP-1263), written when not 0. */
    private static final int ASSIGNMENT_TIMESTAMP_TAG = 0;
    /** Kafka's MemberState.STABLE: a share group member is always stable (it has no reconciliation). */
    public static final byte MEMBER_STATE_STABLE = 0;

    private ShareGroupRecords() {
    }

    /** A decoded key: the record type, the group, and the member for member records (else null). */
    public record Key(short type, String groupId, String memberId) {
    }

    /** ShareGroupMemberMetadataValue: what the member told in its heartbeats. */
    public record MemberMetadata(String rackId, String clientId, String clientHost, List<String> subscribedTopicNames) {
    }

    /** ShareGroupMetadataValue: the group epoch and the hash of the subscribed topics' metadata. */
    public record GroupMetadata(int epoch, long metadataHash) {
    }

    /** ShareGroupTargetAssignmentMetadataValue: the epoch the target assignment was computed for, and when. */
    public record TargetAssignmentMetadata(int assignmentEpoch, long assignmentTimestampMs) {
    }

    /** ShareGroupCurrentMemberAssignmentValue: the member's epochs, state and partitions. */
    public record CurrentAssignment(int memberEpoch, int previousMemberEpoch, byte state,
                                    Map<UUID, SortedSet<Integer>> assignedPartitions) {
    }

    /** One topic of ShareGroupStatePartitionMetadataValue's InitializingTopics / InitializedTopics. */
    public record TopicPartitions(UUID topicId, String topicName, List<Integer> partitions) {
    }

    /** One topic of ShareGroupStatePartitionMetadataValue's DeletingTopics. */
    public record TopicInfo(UUID topicId, String topicName) {
    }

    /** ShareGroupStatePartitionMetadataValue: which share-partitions of the group have state. */
    public record StatePartitionMetadata(List<TopicPartitions> initializingTopics,
                                         List<TopicPartitions> initializedTopics, List<TopicInfo> deletingTopics) {
    }

    /** Whether a key's record type is one of the share group records. */
    public static boolean isShareGroupRecord(short type) {
        return type >= MEMBER_METADATA && type <= STATE_PARTITION_METADATA;
    }

    private static boolean hasMember(short type) {
        return type == MEMBER_METADATA || type == TARGET_ASSIGNMENT_MEMBER || type == CURRENT_MEMBER_ASSIGNMENT;
    }

    // ---------------------------------------------------------------- keys

    public static byte[] key(short type, String groupId, String memberId) {
        if (!isShareGroupRecord(type) || hasMember(type) != (memberId != null)) {
            throw new IllegalArgumentException("share group record type " + type + " with member " + memberId);
        }
        ByteBuf buf = Unpooled.buffer();
        buf.writeShort(type);
        Primitives.writeString(buf, groupId, false);
        if (memberId != null) Primitives.writeString(buf, memberId, false);
        return ByteBufUtil.getBytes(buf);
    }

    /** The key, or null when it is not a share group record type (the other coordinators' records). */
    public static Key readKey(byte[] key) {
        ByteBuf buf = Unpooled.wrappedBuffer(key);
        try {
            short type = buf.readShort();
            if (!isShareGroupRecord(type)) return null;
            String groupId = Primitives.readString(buf, false);
            String memberId = hasMember(type) ? Primitives.readString(buf, false) : null;
            if (groupId == null || (hasMember(type) && memberId == null)) {
                throw new KafkaCodecException("share group key of type " + type + " without its ids");
            }
            return new Key(type, groupId, memberId);
        } catch (IndexOutOfBoundsException e) {
            throw new KafkaCodecException("truncated share group key of " + key.length + " bytes");
        }
    }

    // ---------------------------------------------------------------- values

    public static byte[] memberMetadataValue(MemberMetadata m) {
        ByteBuf buf = value();
        Primitives.writeString(buf, m.rackId(), true);
        Primitives.writeString(buf, m.clientId(), true);
        Primitives.writeString(buf, m.clientHost(), true);
        Primitives.writeArrayLength(buf, m.subscribedTopicNames().size(), true);
        for (String name : m.subscribedTopicNames()) Primitives.writeString(buf, name, true);
        return done(buf);
    }

    public static MemberMetadata readMemberMetadata(byte[] value) {
        ByteBuf buf = readValue(value);
        try {
            String rackId = Primitives.readString(buf, true);
            String clientId = Primitives.readString(buf, true);
            String clientHost = Primitives.readString(buf, true);
            int n = Primitives.readArrayLength(buf, true);
            List<String> names = new ArrayList<>(Primitives.initialCapacity(Math.max(n, 0)));
            for (int i = 0; i < n; i++) names.add(Primitives.readString(buf, true));
            Primitives.skipTaggedFields(buf);
            return new MemberMetadata(rackId, clientId, clientHost, List.copyOf(names));
        } catch (IndexOutOfBoundsException e) {
            throw truncated("member metadata", value);
        }
    }

    public static byte[] groupMetadataValue(GroupMetadata g) {
        ByteBuf buf = value();
        buf.writeInt(g.epoch());
        buf.writeLong(g.metadataHash());
        return done(buf);
    }

    public static GroupMetadata readGroupMetadata(byte[] value) {
        ByteBuf buf = readValue(value);
        try {
            GroupMetadata g = new GroupMetadata(buf.readInt(), buf.readLong());
            Primitives.skipTaggedFields(buf);
            return g;
        } catch (IndexOutOfBoundsException e) {
            throw truncated("group metadata", value);
        }
    }

    public static byte[] targetAssignmentMetadataValue(TargetAssignmentMetadata t) {
        ByteBuf buf = value();
        buf.writeInt(t.assignmentEpoch());
        if (t.assignmentTimestampMs() == 0) {
            Primitives.writeUnsignedVarint(buf, 0);
        } else {
            Primitives.writeUnsignedVarint(buf, 1);
            Primitives.writeUnsignedVarint(buf, ASSIGNMENT_TIMESTAMP_TAG);
            Primitives.writeUnsignedVarint(buf, Long.BYTES);
            buf.writeLong(t.assignmentTimestampMs());
        }
        return ByteBufUtil.getBytes(buf);
    }

    public static TargetAssignmentMetadata readTargetAssignmentMetadata(byte[] value) {
        ByteBuf buf = readValue(value);
        try {
            int epoch = buf.readInt();
            long timestamp = 0;
            int tagged = Primitives.readUnsignedVarint(buf);
            for (int i = 0; i < tagged; i++) {
                int tag = Primitives.readUnsignedVarint(buf);
                int size = Primitives.readUnsignedVarint(buf);
                Primitives.checkReadable(buf, size);
                if (tag == ASSIGNMENT_TIMESTAMP_TAG && size == Long.BYTES) {
                    timestamp = buf.readLong();
                } else {
                    buf.skipBytes(size);
                }
            }
            return new TargetAssignmentMetadata(epoch, timestamp);
        } catch (IndexOutOfBoundsException e) {
            throw truncated("target assignment metadata", value);
        }
    }

    public static byte[] targetAssignmentMemberValue(Map<UUID, SortedSet<Integer>> partitions) {
        ByteBuf buf = value();
        writePartitions(buf, partitions);
        return done(buf);
    }

    public static Map<UUID, SortedSet<Integer>> readTargetAssignmentMember(byte[] value) {
        ByteBuf buf = readValue(value);
        try {
            Map<UUID, SortedSet<Integer>> partitions = readPartitions(buf);
            Primitives.skipTaggedFields(buf);
            return partitions;
        } catch (IndexOutOfBoundsException e) {
            throw truncated("target assignment", value);
        }
    }

    public static byte[] currentAssignmentValue(CurrentAssignment c) {
        ByteBuf buf = value();
        buf.writeInt(c.memberEpoch());
        buf.writeInt(c.previousMemberEpoch());
        buf.writeByte(c.state());
        writePartitions(buf, c.assignedPartitions());
        return done(buf);
    }

    public static CurrentAssignment readCurrentAssignment(byte[] value) {
        ByteBuf buf = readValue(value);
        try {
            int epoch = buf.readInt();
            int previous = buf.readInt();
            byte state = buf.readByte();
            Map<UUID, SortedSet<Integer>> partitions = readPartitions(buf);
            Primitives.skipTaggedFields(buf);
            return new CurrentAssignment(epoch, previous, state, partitions);
        } catch (IndexOutOfBoundsException e) {
            throw truncated("current assignment", value);
        }
    }

    public static byte[] statePartitionMetadataValue(StatePartitionMetadata s) {
        ByteBuf buf = value();
        writeTopicPartitions(buf, s.initializingTopics());
        writeTopicPartitions(buf, s.initializedTopics());
        Primitives.writeArrayLength(buf, s.deletingTopics().size(), true);
        for (TopicInfo t : s.deletingTopics()) {
            Primitives.writeUuid(buf, t.topicId());
            Primitives.writeString(buf, t.topicName(), true);
            Primitives.writeUnsignedVarint(buf, 0);
        }
        return done(buf);
    }

    public static StatePartitionMetadata readStatePartitionMetadata(byte[] value) {
        ByteBuf buf = readValue(value);
        try {
            List<TopicPartitions> initializing = readTopicPartitions(buf);
            List<TopicPartitions> initialized = readTopicPartitions(buf);
            int n = Primitives.readArrayLength(buf, true, 16 + 1 + 1);
            List<TopicInfo> deleting = new ArrayList<>(Primitives.initialCapacity(Math.max(n, 0)));
            for (int i = 0; i < n; i++) {
                UUID id = Primitives.readUuid(buf);
                deleting.add(new TopicInfo(id, Primitives.readString(buf, true)));
                Primitives.skipTaggedFields(buf);
            }
            Primitives.skipTaggedFields(buf);
            return new StatePartitionMetadata(initializing, initialized, deleting);
        } catch (IndexOutOfBoundsException e) {
            throw truncated("state partition metadata", value);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static ByteBuf value() {
        ByteBuf buf = Unpooled.buffer();
        buf.writeShort(VALUE_VERSION);
        return buf;
    }

    /** Ends a value with its (empty) tagged fields. */
    private static byte[] done(ByteBuf buf) {
        Primitives.writeUnsignedVarint(buf, 0);
        return ByteBufUtil.getBytes(buf);
    }

    private static ByteBuf readValue(byte[] value) {
        ByteBuf buf = Unpooled.wrappedBuffer(value);
        if (value.length < 2) throw truncated("value", value);
        short version = buf.readShort();
        if (version != VALUE_VERSION) {
            throw new KafkaCodecException("share group value version " + version + " is not supported");
        }
        return buf;
    }

    private static KafkaCodecException truncated(String what, byte[] value) {
        return new KafkaCodecException("truncated share group " + what + " value of " + value.length + " bytes");
    }

    /** TopicId, Partitions and tagged fields per topic, in topic-id order as given. */
    private static void writePartitions(ByteBuf buf, Map<UUID, SortedSet<Integer>> partitions) {
        Primitives.writeArrayLength(buf, partitions.size(), true);
        for (Map.Entry<UUID, SortedSet<Integer>> e : partitions.entrySet()) {
            Primitives.writeUuid(buf, e.getKey());
            Primitives.writeArrayLength(buf, e.getValue().size(), true);
            for (int p : e.getValue()) buf.writeInt(p);
            Primitives.writeUnsignedVarint(buf, 0);
        }
    }

    private static Map<UUID, SortedSet<Integer>> readPartitions(ByteBuf buf) {
        Map<UUID, SortedSet<Integer>> result = new TreeMap<>();
        int topics = Primitives.readArrayLength(buf, true, 16 + 1 + 1);
        for (int i = 0; i < topics; i++) {
            UUID id = Primitives.readUuid(buf);
            int n = Primitives.readArrayLength(buf, true, Integer.BYTES);
            SortedSet<Integer> partitions = new TreeSet<>();
            for (int p = 0; p < n; p++) partitions.add(buf.readInt());
            Primitives.skipTaggedFields(buf);
            result.merge(id, partitions, (a, b) -> {
                a.addAll(b);
                return a;
            });
        }
        return result;
    }

    private static void writeTopicPartitions(ByteBuf buf, List<TopicPartitions> topics) {
        Primitives.writeArrayLength(buf, topics.size(), true);
        for (TopicPartitions t : topics) {
            Primitives.writeUuid(buf, t.topicId());
            Primitives.writeString(buf, t.topicName(), true);
            Primitives.writeArrayLength(buf, t.partitions().size(), true);
            for (int p : t.partitions()) buf.writeInt(p);
            Primitives.writeUnsignedVarint(buf, 0);
        }
    }

    private static List<TopicPartitions> readTopicPartitions(ByteBuf buf) {
        int n = Primitives.readArrayLength(buf, true, 16 + 1 + 1 + 1);
        List<TopicPartitions> result = new ArrayList<>(Primitives.initialCapacity(Math.max(n, 0)));
        for (int i = 0; i < n; i++) {
            UUID id = Primitives.readUuid(buf);
            String name = Primitives.readString(buf, true);
            int count = Primitives.readArrayLength(buf, true, Integer.BYTES);
            List<Integer> partitions = new ArrayList<>(Primitives.initialCapacity(Math.max(count, 0)));
            for (int p = 0; p < count; p++) partitions.add(buf.readInt());
            Primitives.skipTaggedFields(buf);
            result.add(new TopicPartitions(id, name, List.copyOf(partitions)));
        }
        return result;
    }
}
