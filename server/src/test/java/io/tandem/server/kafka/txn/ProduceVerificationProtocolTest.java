package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * KIP-890 part 1 over a raw socket: a transaction version 0 producer's transactional batch (Produce v3-11) for a
 * partition its coordinator does not hold is refused, and nothing is appended, while
 * {@code transaction.partition.verification.enable} is on (Kafka's default): INVALID_TXN_STATE with Kafka's message up
 * to v10, TRANSACTION_ABORTABLE at v11 (ReplicaManager and AddPartitionsToTxnManager's DEFAULT_ERROR and
 * GENERIC_ERROR_SUPPORTED operations); the same batch after AddPartitionsToTxn is appended; with the key off, statically
 * or dynamically (Kafka's DynamicProducerStateManagerConfig), it is appended without a question, as Kafka does.
 */
class ProduceVerificationProtocolTest {
    private static final String TOPIC = TxnProtocolNode.TOPIC;
    @TempDir
    Path dir;

    private static InitProducerIdResponse init(TxnProtocolNode node, String transactionalId) throws Exception {
        InitProducerIdResponse response = node.initProducerId(transactionalId, 4);
        assertEquals(NONE, response.errorCode);
        return response;
    }

    private static short addPartition(TxnProtocolNode node, String transactionalId, InitProducerIdResponse pid,
                                      int partition) throws Exception {
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest();
        AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t = new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
        t.name = TOPIC;
        t.partitions.add(partition);
        request.v3AndBelowTransactionalId = transactionalId;
        request.v3AndBelowProducerId = pid.producerId;
        request.v3AndBelowProducerEpoch = pid.producerEpoch;
        request.v3AndBelowTopics.add(t);
        AddPartitionsToTxnResponse response = node.call(ApiKey.ADD_PARTITIONS_TO_TXN, 3, request);
        return response.resultsByTopicV3AndBelow.get(0).resultsByPartition.get(0).partitionErrorCode;
    }

    static ByteBuf transactionalBatch(long producerId, short epoch, int sequence, String value) {
        ByteBuf buf = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
            builder.producer(producerId, epoch, sequence).transactional(true);
            builder.append(System.currentTimeMillis(), null, value.getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        return buf;
    }

    private static ProduceResponse.PartitionProduceResponse produce(TxnProtocolNode node, int version,
                                                                  String transactionalId, ByteBuf records,
                                                                  int partition) throws Exception {
        ProduceRequest request = TxnProtocolNode.produceRequest(transactionalId, (short) -1, 10_000, partition,
                records);
        ProduceResponse response = node.call(ApiKey.PRODUCE, version, request);
        return response.responses.get(0).partitionResponses.get(0);
    }

    /** The partition's log end offset, as a read_uncommitted Fetch reports it (the high watermark of one replica). */
    private static long logEnd(TxnProtocolNode node, int partition) throws Exception {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = 0;
        request.minBytes = 0;
        request.maxBytes = 1 << 20;
        request.isolationLevel = 0;
        FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
        topic.topic = TOPIC;
        FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
        p.partition = partition;
        p.fetchOffset = 0;
        p.partitionMaxBytes = 1 << 20;
        topic.partitions.add(p);
        request.topics.add(topic);
        FetchResponse response = node.call(ApiKey.FETCH, 11, request);
        return response.responses.get(0).partitions.get(0).highWatermark;
    }

    @Test
    void aBatchForAPartitionNeverAddedShouldBeRefusedWithKafkasErrorPerVersionAndAcceptedOnceAdded() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir)) {
            InitProducerIdResponse pid = init(node, "t");
            for (int version : new int[] {3, 9, 10}) {
                ProduceResponse.PartitionProduceResponse refused = produce(node, version, "t",
                        transactionalBatch(pid.producerId, pid.producerEpoch, 0, "v" + version), 0);
                assertEquals(INVALID_TXN_STATE, refused.errorCode, "v" + version);
                if (version >= 8) {
                    // The answer carries error messages from v8.
                    assertEquals("Partition was not added to the transaction", refused.errorMessage, "v" + version);
                }
                assertEquals(-1, refused.baseOffset);
            }
            ProduceResponse.PartitionProduceResponse abortable = produce(node, 11, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "v11"), 0);
            assertEquals(TRANSACTION_ABORTABLE, abortable.errorCode, "v11 producers know the newer code");
            assertNull(abortable.errorMessage);
            assertEquals(0, logEnd(node, 0), "nothing refused reached the log");

            // A producer id the coordinator never gave: its error, as Kafka passes it on.
            assertEquals(INVALID_PRODUCER_ID_MAPPING, produce(node, 9, "t",
                    transactionalBatch(pid.producerId + 1000, (short) 0, 0, "stranger"), 0).errorCode);

            assertEquals(NONE, addPartition(node, "t", pid, 0));
            ProduceResponse.PartitionProduceResponse added = produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "added"), 0);
            assertEquals(NONE, added.errorCode);
            assertEquals(0, added.baseOffset);
            // The transaction is open here now: the next batch needs no question (and partition 1 is still refused).
            assertEquals(NONE, produce(node, 9, "t", transactionalBatch(pid.producerId, pid.producerEpoch, 1, "more"),
                    0).errorCode);
            assertEquals(INVALID_TXN_STATE, produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "other"), 1).errorCode);
            assertEquals(0, logEnd(node, 1));
        }
    }

    @Test
    void aLaterBatchShouldNotOvertakeTheFirstOneVerifiedAsKafkaRefusesIt() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir)) {
            InitProducerIdResponse pid = init(node, "t");
            // Sequence 0 asks first and is refused (not added yet): its verification keeps 0 as the lowest sequence.
            assertEquals(INVALID_TXN_STATE, produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "first"), 0).errorCode);
            assertEquals(NONE, addPartition(node, "t", pid, 0));
            // Sequence 1 is verified now, but would overtake 0, which a new producer here could then never append.
            assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 1, "second"), 0).errorCode);
            assertEquals(0, logEnd(node, 0), "nothing overtook");
            ProduceResponse.PartitionProduceResponse first = produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "first"), 0);
            assertEquals(NONE, first.errorCode, "the retried first batch goes in");
            assertEquals(0, first.baseOffset);
            ProduceResponse.PartitionProduceResponse second = produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 1, "second"), 0);
            assertEquals(NONE, second.errorCode);
            assertEquals(1, second.baseOffset);
        }
    }

    @Test
    void withTheKeyOffABatchNeverAddedShouldBeAppendedAsKafkaDoes() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir, "transaction.partition.verification.enable", "false")) {
            InitProducerIdResponse pid = init(node, "t");
            ProduceResponse.PartitionProduceResponse appended = produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "unverified"), 0);
            assertEquals(NONE, appended.errorCode);
            assertEquals(1, logEnd(node, 0));
        }
    }

    @Test
    void theKeyShouldApplyAtRuntimeAsADynamicBrokerConfig() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir)) {
            InitProducerIdResponse pid = init(node, "t");
            assertEquals(INVALID_TXN_STATE, produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "a"), 0).errorCode);
            assertEquals(NONE, setClusterDefault(node, "false"));
            assertEquals(NONE, produce(node, 9, "t", transactionalBatch(pid.producerId, pid.producerEpoch, 0, "b"),
                    0).errorCode, "off as the cluster's default: appended without a question");
            assertEquals(NONE, setClusterDefault(node, "true"));
            assertEquals(INVALID_TXN_STATE, produce(node, 9, "t",
                    transactionalBatch(pid.producerId, pid.producerEpoch, 0, "c"), 1).errorCode, "on again");
            assertEquals(INVALID_REQUEST, setClusterDefault(node, "maybe"), "a BOOLEAN, as Kafka's ConfigDef");
        }
    }

    private static short setClusterDefault(TxnProtocolNode node, String value) throws Exception {
        return node.setConfig(4, "", TransactionConfig.PARTITION_VERIFICATION_ENABLE, value);
    }
}
