package io.tandem.server.kafka.txn;

import io.tandem.server.kafka.TopicPartition;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogKey;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** {@code __transaction_state} records against Kafka's own TransactionLogKey/TransactionLogValue classes. */
class TransactionLogCodecTest {

    private static TransactionMetadata.Transition transition(TransactionState state, Set<TopicPartition> partitions) {
        return new TransactionMetadata.Transition(4711L, -1L, (short) 3, (short) -1, 60_000, state, partitions,
                state == TransactionState.EMPTY ? -1 : 1_700_000_000_000L, 1_700_000_001_000L);
    }

    @Test
    void keyShouldBeKafkasCoordinatorTypePrefixedTransactionLogKey() {
        for (String id : List.of("my-txn", "", "ünïcödé-id")) {
            byte[] kafka = MessageUtil.toCoordinatorTypePrefixedBytes(new TransactionLogKey().setTransactionalId(id));
            assertArrayEquals(kafka, TransactionLogCodec.key(id));
            assertEquals(id, TransactionLogCodec.readKey(kafka));
        }
    }

    @Test
    void valueShouldBeKafkasVersionZeroTransactionLogValue() {
        TransactionMetadata.Transition t = transition(TransactionState.ONGOING, Set.of(new TopicPartition("orders", 2)));
        TransactionLogValue value = new TransactionLogValue().setProducerId(4711L).setProducerEpoch((short) 3)
                .setTransactionTimeoutMs(60_000).setTransactionStatus((byte) 1)
                .setTransactionLastUpdateTimestampMs(1_700_000_001_000L)
                .setTransactionStartTimestampMs(1_700_000_000_000L)
                .setTransactionPartitions(List.of(new TransactionLogValue.PartitionsSchema().setTopic("orders")
                        .setPartitionIds(List.of(2))));
        assertArrayEquals(MessageUtil.toVersionPrefixedBytes((short) 0, value), TransactionLogCodec.value(t));
    }

    @Test
    void emptyStateShouldCarryANullPartitionListAsKafkaWritesIt() {
        byte[] ours = TransactionLogCodec.value(transition(TransactionState.EMPTY, Set.of()));
        ByteBuffer buffer = ByteBuffer.wrap(ours);
        short version = buffer.getShort();
        TransactionLogValue kafka = new TransactionLogValue(new ByteBufferAccessor(buffer), version);
        assertNull(kafka.transactionPartitions());
        assertEquals(0, kafka.transactionStatus());
        assertEquals(-1L, kafka.transactionStartTimestampMs());
        assertThrows(IllegalStateException.class, () -> TransactionLogCodec.value(
                transition(TransactionState.EMPTY, Set.of(new TopicPartition("t", 0)))));
    }

    @Test
    void everyStateAndManyPartitionsShouldDecodeWithKafkasClassAndBack() {
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        for (int p = 0; p < 5; p++) partitions.add(new TopicPartition("a", p));
        partitions.add(new TopicPartition("b", 7));
        for (TransactionState state : List.of(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT,
                TransactionState.PREPARE_ABORT, TransactionState.COMPLETE_COMMIT, TransactionState.COMPLETE_ABORT)) {
            Set<TopicPartition> stored = state == TransactionState.COMPLETE_COMMIT
                    || state == TransactionState.COMPLETE_ABORT ? Set.of() : partitions;
            byte[] ours = TransactionLogCodec.value(transition(state, stored));
            ByteBuffer buffer = ByteBuffer.wrap(ours);
            TransactionLogValue kafka = new TransactionLogValue(new ByteBufferAccessor(buffer), buffer.getShort());
            assertEquals(state.id, kafka.transactionStatus());
            Set<TopicPartition> decoded = new LinkedHashSet<>();
            for (TransactionLogValue.PartitionsSchema s : kafka.transactionPartitions()) {
                for (int p : s.partitionIds()) decoded.add(new TopicPartition(s.topic(), p));
            }
            assertEquals(stored, decoded);
            TransactionMetadata back = TransactionLogCodec.readValue("id", ours);
            assertEquals(state, back.state());
            assertEquals(stored, back.topicPartitions());
            assertEquals(4711L, back.producerId());
            assertEquals(3, back.producerEpoch());
            assertEquals(60_000, back.txnTimeoutMs());
        }
    }

