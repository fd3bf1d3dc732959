package io.tandem.server.kafka.group.share.state;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.Primitives;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The records of {@code __share_group_state} in Kafka 4.4's format (share-coordinator's ShareSnapshotKey/Value and
 * ShareUpdateKey/Value), so the topic reads the same with Kafka's tools and a Kafka share coordinator. A key is its
 * record type as an int16 (0 snapshot, 1 update) followed by version 0 of the key (int16-length group id, topic id,
 * partition); a value is its version (0) followed by the flexible value with the DeliveryCompleteCount tagged field
 * (tag 0, written only when known, i.e. not -1). A null value is a tombstone.
 */
public final class ShareStateRecords {
    public static final short SNAPSHOT = 0;
    public static final short UPDATE = 1;
    private static final short VALUE_VERSION = 0;
    private static final int DELIVERY_COMPLETE_COUNT_TAG = 0;
    /** FirstOffset, LastOffset, DeliveryState, DeliveryCount and an empty tagged-field count. */
    private static final int STATE_BATCH_BYTES_MIN = 8 + 8 + 1 + 2 + 1;

    private ShareStateRecords() {
    }

    /** A decoded key: the record type and the share-partition it belongs to. */
    public record Key(short type, String groupId, UUID topicId, int partition) {
    }

    /**
     * ShareSnapshotValue: the whole state of a share-partition. {@code deliveryCompleteCount} is -1 when unknown.
     */
    public record Snapshot(int snapshotEpoch, int stateEpoch, int leaderEpoch, long startOffset,
                           int deliveryCompleteCount, long createTimestamp, long writeTimestamp,
                           List<ShareStateBatch> stateBatches) {
    }

    /** ShareUpdateValue: batches that changed since the snapshot; start offset -1 when it did not move. */
    public record Update(int snapshotEpoch, int leaderEpoch, long startOffset, int deliveryCompleteCount,
                         List<ShareStateBatch> stateBatches) {
    }

