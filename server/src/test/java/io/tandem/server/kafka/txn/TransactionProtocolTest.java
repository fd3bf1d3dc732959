package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.kafka.wire.message.DescribeTransactionsRequest;
import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.ListTransactionsRequest;
import io.tandem.kafka.wire.message.ListTransactionsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.kafka.wire.message.WriteTxnMarkersResponse;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.EndTxnMarker;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The transaction APIs over a raw socket: the error codes Kafka 3.9 answers (and their older-version spellings),
 * which the Java client turns into exceptions and retries and so never shows a test directly.
 */
class TransactionProtocolTest {
    private static final String TOPIC = TxnProtocolNode.TOPIC;
    @TempDir
    Path dir;
    private TxnProtocolNode node;
    private Tandem tandem;
    private RawKafkaConnection connection;

    @BeforeEach
    void start() throws Exception {
        node = TxnProtocolNode.start(dir);
        tandem = node.tandem;
        connection = node.connection;
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
    }

    private <R extends ApiMessage> R call(ApiKey key, int version, ApiMessage request) throws Exception {
        return node.call(key, version, request);
    }

    private static <R> R until(Supplier<R> call, Function<R, Short> error) throws Exception {
        return TxnProtocolNode.until(call, error);
    }

    private InitProducerIdResponse init(int version, String transactionalId, int timeoutMs, long producerId,
                                        short epoch) throws Exception {
        return node.initProducerId(version, transactionalId, timeoutMs, producerId, epoch);
    }

    private InitProducerIdResponse init(String transactionalId) throws Exception {
        return init(4, transactionalId, 60_000, -1, (short) -1);
    }

    private AddPartitionsToTxnResponse addPartitions(int version, String transactionalId, long producerId, short epoch,
                                                     String topic, int... partitions) throws Exception {
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest();
        AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t = new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
        t.name = topic;
        for (int p : partitions) t.partitions.add(p);
        request.v3AndBelowTransactionalId = transactionalId;
        request.v3AndBelowProducerId = producerId;
        request.v3AndBelowProducerEpoch = epoch;
        request.v3AndBelowTopics.add(t);
        return call(ApiKey.ADD_PARTITIONS_TO_TXN, version, request);
    }

    private static List<Short> partitionErrors(AddPartitionsToTxnResponse response) {
        return response.resultsByTopicV3AndBelow.stream().flatMap(t -> t.resultsByPartition.stream())
                .map(p -> p.partitionErrorCode).toList();
    }

    private short endTxn(int version, String transactionalId, long producerId, short epoch, boolean commit)
            throws Exception {
        EndTxnRequest request = new EndTxnRequest();
        request.transactionalId = transactionalId;
        request.producerId = producerId;
        request.producerEpoch = epoch;
        request.committed = commit;
        return this.<EndTxnResponse>call(ApiKey.END_TXN, version, request).errorCode;
    }

    private ProduceResponse produce(ByteBuf records, String transactionalId, int partition) throws Exception {
        return call(ApiKey.PRODUCE, 9, TxnProtocolNode.produceRequest(transactionalId, (short) -1, 10_000, partition,
                records));
    }