    @Test
    void shouldReadTheFlexibleVersionKafka4WritesWithTransactionVersion2() {
        TransactionLogValue value = new TransactionLogValue().setProducerId(12L).setPreviousProducerId(11L)
                .setNextProducerId(13L).setProducerEpoch((short) 9).setTransactionTimeoutMs(1000)
                .setTransactionStatus((byte) 2).setTransactionLastUpdateTimestampMs(5).setTransactionStartTimestampMs(4)
                .setClientTransactionVersion((short) 2)
                .setTransactionPartitions(new ArrayList<>(List.of(new TransactionLogValue.PartitionsSchema()
                        .setTopic("x").setPartitionIds(List.of(0, 1)))));
        TransactionMetadata m = TransactionLogCodec.readValue("id", MessageUtil.toVersionPrefixedBytes((short) 1, value));
        assertEquals(TransactionState.PREPARE_COMMIT, m.state());
        assertEquals(12L, m.producerId());
        assertEquals(11L, m.lastProducerId);
        assertEquals(9, m.producerEpoch());
        assertEquals(Set.of(new TopicPartition("x", 0), new TopicPartition("x", 1)), m.topicPartitions());
        assertEquals(4, m.txnStartTimestamp());
        assertEquals(5, m.txnLastUpdateTimestamp());
        assertEquals(13L, m.nextProducerId, "the producer id an overflowing transaction hands over to");
        assertEquals(2, m.clientTransactionVersion());
    }

    @Test
    void shouldWriteTheFlexibleVersionByteForByteAsKafka4WithTransactionVersion2() {
        for (TransactionState state : List.of(TransactionState.EMPTY, TransactionState.ONGOING,
                TransactionState.PREPARE_ABORT, TransactionState.COMPLETE_COMMIT)) {
            Set<TopicPartition> partitions = state == TransactionState.EMPTY || state == TransactionState.COMPLETE_COMMIT
                    ? Set.of() : Set.of(new TopicPartition("orders", 2));
            for (short clientVersion : new short[] {0, 2}) {
                TransactionMetadata.Transition t = new TransactionMetadata.Transition(4711L, 4700L, (short) 3,
                        (short) 2, 60_000, state, partitions, state == TransactionState.EMPTY ? -1 : 1_700_000_000_000L,
                        1_700_000_001_000L, -1L, clientVersion);
                // Kafka's TransactionLog.valueToBytes: only the client's version among the tagged fields.
                TransactionLogValue kafka = new TransactionLogValue().setProducerId(4711L).setProducerEpoch((short) 3)
                        .setTransactionTimeoutMs(60_000).setTransactionStatus(state.id)
                        .setTransactionLastUpdateTimestampMs(1_700_000_001_000L)
                        .setTransactionStartTimestampMs(state == TransactionState.EMPTY ? -1 : 1_700_000_000_000L)
                        .setClientTransactionVersion(clientVersion)
                        .setTransactionPartitions(state == TransactionState.EMPTY ? null : partitions.stream()
                                .map(tp -> new TransactionLogValue.PartitionsSchema().setTopic(tp.topic())
                                        .setPartitionIds(List.of(tp.partition()))).toList());
                byte[] ours = TransactionLogCodec.value(t, TransactionLogCodec.valueVersion((short) 2));
                assertArrayEquals(MessageUtil.toVersionPrefixedBytes((short) 1, kafka), ours, state + " v" + clientVersion);
                TransactionMetadata back = TransactionLogCodec.readValue("id", ours);
                assertEquals(clientVersion, back.clientTransactionVersion());
                assertEquals(partitions, back.topicPartitions());
            }
        }
        assertEquals(0, TransactionLogCodec.valueVersion((short) 0), "transaction.version 0 writes Kafka 3.9's v0");
    }

    @Test
    void partitionForShouldBeKafkasUtilsAbsOfTheHashCode() {
        // "polygenelubricants".hashCode() is Integer.MIN_VALUE: Kafka maps it to partition 0, not to a negative one.
        assertEquals(Integer.MIN_VALUE, "polygenelubricants".hashCode());
        for (String id : List.of("polygenelubricants", "a", "transactional-id-1", "zz", "negative?", "ctp-id")) {
            for (int count : new int[] {1, 5, 50}) {
                assertEquals(Utils.abs(id.hashCode()) % count, TransactionLogCodec.partitionFor(id, count), id);
            }
        }
    }
}