    public static byte[] key(short type, String groupId, UUID topicId, int partition) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeShort(type);
        Primitives.writeString(buf, groupId, false);
        Primitives.writeUuid(buf, topicId);
        buf.writeInt(partition);
        return ByteBufUtil.getBytes(buf);
    }

    /** The key, or null when it is not a share state record type (Kafka's coordinators skip unknown types). */
    public static Key readKey(byte[] key) {
        ByteBuf buf = Unpooled.wrappedBuffer(key);
        try {
            short type = buf.readShort();
            if (type != SNAPSHOT && type != UPDATE) return null;
            String groupId = Primitives.readString(buf, false);
            if (groupId == null) throw new KafkaCodecException("share state key without a group id");
            return new Key(type, groupId, Primitives.readUuid(buf), buf.readInt());
        } catch (IndexOutOfBoundsException e) {
            throw new KafkaCodecException("truncated share state key of " + key.length + " bytes");
        }
    }

    public static byte[] snapshotValue(Snapshot s) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeShort(VALUE_VERSION);
        buf.writeInt(s.snapshotEpoch());
        buf.writeInt(s.stateEpoch());
        buf.writeInt(s.leaderEpoch());
        buf.writeLong(s.startOffset());
        buf.writeLong(s.createTimestamp());
        buf.writeLong(s.writeTimestamp());
        writeBatches(buf, s.stateBatches());
        writeTags(buf, s.deliveryCompleteCount());
        return ByteBufUtil.getBytes(buf);
    }

    public static Snapshot readSnapshotValue(byte[] value) {
        ByteBuf buf = Unpooled.wrappedBuffer(value);
        try {
            checkVersion(buf.readShort());
            int snapshotEpoch = buf.readInt();
            int stateEpoch = buf.readInt();
            int leaderEpoch = buf.readInt();
            long startOffset = buf.readLong();
            long created = buf.readLong();
            long written = buf.readLong();
            List<ShareStateBatch> batches = readBatches(buf);
            int deliveryCompleteCount = readTags(buf);
            return new Snapshot(snapshotEpoch, stateEpoch, leaderEpoch, startOffset, deliveryCompleteCount, created,
                    written, batches);
        } catch (IndexOutOfBoundsException e) {
            throw new KafkaCodecException("truncated share snapshot value of " + value.length + " bytes");
        }
    }

    public static byte[] updateValue(Update u) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeShort(VALUE_VERSION);
        buf.writeInt(u.snapshotEpoch());
        buf.writeInt(u.leaderEpoch());
        buf.writeLong(u.startOffset());
        writeBatches(buf, u.stateBatches());
        writeTags(buf, u.deliveryCompleteCount());
        return ByteBufUtil.getBytes(buf);
    }

    public static Update readUpdateValue(byte[] value) {
        ByteBuf buf = Unpooled.wrappedBuffer(value);
        try {
            checkVersion(buf.readShort());
            int snapshotEpoch = buf.readInt();
            int leaderEpoch = buf.readInt();
            long startOffset = buf.readLong();
            List<ShareStateBatch> batches = readBatches(buf);
            return new Update(snapshotEpoch, leaderEpoch, startOffset, readTags(buf), batches);
        } catch (IndexOutOfBoundsException e) {
            throw new KafkaCodecException("truncated share update value of " + value.length + " bytes");
        }
    }

    private static void checkVersion(short version) {
        if (version != VALUE_VERSION) {
            throw new KafkaCodecException("share state value version " + version + " is not supported");
        }
    }

    private static void writeBatches(ByteBuf buf, List<ShareStateBatch> batches) {
        Primitives.writeArrayLength(buf, batches.size(), true);
        for (ShareStateBatch b : batches) {
            buf.writeLong(b.firstOffset());
            buf.writeLong(b.lastOffset());
            buf.writeByte(b.deliveryState());
            buf.writeShort(b.deliveryCount());
            Primitives.writeUnsignedVarint(buf, 0);
        }
    }

    private static List<ShareStateBatch> readBatches(ByteBuf buf) {
        int count = Primitives.readArrayLength(buf, true, STATE_BATCH_BYTES_MIN);
        if (count < 0) throw new KafkaCodecException("null state batches");
        List<ShareStateBatch> batches = new ArrayList<>(Primitives.initialCapacity(count));
        for (int i = 0; i < count; i++) {
            long first = buf.readLong();
            long last = buf.readLong();
            byte state = buf.readByte();
            short deliveryCount = buf.readShort();
            Primitives.skipTaggedFields(buf);
            if (last < first) throw new KafkaCodecException("state batch " + first + "-" + last + " is empty");
            batches.add(new ShareStateBatch(first, last, state, deliveryCount));
        }
        return batches;
    }

    private static void writeTags(ByteBuf buf, int deliveryCompleteCount) {
        if (deliveryCompleteCount == -1) {
            Primitives.writeUnsignedVarint(buf, 0);
            return;
        }
        Primitives.writeUnsignedVarint(buf, 1);
        Primitives.writeUnsignedVarint(buf, DELIVERY_COMPLETE_COUNT_TAG);
        Primitives.writeUnsignedVarint(buf, 4);
        buf.writeInt(deliveryCompleteCount);
    }

    /** Reads the tagged fields: DeliveryCompleteCount (-1 when absent); unknown tags are skipped, as Kafka does. */
    private static int readTags(ByteBuf buf) {
        int deliveryCompleteCount = -1;
        int count = Primitives.readUnsignedVarint(buf);
        for (int i = 0; i < count; i++) {
            int tag = Primitives.readUnsignedVarint(buf);
            int size = Primitives.readUnsignedVarint(buf);
            Primitives.checkReadable(buf, size);
            if (tag == DELIVERY_COMPLETE_COUNT_TAG && size == 4) {
                deliveryCompleteCount = buf.readInt();
            } else {
                buf.skipBytes(size);
            }
        }
        return deliveryCompleteCount;
    }
}