    private static ByteBuf transactionalBatch(long producerId, short epoch, int sequence, String... values) {
        ByteBuf buf = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
            builder.producer(producerId, epoch, sequence).transactional(true);
            for (String v : values) builder.append(System.currentTimeMillis(), null, v.getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        return buf;
    }

    @Test
    void initProducerIdShouldRefuseAnEmptyIdABadTimeoutAndHalfAProducerIdentity() throws Exception {
        assertEquals(INVALID_REQUEST, init(4, "", 60_000, -1, (short) -1).errorCode);
        assertEquals(INVALID_TRANSACTION_TIMEOUT, init(4, "t", 0, -1, (short) -1).errorCode);
        assertEquals(INVALID_TRANSACTION_TIMEOUT, init(4, "t", 900_001, -1, (short) -1).errorCode,
                "transaction.max.timeout.ms defaults to 15 minutes");
        InitProducerIdResponse half = init(4, "t", 60_000, 5, (short) -1);
        assertEquals(INVALID_REQUEST, half.errorCode);
        assertEquals(-1, half.producerId);
        assertEquals(-1, half.producerEpoch);
    }

    @Test
    void initProducerIdShouldBumpTheEpochAndResumeOrFenceAProducerThatNamesItself() throws Exception {
        InitProducerIdResponse first = init("t");
        assertEquals(NONE, first.errorCode);
        assertEquals(0, first.producerEpoch);
        InitProducerIdResponse second = init("t");
        assertEquals(first.producerId, second.producerId, "a transactional id keeps its producer id");
        assertEquals(1, second.producerEpoch);
        // KIP-360: the current producer bumps its own epoch, and a retry of that bump gets the same answer.
        InitProducerIdResponse resumed = init(4, "t", 60_000, first.producerId, (short) 1);
        assertEquals(NONE, resumed.errorCode);
        assertEquals(2, resumed.producerEpoch);
        InitProducerIdResponse retried = init(4, "t", 60_000, first.producerId, (short) 1);
        assertEquals(NONE, retried.errorCode);
        assertEquals(2, retried.producerEpoch);
        assertEquals(PRODUCER_FENCED, init(4, "t", 60_000, first.producerId, (short) 0).errorCode);
        assertEquals(INVALID_PRODUCER_EPOCH, init(3, "t", 60_000, first.producerId, (short) 0).errorCode,
                "before v4 clients get PRODUCER_FENCED as INVALID_PRODUCER_EPOCH");
        assertEquals(PRODUCER_FENCED, init(4, "t", 60_000, first.producerId + 100, (short) 2).errorCode);
    }

    @Test
    void addPartitionsAndEndTxnShouldAnswerKafkasErrors() throws Exception {
        InitProducerIdResponse pid = init("t");
        long id = pid.producerId;
        short epoch = pid.producerEpoch;
        assertEquals(List.of(INVALID_PRODUCER_ID_MAPPING), partitionErrors(addPartitions(3, "unknown", id, epoch, TOPIC, 0)));
        assertEquals(List.of(INVALID_PRODUCER_ID_MAPPING), partitionErrors(addPartitions(3, "t", id + 1, epoch, TOPIC, 0)));
        assertEquals(List.of(PRODUCER_FENCED), partitionErrors(addPartitions(3, "t", id, (short) (epoch + 1), TOPIC, 0)));
        assertEquals(List.of(INVALID_PRODUCER_EPOCH), partitionErrors(addPartitions(1, "t", id, (short) (epoch + 1), TOPIC, 0)));
        AddPartitionsToTxnRequest mixed = new AddPartitionsToTxnRequest();
        mixed.v3AndBelowTransactionalId = "t";
        mixed.v3AndBelowProducerId = id;
        mixed.v3AndBelowProducerEpoch = epoch;
        for (String name : List.of(TOPIC, "missing")) {
            AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t = new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
            t.name = name;
            t.partitions.add(0);
            mixed.v3AndBelowTopics.add(t);
        }
        AddPartitionsToTxnResponse failed = call(ApiKey.ADD_PARTITIONS_TO_TXN, 3, mixed);
        assertEquals(List.of(OPERATION_NOT_ATTEMPTED, UNKNOWN_TOPIC_OR_PARTITION), partitionErrors(failed),
                "one unknown topic fails the whole request");

        assertEquals(INVALID_TXN_STATE, endTxn(3, "t", id, epoch, true), "nothing to commit in Empty");
        assertEquals(List.of(NONE, NONE), partitionErrors(addPartitions(3, "t", id, epoch, TOPIC, 0, 1)));
        assertEquals(PRODUCER_FENCED, endTxn(3, "t", id, (short) (epoch + 1), true));
        assertEquals(INVALID_PRODUCER_EPOCH, endTxn(1, "t", id, (short) (epoch + 1), true));
        assertEquals(NONE, endTxn(3, "t", id, epoch, true));
        // A retried commit is fine once the commit completed; an abort of it is not.
        assertEquals(NONE, (short) until(() -> {
            try {
                return endTxn(3, "t", id, epoch, true);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, e -> e));
        assertEquals(INVALID_TXN_STATE, endTxn(3, "t", id, epoch, false));
    }

    @Test
    void verifyOnlyShouldTellWhichPartitionsAreInTheTransaction() throws Exception {
        InitProducerIdResponse pid = init("t");
        assertEquals(List.of(NONE), partitionErrors(addPartitions(3, "t", pid.producerId, pid.producerEpoch, TOPIC, 0)));
        AddPartitionsToTxnRequest verify = new AddPartitionsToTxnRequest();
        AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction txn = new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction();
        txn.transactionalId = "t";
        txn.producerId = pid.producerId;
        txn.producerEpoch = pid.producerEpoch;
        txn.verifyOnly = true;
        AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t = new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
        t.name = TOPIC;
        t.partitions.addAll(List.of(0, 1));
        txn.topics.add(t);
        verify.transactions.add(txn);
        AddPartitionsToTxnResponse response = call(ApiKey.ADD_PARTITIONS_TO_TXN, 5, verify);
        assertEquals(NONE, response.errorCode);
        List<Short> errors = response.resultsByTransaction.get(0).topicResults.get(0).resultsByPartition.stream()
                .map(p -> p.partitionErrorCode).toList();
        assertEquals(List.of(NONE, TRANSACTION_ABORTABLE), errors);
    }

    @Test
    void clientsMustNotWriteControlBatches() throws Exception {
        ByteBuf marker = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(marker)) {
            builder.producer(7, (short) 0, -1).appendEndTxnMarker(0, new EndTxnMarker(ControlRecordType.ABORT, 0));
            builder.build();
        }
        // A control batch is transactional: without a transactional id Kafka refuses the whole request before it
        // looks at the records (KafkaApis.handleProduceRequest: hasTransactionalRecords and no transactional id is
        // TRANSACTIONAL_ID_AUTHORIZATION_FAILED, with or without an authorizer), so nothing is appended.
        ProduceResponse response = produce(marker, null, 0);
        assertEquals(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, response.responses.get(0).partitionResponses.get(0).errorCode);
    }

    @Test
    void markersShouldFenceOlderProducerAndCoordinatorEpochs() throws Exception {
        InitProducerIdResponse pid = init("t");
        assertEquals(List.of(NONE), partitionErrors(addPartitions(3, "t", pid.producerId, pid.producerEpoch, TOPIC, 0)));
        assertEquals(NONE, produce(transactionalBatch(pid.producerId, pid.producerEpoch, 0, "x"), "t", 0)
                .responses.get(0).partitionResponses.get(0).errorCode);
        assertEquals(NONE, writeMarker(pid.producerId, (short) (pid.producerEpoch + 1), 5, false));
        assertEquals(INVALID_PRODUCER_EPOCH, writeMarker(pid.producerId, pid.producerEpoch, 5, false));
        assertEquals(TRANSACTION_COORDINATOR_FENCED, writeMarker(pid.producerId, (short) (pid.producerEpoch + 1), 4, true));
    }

    private short writeMarker(long producerId, short epoch, int coordinatorEpoch, boolean commit) throws Exception {
        WriteTxnMarkersRequest request = new WriteTxnMarkersRequest();
        WriteTxnMarkersRequest.WritableTxnMarker marker = new WriteTxnMarkersRequest.WritableTxnMarker();
        marker.producerId = producerId;
        marker.producerEpoch = epoch;
        marker.coordinatorEpoch = coordinatorEpoch;
        marker.transactionResult = commit;
        WriteTxnMarkersRequest.WritableTxnMarkerTopic topic = new WriteTxnMarkersRequest.WritableTxnMarkerTopic();
        topic.name = TOPIC;
        topic.partitionIndexes.add(0);
        marker.topics.add(topic);
        request.markers.add(marker);
        WriteTxnMarkersResponse response = call(ApiKey.WRITE_TXN_MARKERS, 1, request);
        return response.markers.get(0).topics.get(0).partitions.get(0).errorCode;
    }

    @Test
    void readCommittedFetchShouldStopAtTheLsoAndListTheAbortedTransactions() throws Exception {
        InitProducerIdResponse pid = init("t");
        long id = pid.producerId;
        short epoch = pid.producerEpoch;
        assertEquals(List.of(NONE), partitionErrors(addPartitions(3, "t", id, epoch, TOPIC, 0)));
        produce(transactionalBatch(id, epoch, 0, "a", "b"), "t", 0);
        FetchResponse.PartitionData open = fetch(0);
        assertEquals(0, open.lastStableOffset, "the open transaction starts at 0");
        assertEquals(2, open.highWatermark);
        assertEquals(0, open.records.readableBytes(), "nothing below the LSO");
        assertEquals(NONE, endTxn(3, "t", id, epoch, false));
        FetchResponse.PartitionData aborted = until(() -> {
            try {
                FetchResponse.PartitionData data = fetch(0);
                return data.lastStableOffset == 3 ? data : null;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, d -> d == null ? CONCURRENT_TRANSACTIONS : NONE);
        assertNotNull(aborted, "the ABORT marker moves the LSO past the transaction");
        assertEquals(1, aborted.abortedTransactions.size());
        assertEquals(id, aborted.abortedTransactions.get(0).producerId);
        assertEquals(0, aborted.abortedTransactions.get(0).firstOffset);
        assertTrue(aborted.records.readableBytes() > 0);
    }

    private FetchResponse.PartitionData fetch(long offset) throws Exception {
        return fetch(0, offset);
    }

    private FetchResponse.PartitionData fetch(int partition, long offset) throws Exception {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.maxWaitMs = 0;
        request.minBytes = 0;
        request.maxBytes = 1 << 20;
        request.isolationLevel = 1;
        FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
        topic.topic = TOPIC;
        FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
        p.partition = partition;
        p.fetchOffset = offset;
        p.partitionMaxBytes = 1 << 20;
        topic.partitions.add(p);
        request.topics.add(topic);
        FetchResponse response = call(ApiKey.FETCH, 11, request);
        return response.responses.get(0).partitions.get(0);
    }

    @Test
    void describeAndListTransactionsShouldAnswerKafkasErrors() throws Exception {
        init("t");
        DescribeTransactionsRequest describe = new DescribeTransactionsRequest();
        describe.transactionalIds.addAll(List.of("t", "nobody", ""));
        DescribeTransactionsResponse described = call(ApiKey.DESCRIBE_TRANSACTIONS, 0, describe);
        assertEquals(NONE, described.transactionStates.get(0).errorCode);
        assertEquals("Empty", described.transactionStates.get(0).transactionState);
        assertEquals(-1, described.transactionStates.get(0).transactionStartTimeMs);
        assertEquals(TRANSACTIONAL_ID_NOT_FOUND, described.transactionStates.get(1).errorCode);
        assertEquals(INVALID_REQUEST, described.transactionStates.get(2).errorCode);

        ListTransactionsRequest list = new ListTransactionsRequest();
        list.stateFilters.addAll(List.of("Empty", "Bogus"));
        list.durationFilter = -1;
        ListTransactionsResponse listed = call(ApiKey.LIST_TRANSACTIONS, 1, list);
        assertEquals(NONE, listed.errorCode);
        assertEquals(List.of("Bogus"), listed.unknownStateFilters);
        assertEquals(List.of("t"), listed.transactionStates.stream().map(s -> s.transactionalId).toList());
        ListTransactionsRequest badPattern = new ListTransactionsRequest();
        badPattern.durationFilter = -1;
        badPattern.transactionalIdPattern = "(";
        assertEquals(INVALID_REGULAR_EXPRESSION, this.<ListTransactionsResponse>call(ApiKey.LIST_TRANSACTIONS, 2,
                badPattern).errorCode);
    }

    @Test
    void theAdminClientShouldAbortAHangingTransactionWithTheProducersCoordinatorEpoch() throws Exception {
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(TOPIC, 1);
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(java.util.Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
            // A transactional batch the coordinator never heard of (no AddPartitionsToTxn): nothing would ever end it.
            // Kafka refuses it while transaction.partition.verification.enable is on (KIP-890 part 1); a hanging
            // transaction comes from a broker with the key off, as here.
            org.apache.kafka.common.config.ConfigResource cluster = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.BROKER, "");
            admin.incrementalAlterConfigs(java.util.Map.of(cluster, List.of(new org.apache.kafka.clients.admin
                    .AlterConfigOp(new org.apache.kafka.clients.admin.ConfigEntry(
                    TransactionConfig.PARTITION_VERIFICATION_ENABLE, "false"),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
            assertEquals(NONE, produce(transactionalBatch(900, (short) 4, 0, "hanging"), "lost", 1).responses.get(0)
                    .partitionResponses.get(0).errorCode);
            org.apache.kafka.clients.admin.ProducerState hanging = admin.describeProducers(List.of(tp)).all()
                    .get().get(tp).activeProducers().get(0);
            assertEquals(900, hanging.producerId());
            assertEquals(0L, hanging.currentTransactionStartOffset().getAsLong());
            assertEquals(0, fetch(1, 0).lastStableOffset, "the hanging transaction holds the LSO at 0");
            // KIP-664: the admin client writes the ABORT marker itself (WriteTxnMarkers to the leader).
            admin.abortTransaction(new org.apache.kafka.clients.admin.AbortTransactionSpec(tp, 900, (short) 4,
                    hanging.coordinatorEpoch().orElse(-1))).all().get();
            assertFalse(admin.describeProducers(List.of(tp)).all().get().get(tp).activeProducers().get(0)
                    .currentTransactionStartOffset().isPresent());
        }
        FetchResponse.PartitionData after = fetch(1, 0);
        assertEquals(2, after.lastStableOffset, "record and ABORT marker are behind the LSO");
        assertEquals(900, after.abortedTransactions.get(0).producerId);
    }
}
