package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.Features;
import io.tandem.kafka.wire.KafkaCodecException;
import io.tandem.kafka.wire.Primitives;
import io.tandem.server.kafka.TopicPartition;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The record formats of {@code __transaction_state}, byte for byte Kafka's, so the topic reads the same with Kafka's
 * tools and a log written by either can be loaded by the other: key {int16 0 (the transaction log record type),
 * TransactionalId string}; value TransactionLogValue v0 {ProducerId int64, ProducerEpoch int16,
 * TransactionTimeoutMs int32, TransactionStatus int8, TransactionPartitions nullable [Topic string,
 * PartitionIds [int32]], TransactionLastUpdateTimestampMs int64, TransactionStartTimestampMs int64}. Which version
 * is written follows the finalized {@code transaction.version}, as in Kafka 4.x: v0 at level 0 (what Kafka 3.9
 * writes), v1, the flexible form with tagged PreviousProducerId (0), NextProducerId (1) and ClientTransactionVersion
 * (2), from level 1. Like Kafka, only the client's transaction version is written among the tags (the producer ids
 * stay at their default and so are left out). A null value is a tombstone (an expired transactional id).
 */
public final class TransactionLogCodec {
    /** CoordinatorRecordType.TRANSACTION_LOG: the key's version prefix. */
    static final short KEY_TYPE = 0;
    static final short VALUE_VERSION = 0;
    static final short VALUE_VERSION_FLEXIBLE = 1;
    private static final int TAG_PREVIOUS_PRODUCER_ID = 0;
    private static final int TAG_NEXT_PRODUCER_ID = 1;
    private static final int TAG_CLIENT_TRANSACTION_VERSION = 2;

    private TransactionLogCodec() {
    }

    /** Which partition of the transaction state topic holds a transactional id (Kafka's Utils.abs of the hash). */
    public static int partitionFor(String transactionalId, int partitionCount) {
        int hash = transactionalId.hashCode();
        // Kafka's Utils.abs maps Integer.MIN_VALUE to 0 rather than to itself.
        int abs = hash == Integer.MIN_VALUE ? 0 : Math.abs(hash);
        return abs % partitionCount;
    }

    public static byte[] key(String transactionalId) {
        ByteBuf out = Unpooled.buffer();
        out.writeShort(KEY_TYPE);
        Primitives.writeString(out, transactionalId, false);
        return ByteBufUtil.getBytes(out);
    }

    /** The transactional id of a key, or null for a record type this broker does not know (skipped on load). */
    public static String readKey(byte[] key) {
        ByteBuf in = Unpooled.wrappedBuffer(key);
        if (in.readShort() != KEY_TYPE) return null;
        return Primitives.readString(in, false);
    }

    /** The value version Kafka writes at a finalized transaction version (TransactionVersion.transactionLogValueVersion). */
    public static short valueVersion(short transactionVersion) {
        return transactionVersion >= Features.TRANSACTION_VERSION_1 ? VALUE_VERSION_FLEXIBLE : VALUE_VERSION;
    }

    /** The v0 value (Kafka 3.9's). */
    public static byte[] value(TransactionMetadata.Transition t) {
        return value(t, VALUE_VERSION);
    }

