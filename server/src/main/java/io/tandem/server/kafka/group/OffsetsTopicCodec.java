package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The key and value formats of {@code __consumer_offsets} records, as Kafka writes them, so the topic reads the
 * same with Kafka's tools: OffsetCommitKey v1 {group, topic, partition}, OffsetCommitValue v3 {offset, leader epoch,
 * metadata, commit timestamp} (v1 {offset, metadata, commit timestamp, expire timestamp} for an offset committed with
 * its own retention time), GroupMetadataKey v2 {group}; a null value is a tombstone.
 */
public final class OffsetsTopicCodec {
    static final short OFFSET_COMMIT_KEY_VERSION = 1;
    static final short GROUP_METADATA_KEY_VERSION = 2;
    static final short OFFSET_COMMIT_VALUE_VERSION = 3;
    /** The value version with an expire timestamp (offsets committed with their own retention time). */
    static final short OFFSET_COMMIT_VALUE_V1 = 1;

    private OffsetsTopicCodec() {
    }

    /** Which partition of the offsets topic holds a group (Kafka: non-negative hash modulo the partition count). */
    public static int partitionFor(String groupId, int partitionCount) {
        // Kafka's Utils.abs, not a sign-bit mask: the two differ for negative hash codes, and every broker (an
        // Apache one beside this) must find a group on the same partition.
        int hash = groupId.hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitionCount;
    }

    public static byte[] offsetKey(String groupId, TopicPartition tp) {
        byte[] group = groupId.getBytes(StandardCharsets.UTF_8);
        byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(2 + 2 + group.length + 2 + topic.length + 4);
        buf.putShort(OFFSET_COMMIT_KEY_VERSION);
        buf.putShort((short) group.length).put(group);
        buf.putShort((short) topic.length).put(topic);
        buf.putInt(tp.partition());
        return buf.array();
    }

    public static byte[] groupKey(String groupId) {
        byte[] group = groupId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(2 + 2 + group.length);
        buf.putShort(GROUP_METADATA_KEY_VERSION);
        buf.putShort((short) group.length).put(group);
        return buf.array();
    }

    public static byte[] offsetValue(CommittedOffset offset) {
        byte[] metadata = offset.metadata().getBytes(StandardCharsets.UTF_8);
        if (offset.expireTimestampMs() != CommittedOffset.NO_EXPIRE_TIMESTAMP) {
            // Only v1 has an expire timestamp; Kafka writes v1 for such offsets too (no leader epoch in it).
            ByteBuffer v1 = ByteBuffer.allocate(2 + 8 + 2 + metadata.length + 8 + 8);
            v1.putShort(OFFSET_COMMIT_VALUE_V1);
            v1.putLong(offset.offset());
            v1.putShort((short) metadata.length).put(metadata);
            v1.putLong(offset.commitTimestampMs());
            v1.putLong(offset.expireTimestampMs());
            return v1.array();
        }
        ByteBuffer buf = ByteBuffer.allocate(2 + 8 + 4 + 2 + metadata.length + 8);
        buf.putShort(OFFSET_COMMIT_VALUE_VERSION);
        buf.putLong(offset.offset());
        buf.putInt(offset.leaderEpoch());
        buf.putShort((short) metadata.length).put(metadata);
        buf.putLong(offset.commitTimestampMs());
        return buf.array();
    }

    /** A decoded record key: an offset commit (partition set) or a group (partition null). */
    public record Key(String groupId, TopicPartition partition) {
    }

    /** The key, or null for a key version this broker does not know (skipped while loading). */
    public static Key readKey(byte[] key) {
        ByteBuffer buf = ByteBuffer.wrap(key);
        short version = buf.getShort();
        if (version == 0 || version == 1) {
            String group = readString(buf);
            String topic = readString(buf);
            return new Key(group, new TopicPartition(topic, buf.getInt()));
        }
        if (version == GROUP_METADATA_KEY_VERSION) return new Key(readString(buf), null);
        return null;
    }

    /** Reads OffsetCommitValue v0-v3 (v4 adds only tagged fields after the same layout as v3). */
    public static CommittedOffset readOffsetValue(byte[] value) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        short version = buf.getShort();
        long offset = buf.getLong();
        int leaderEpoch = version >= 3 ? buf.getInt() : -1;
        String metadata = version >= 4 ? readCompactString(buf) : readString(buf);
        long commitTimestamp = buf.getLong();
        long expireTimestamp = version == OFFSET_COMMIT_VALUE_V1 ? buf.getLong() : CommittedOffset.NO_EXPIRE_TIMESTAMP;
        return new CommittedOffset(offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp);
    }

    private static String readString(ByteBuffer buf) {
        short length = buf.getShort();
        if (length < 0) return "";
        byte[] bytes = new byte[length];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static String readCompactString(ByteBuffer buf) {
        int lengthPlusOne = 0;
        int shift = 0;
        byte b;
        do {
            b = buf.get();
            lengthPlusOne |= (b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        if (lengthPlusOne == 0) return "";
        byte[] bytes = new byte[lengthPlusOne - 1];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
