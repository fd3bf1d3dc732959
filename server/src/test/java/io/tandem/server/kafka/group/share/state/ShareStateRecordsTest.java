package io.tandem.server.kafka.group.share.state;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.coordinator.share.generated.ShareSnapshotKey;
import org.apache.kafka.coordinator.share.generated.ShareSnapshotValue;
import org.apache.kafka.coordinator.share.generated.ShareUpdateKey;
import org.apache.kafka.coordinator.share.generated.ShareUpdateValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The __share_group_state records, differential against Kafka 4.4's own generated classes (kafka-share-coordinator in
 * test scope): bytes Kafka writes decode with ours and re-encode to the same bytes, and ours decode with Kafka's.
 */
class ShareStateRecordsTest {
    private static final UUID TOPIC = UUID.fromString("6f1c1a5e-3b0a-4c0e-9a1d-2f4e5d6c7b8a");

    /** Kafka's record layout: the key's record type (its apiKey) as an int16, then version 0 of the key. */
    private static byte[] kafkaKey(short type, Message key) {
        return bytes(type, key, (short) 0);
    }

    private static byte[] bytes(short prefix, Message message, short version) {
        // One cache for size and write: Kafka's generated code sizes strings into it and writes them from it.
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buf = ByteBuffer.allocate(2 + message.size(cache, version));
        buf.putShort(prefix);
        message.write(new ByteBufferAccessor(buf), cache, version);
        return buf.array();
    }

    private static Uuid kafkaUuid(UUID id) {
        return new Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
    }

    @Test
    void snapshotRecordsFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        ShareSnapshotKey key = new ShareSnapshotKey().setGroupId("orders-workers").setTopicId(kafkaUuid(TOPIC))
                .setPartition(7);
        byte[] keyBytes = kafkaKey(ShareStateRecords.SNAPSHOT, key);
        assertEquals(0, key.apiKey());
        ShareStateRecords.Key ours = ShareStateRecords.readKey(keyBytes);
        assertEquals(new ShareStateRecords.Key(ShareStateRecords.SNAPSHOT, "orders-workers", TOPIC, 7), ours);
        assertArrayEquals(keyBytes, ShareStateRecords.key(ShareStateRecords.SNAPSHOT, "orders-workers", TOPIC, 7));

        for (int deliveryCompleteCount : new int[] {-1, 0, 12}) {
            ShareSnapshotValue value = new ShareSnapshotValue().setSnapshotEpoch(3).setStateEpoch(2).setLeaderEpoch(9)
                    .setStartOffset(100).setDeliveryCompleteCount(deliveryCompleteCount).setCreateTimestamp(1_700_000L)
                    .setWriteTimestamp(1_700_500L).setStateBatches(List.of(
                            new ShareSnapshotValue.StateBatch().setFirstOffset(100).setLastOffset(104)
                                    .setDeliveryState((byte) 0).setDeliveryCount((short) 2),
                            new ShareSnapshotValue.StateBatch().setFirstOffset(105).setLastOffset(105)
                                    .setDeliveryState((byte) 4).setDeliveryCount((short) 5)));
            byte[] valueBytes = bytes((short) 0, value, (short) 0);
            ShareStateRecords.Snapshot s = ShareStateRecords.readSnapshotValue(valueBytes);
            assertEquals(new ShareStateRecords.Snapshot(3, 2, 9, 100, deliveryCompleteCount, 1_700_000L, 1_700_500L,
                    List.of(new ShareStateBatch(100, 104, (byte) 0, (short) 2),
                            new ShareStateBatch(105, 105, (byte) 4, (short) 5))), s);
            assertArrayEquals(valueBytes, ShareStateRecords.snapshotValue(s), "DeliveryCompleteCount "
                    + deliveryCompleteCount);
            // And Kafka reads ours.
            ShareSnapshotValue back = new ShareSnapshotValue(new ByteBufferAccessor(
                    ByteBuffer.wrap(ShareStateRecords.snapshotValue(s), 2, valueBytes.length - 2)), (short) 0);
            assertEquals(value, back);
        }
    }

    @Test
    void updateRecordsFromKafkaShouldDecodeAndReEncodeToTheSameBytes() {
        ShareUpdateKey key = new ShareUpdateKey().setGroupId("g").setTopicId(kafkaUuid(TOPIC)).setPartition(0);
        byte[] keyBytes = kafkaKey(ShareStateRecords.UPDATE, key);
        assertEquals(1, key.apiKey());
        assertEquals(new ShareStateRecords.Key(ShareStateRecords.UPDATE, "g", TOPIC, 0),
                ShareStateRecords.readKey(keyBytes));
        assertArrayEquals(keyBytes, ShareStateRecords.key(ShareStateRecords.UPDATE, "g", TOPIC, 0));

        ShareUpdateValue value = new ShareUpdateValue().setSnapshotEpoch(1).setLeaderEpoch(-1).setStartOffset(-1)
                .setDeliveryCompleteCount(4).setStateBatches(List.of(new ShareUpdateValue.StateBatch()
                        .setFirstOffset(10).setLastOffset(19).setDeliveryState((byte) 2).setDeliveryCount((short) 1)));
        byte[] valueBytes = bytes((short) 0, value, (short) 0);
        ShareStateRecords.Update u = ShareStateRecords.readUpdateValue(valueBytes);
        assertEquals(new ShareStateRecords.Update(1, -1, -1, 4,
                List.of(new ShareStateBatch(10, 19, (byte) 2, (short) 1))), u);
        assertArrayEquals(valueBytes, ShareStateRecords.updateValue(u));
    }

    @Test
    void otherRecordTypesShouldBeSkippedAndTruncatedOnesRefused() {
        assertNull(ShareStateRecords.readKey(new byte[] {0, 5, 0, 0}));
        byte[] key = ShareStateRecords.key(ShareStateRecords.SNAPSHOT, "g", TOPIC, 1);
        assertThrows(io.tandem.kafka.wire.KafkaCodecException.class,
                () -> ShareStateRecords.readKey(java.util.Arrays.copyOf(key, key.length - 1)));
        byte[] value = ShareStateRecords.snapshotValue(new ShareStateRecords.Snapshot(0, 0, 0, 0, -1, 0, 0,
                List.of(new ShareStateBatch(0, 1, (byte) 0, (short) 1))));
        assertThrows(io.tandem.kafka.wire.KafkaCodecException.class,
                () -> ShareStateRecords.readSnapshotValue(java.util.Arrays.copyOf(value, value.length - 3)));
    }
}