    /**
     * The value Kafka writes for a transition at a value version: Empty carries no partition list (null), other
     * states their list.
     */
    public static byte[] value(TransactionMetadata.Transition t, short version) {
        if (version != VALUE_VERSION && version != VALUE_VERSION_FLEXIBLE) {
            throw new IllegalArgumentException("Unknown transaction log value version " + version);
        }
        boolean flexible = version == VALUE_VERSION_FLEXIBLE;
        if (t.state() == TransactionState.EMPTY && !t.topicPartitions().isEmpty()) {
            throw new IllegalStateException("Transaction is not expected to have any partitions since its state is "
                    + t.state() + ": " + t);
        }
        ByteBuf out = Unpooled.buffer();
        out.writeShort(version);
        out.writeLong(t.producerId());
        out.writeShort(t.producerEpoch());
        out.writeInt(t.txnTimeoutMs());
        out.writeByte(t.state().id);
        if (t.state() == TransactionState.EMPTY) {
            // A null array: -1 as int32, or 0 as the compact length (length + 1).
            if (flexible) {
                Primitives.writeUnsignedVarint(out, 0);
            } else {
                out.writeInt(-1);
            }
        } else {
            Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : t.topicPartitions()) {
                byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
            }
            writeArrayLength(out, byTopic.size(), flexible);
            for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
                Primitives.writeString(out, e.getKey(), flexible);
                writeArrayLength(out, e.getValue().size(), flexible);
                for (int p : e.getValue()) out.writeInt(p);
                if (flexible) Primitives.writeUnsignedVarint(out, 0);
            }
        }
        out.writeLong(t.txnLastUpdateTimestamp());
        out.writeLong(t.txnStartTimestamp());
        if (flexible) {
            if (t.clientTransactionVersion() == Features.TRANSACTION_VERSION_0) {
                Primitives.writeUnsignedVarint(out, 0);
            } else {
                Primitives.writeUnsignedVarint(out, 1);
                Primitives.writeUnsignedVarint(out, TAG_CLIENT_TRANSACTION_VERSION);
                Primitives.writeUnsignedVarint(out, 2);
                out.writeShort(t.clientTransactionVersion());
            }
        }
        return ByteBufUtil.getBytes(out);
    }

    /**
     * Reads a value into the metadata it describes (no pending state); throws {@link KafkaCodecException} for an
     * unknown version or a malformed value.
     */
    public static TransactionMetadata readValue(String transactionalId, byte[] value) {
        ByteBuf in = Unpooled.wrappedBuffer(value);
        short version = in.readShort();
        if (version != VALUE_VERSION && version != VALUE_VERSION_FLEXIBLE) {
            throw new KafkaCodecException("Unknown version " + version + " from the transaction log message value");
        }
        boolean flexible = version == VALUE_VERSION_FLEXIBLE;
        long producerId = in.readLong();
        short producerEpoch = in.readShort();
        int timeoutMs = in.readInt();
        TransactionState state = TransactionState.fromId(in.readByte());
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        int topics = Primitives.readArrayLength(in, flexible, flexible ? 2 : 6);
        for (int i = 0; i < topics; i++) {
            String topic = Primitives.readString(in, flexible);
            int count = Primitives.readArrayLength(in, flexible, 4);
            for (int j = 0; j < count; j++) partitions.add(new TopicPartition(topic, in.readInt()));
            if (flexible) Primitives.skipTaggedFields(in);
        }
        long lastUpdate = in.readLong();
        long start = in.readLong();
        long previousProducerId = TransactionMetadata.NO_PRODUCER_ID;
        long nextProducerId = TransactionMetadata.NO_PRODUCER_ID;
        short clientTransactionVersion = Features.TRANSACTION_VERSION_0;
        if (flexible) {
            int tags = Primitives.readUnsignedVarint(in);
            for (int i = 0; i < tags; i++) {
                int tag = Primitives.readUnsignedVarint(in);
                int size = Primitives.readUnsignedVarint(in);
                Primitives.checkReadable(in, size);
                if (tag == TAG_PREVIOUS_PRODUCER_ID && size == 8) {
                    previousProducerId = in.getLong(in.readerIndex());
                } else if (tag == TAG_NEXT_PRODUCER_ID && size == 8) {
                    nextProducerId = in.getLong(in.readerIndex());
                } else if (tag == TAG_CLIENT_TRANSACTION_VERSION && size == 2) {
                    clientTransactionVersion = in.getShort(in.readerIndex());
                }
                in.skipBytes(size);
            }
        }
        TransactionMetadata metadata = new TransactionMetadata(transactionalId, producerId, previousProducerId,
                producerEpoch, TransactionMetadata.NO_PRODUCER_EPOCH, timeoutMs, state, start, lastUpdate);
        metadata.nextProducerId = nextProducerId;
        metadata.clientTransactionVersion = clientTransactionVersion;
        if (state != TransactionState.EMPTY) metadata.addPartitions(partitions);
        return metadata;
    }

    private static void writeArrayLength(ByteBuf out, int length, boolean flexible) {
        if (flexible) {
            Primitives.writeUnsignedVarint(out, length + 1);
        } else {
            out.writeInt(length);
        }
    }
}
