package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Features;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.DescribeProducersRequest;
import io.tandem.kafka.wire.message.DescribeProducersResponse;
import io.tandem.kafka.wire.message.DescribeTransactionsRequest;
import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.TxnOffsetCommitRequest;
import io.tandem.kafka.wire.message.TxnOffsetCommitResponse;
import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.kafka.wire.message.WriteTxnMarkersResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.TopicNames;
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
 * Transaction version 2 (KIP-890 part 2) over a raw socket, the requests the Java 4.x producer sends once it sees
 * {@code transaction.version} 2: Produce v12 adds its partition to the transaction, EndTxn v5 bumps the epoch and
 * answers the producer id and epoch to go on with, a retry is told the same, TxnOffsetCommit v5 adds the group's
 * offsets partition, and the old epoch is fenced everywhere.
 */
class TransactionVersion2ProtocolTest {
    private static final String TOPIC = TxnProtocolNode.TOPIC;
    @TempDir
    Path dir;
    private TxnProtocolNode node;
    private Tandem tandem;
    private RawKafkaConnection connection;

    @BeforeEach
    void start() throws Exception {
        // Timed-out transactions are looked for every 50 ms, so a test's short transaction timeout aborts soon.
        node = TxnProtocolNode.start(dir, "transaction.abort.timed.out.transaction.cleanup.interval.ms", "50");
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

    private <R extends ApiMessage> R retrying(ApiKey key, int version, ApiMessage request, Function<R, Short> error)
            throws Exception {
        return until(() -> {
            try {
                return this.<R>call(key, version, request);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, error);
    }

    private InitProducerIdResponse init(String transactionalId) throws Exception {
        return init(transactionalId, 60_000);
    }

    private InitProducerIdResponse init(String transactionalId, int transactionTimeoutMs) throws Exception {
        InitProducerIdRequest request = new InitProducerIdRequest();
        request.transactionalId = transactionalId;
        request.transactionTimeoutMs = transactionTimeoutMs;
        request.producerId = -1;
        request.producerEpoch = -1;
        return retrying(ApiKey.INIT_PRODUCER_ID, 5, request, (InitProducerIdResponse r) -> r.errorCode);
    }

    private EndTxnResponse endTxn(int version, String transactionalId, long producerId, short epoch, boolean commit)
            throws Exception {
        EndTxnRequest request = new EndTxnRequest();
        request.transactionalId = transactionalId;
        request.producerId = producerId;
        request.producerEpoch = epoch;
        request.committed = commit;
        return retrying(ApiKey.END_TXN, version, request, (EndTxnResponse r) -> r.errorCode);
    }

    private short produce(int version, String transactionalId, long producerId, short epoch, int sequence,
                          int partition, String... values) throws Exception {
        ProduceRequest request = TxnProtocolNode.produceRequest(transactionalId, (short) -1, 10_000, partition, null);
        ProduceRequest.PartitionProduceData data = request.topicData.get(0).partitionData.get(0);
        ProduceResponse response = until(() -> {
            // Each attempt sends a fresh copy: the codec consumes the records it writes.
            data.records = transactionalBatch(producerId, epoch, sequence, values);
            try {
                return this.<ProduceResponse>call(ApiKey.PRODUCE, version, request);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, r -> r.responses.get(0).partitionResponses.get(0).errorCode);
        return response.responses.get(0).partitionResponses.get(0).errorCode;
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

    private java.util.UUID topicId() throws Exception {
        io.tandem.kafka.wire.message.MetadataRequest request = new io.tandem.kafka.wire.message.MetadataRequest();
        io.tandem.kafka.wire.message.MetadataRequest.MetadataRequestTopic topic =
                new io.tandem.kafka.wire.message.MetadataRequest.MetadataRequestTopic();
        topic.name = TOPIC;
        topic.topicId = new java.util.UUID(0, 0);
        request.topics = new java.util.ArrayList<>(List.of(topic));
        io.tandem.kafka.wire.message.MetadataResponse response = call(ApiKey.METADATA, 12, request);
        return response.topics.get(0).topicId;
    }

    private DescribeTransactionsResponse.TransactionState describe(String transactionalId) throws Exception {
        DescribeTransactionsRequest describe = new DescribeTransactionsRequest();
        describe.transactionalIds.add(transactionalId);
        return this.<DescribeTransactionsResponse>call(ApiKey.DESCRIBE_TRANSACTIONS, 0, describe).transactionStates.get(0);
    }

    private DescribeTransactionsResponse.TransactionState describeWhenCompleted(String transactionalId)
            throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            DescribeTransactionsResponse.TransactionState state = describe(transactionalId);
            if (state.transactionState.startsWith("Complete") || System.currentTimeMillis() > deadline) return state;
            Thread.sleep(20);
        }
    }

    private List<DescribeProducersResponse.ProducerState> producers(int partition) throws Exception {
        DescribeProducersRequest request = new DescribeProducersRequest();
        DescribeProducersRequest.TopicRequest topic = new DescribeProducersRequest.TopicRequest();
        topic.name = TOPIC;
        topic.partitionIndexes.add(partition);
        request.topics.add(topic);
        DescribeProducersResponse response = call(ApiKey.DESCRIBE_PRODUCERS, 0, request);
        return response.topics.get(0).partitions.get(0).activeProducers;
    }

    @Test
    void apiVersionsShouldFinalizeTransactionVersionTwo() throws Exception {
        ApiVersionsRequest request = new ApiVersionsRequest();
        request.clientSoftwareName = "test";
        request.clientSoftwareVersion = "1";
        // Below v4 Kafka leaves out features whose lowest level is 0 (KIP-1022; ApiVersionsFeaturesTest), which
        // both of these are: v4, as the 4.x clients send it, lists them.
        ApiVersionsResponse belowFour = call(ApiKey.API_VERSIONS, 3, request);
        assertEquals(List.of(), belowFour.supportedFeatures);
        ApiVersionsResponse response = call(ApiKey.API_VERSIONS, 4, request);
        // transaction.version and share.version (ShareGroupFeatureTest), as Apache Kafka 4.4 lists them.
        assertEquals(List.of(Features.SHARE_VERSION, Features.TRANSACTION_VERSION), response.supportedFeatures.stream()
                .map(f -> f.name).sorted().toList());
        ApiVersionsResponse.SupportedFeatureKey supported = response.supportedFeatures.stream()
                .filter(f -> f.name.equals(Features.TRANSACTION_VERSION)).findFirst().orElseThrow();
        assertEquals(0, supported.minVersion);
        assertEquals(2, supported.maxVersion);
        assertTrue(response.finalizedFeaturesEpoch >= 0, "the client reads finalized features only from epoch 0 on");
        assertEquals(2, response.finalizedFeatures.size());
        ApiVersionsResponse.FinalizedFeatureKey finalized = response.finalizedFeatures.stream()
                .filter(f -> f.name.equals(Features.TRANSACTION_VERSION)).findFirst().orElseThrow();
        assertEquals(2, finalized.maxVersionLevel);
        assertEquals(2, finalized.minVersionLevel);
        ApiVersionsResponse.ApiVersion endTxn = response.apiKeys.stream()
                .filter(k -> k.apiKey == ApiKey.END_TXN.id()).findFirst().orElseThrow();
        assertEquals(5, endTxn.maxVersion);
        ApiVersionsResponse.ApiVersion txnOffsetCommit = response.apiKeys.stream()
                .filter(k -> k.apiKey == ApiKey.TXN_OFFSET_COMMIT.id()).findFirst().orElseThrow();
        assertEquals(6, txnOffsetCommit.maxVersion);
        ApiVersionsResponse.ApiVersion markers = response.apiKeys.stream()
                .filter(k -> k.apiKey == ApiKey.WRITE_TXN_MARKERS.id()).findFirst().orElseThrow();
        assertEquals(2, markers.maxVersion);
        ApiVersionsResponse v2 = call(ApiKey.API_VERSIONS, 2, new ApiVersionsRequest());
        assertTrue(v2.finalizedFeatures.isEmpty(), "features are tagged fields of v3+");
    }

    @Test
    void produceV12ShouldAddThePartitionAndEndTxnV5ShouldBumpTheEpochOnEveryCommit() throws Exception {
        InitProducerIdResponse id = init("t");
        assertEquals(NONE, id.errorCode);
        long producerId = id.producerId;
        assertEquals(0, id.producerEpoch);

        assertEquals(NONE, produce(12, "t", producerId, (short) 0, 0, 0, "a", "b"));
        DescribeTransactionsResponse.TransactionState open = describe("t");
        assertEquals("Ongoing", open.transactionState);
        assertEquals(List.of(0), open.topics.get(0).partitions, "the produce added its partition");

        EndTxnResponse committed = endTxn(5, "t", producerId, (short) 0, true);
        assertEquals(NONE, committed.errorCode);
        assertEquals(producerId, committed.producerId);
        assertEquals(1, committed.producerEpoch, "every commit bumps the epoch");
        EndTxnResponse retried = endTxn(5, "t", producerId, (short) 0, true);
        assertEquals(NONE, retried.errorCode, "a retry of the commit with the old epoch succeeds");
        assertEquals(producerId, retried.producerId);
        assertEquals(1, retried.producerEpoch);
        DescribeTransactionsResponse.TransactionState complete = describeWhenCompleted("t");
        assertEquals("CompleteCommit", complete.transactionState);
        assertEquals(1, complete.producerEpoch);
        // The marker carried the bumped epoch: the partition knows the producer at epoch 1.
        assertEquals(1, producers(0).get(0).producerEpoch);

        assertEquals(INVALID_PRODUCER_EPOCH, produce(12, "t", producerId, (short) 0, 2, 1, "zombie"),
                "the old epoch is fenced");
        assertEquals(NONE, produce(12, "t", producerId, (short) 1, 0, 1, "c"));
        assertEquals(NONE, produce(12, "t", producerId, (short) 1, 1, 1, "d"), "no second add for an open partition");
        EndTxnResponse aborted = endTxn(5, "t", producerId, (short) 1, false);
        assertEquals(NONE, aborted.errorCode);
        assertEquals(2, aborted.producerEpoch, "every abort bumps the epoch too");
        assertEquals(PRODUCER_FENCED, endTxn(5, "t", producerId, (short) 0, false).errorCode,
                "two epochs back is no retry");
        assertEquals(2, describeWhenCompleted("t").producerEpoch);
        assertEquals(2, producers(1).get(0).producerEpoch);
    }

    @Test
    void produceV12OfAProducerWithNothingHereShouldStartAtSequenceZero() throws Exception {
        InitProducerIdResponse id = init("fresh");
        assertEquals(NONE, id.errorCode);
        // Kafka 4.1+ (KAFKA-18202): a transaction version 2 producer with no state on the partition starts at 0.
        assertEquals(OUT_OF_ORDER_SEQUENCE_NUMBER, produce(12, "fresh", id.producerId, id.producerEpoch, 3, 0, "x"));
        assertEquals(NONE, produce(12, "fresh", id.producerId, id.producerEpoch, 0, 0, "a"));
        assertEquals(NONE, produce(12, "fresh", id.producerId, id.producerEpoch, 1, 0, "b"));
    }

    @Test
    void endTxnV5ShouldAbortWithNothingAddedAndRefuseSuchACommit() throws Exception {
        InitProducerIdResponse id = init("empty");
        long producerId = id.producerId;
        assertEquals(INVALID_TXN_STATE, endTxn(5, "empty", producerId, (short) 0, true).errorCode);
        EndTxnResponse aborted = endTxn(5, "empty", producerId, (short) 0, false);
        assertEquals(NONE, aborted.errorCode);
        assertEquals(1, aborted.producerEpoch);
        assertEquals("CompleteAbort", describeWhenCompleted("empty").transactionState);
        EndTxnResponse retried = endTxn(5, "empty", producerId, (short) 0, false);
        assertEquals(NONE, retried.errorCode);
        assertEquals(1, retried.producerEpoch);
        assertEquals(INVALID_TXN_STATE, endTxn(5, "empty", producerId, (short) 0, true).errorCode,
                "a commit is no retry of an abort");
        assertEquals(INVALID_TXN_STATE, endTxn(5, "empty", producerId, (short) 1, true).errorCode);
        assertEquals(INVALID_PRODUCER_ID_MAPPING, endTxn(5, "empty", producerId + 1, (short) 1, false).errorCode);
    }

    /**
     * Kafka 4.4 (KAFKA-19367): the coordinator's abort of a timed-out transaction bumps the epoch once, the fence and
     * the version 2 abort being one bump; so the EndTxn the producer sent at its epoch reads as a retry: an abort is
     * answered NONE with the epoch to go on with, a commit INVALID_TXN_STATE, never PRODUCER_FENCED. Bumping twice
     * (as Tandem did) fenced the producer's in-flight commit instead.
     */
    @Test
    void aTimedOutTransactionShouldBeAbortedWithOneBumpAndTheProducersEndTxnAnsweredAsARetry() throws Exception {
        InitProducerIdResponse id = init("late", 1_000);
        long producerId = id.producerId;
        assertEquals(NONE, produce(12, "late", producerId, (short) 0, 0, 0, "a"));
        DescribeTransactionsResponse.TransactionState aborted = describeWhenCompleted("late");
        assertEquals("CompleteAbort", aborted.transactionState, "the coordinator aborted the timed-out transaction");
        assertEquals(1, aborted.producerEpoch, "the fence and the abort are one bump");
        assertEquals(1, producers(0).get(0).producerEpoch, "the abort marker carried it");

        assertEquals(INVALID_TXN_STATE, endTxn(5, "late", producerId, (short) 0, true).errorCode,
                "the commit under way when the transaction timed out");
        EndTxnResponse abort = endTxn(5, "late", producerId, (short) 0, false);
        assertEquals(NONE, abort.errorCode, "an abort at the epoch before the bump is its retry");
        assertEquals(producerId, abort.producerId);
        assertEquals(1, abort.producerEpoch);
        assertEquals(INVALID_PRODUCER_EPOCH, produce(12, "late", producerId, (short) 0, 1, 0, "zombie"));
        assertEquals(NONE, produce(12, "late", producerId, (short) 1, 0, 0, "b"), "the producer goes on at 1");
        assertEquals(NONE, endTxn(5, "late", producerId, (short) 1, true).errorCode);
    }

    /** InitProducerId over an open transaction: Kafka 4.4 aborts it with one bump, then bumps for the new producer. */
    @Test
    void initProducerIdOverAnOpenTransactionShouldBumpTheEpochTwiceInAll() throws Exception {
        InitProducerIdResponse first = init("restarted");
        assertEquals(NONE, produce(12, "restarted", first.producerId, (short) 0, 0, 0, "a"));
        InitProducerIdResponse second = init("restarted");
        assertEquals(NONE, second.errorCode);
        assertEquals(first.producerId, second.producerId);
        assertEquals(2, second.producerEpoch, "the abort's bump, then InitProducerId's");
        DescribeTransactionsResponse.TransactionState state = describe("restarted");
        assertEquals("Empty", state.transactionState);
        assertEquals(1, producers(0).get(0).producerEpoch, "the abort marker was written at the abort's epoch");
    }

    @Test
    void endTxnV4ShouldKeepTheEpochAsTransactionVersionZero() throws Exception {
        InitProducerIdResponse id = init("v0");
        long producerId = id.producerId;
        assertEquals(NONE, produce(12, "v0", producerId, (short) 0, 0, 0, "a"));
        EndTxnResponse committed = endTxn(4, "v0", producerId, (short) 0, true);
        assertEquals(NONE, committed.errorCode);
        assertEquals(-1, committed.producerId, "before v5 the answer names no producer");
        assertEquals(0, describeWhenCompleted("v0").producerEpoch);
    }

    @Test
    void txnOffsetCommitV5AndV6ShouldAddTheOffsetsPartitionWithoutAddOffsetsToTxn() throws Exception {
        InitProducerIdResponse id = init("offsets");
        long producerId = id.producerId;
        // The producer finds the group's coordinator before it commits offsets there (TxnOffsetCommitHandler in the
        // Java client): that lookup makes __consumer_offsets and waits until its partition is led and loaded.
        node.findCoordinator(0, "g");
        TxnOffsetCommitRequest request = new TxnOffsetCommitRequest();
        request.transactionalId = "offsets";
        request.groupId = "g";
        request.producerId = producerId;
        request.producerEpoch = 0;
        TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic topic = new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic();
        topic.name = TOPIC;
        TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition partition =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition();
        partition.partitionIndex = 0;
        partition.committedOffset = 42;
        topic.partitions.add(partition);
        request.topics.add(topic);
        TxnOffsetCommitResponse response = retrying(ApiKey.TXN_OFFSET_COMMIT, 5, request,
                (TxnOffsetCommitResponse r) -> r.topics.get(0).partitions.get(0).errorCode);
        assertEquals(NONE, response.topics.get(0).partitions.get(0).errorCode);
        DescribeTransactionsResponse.TransactionState open = describe("offsets");
        assertEquals("Ongoing", open.transactionState);
        assertEquals(TopicNames.CONSUMER_OFFSETS, open.topics.get(0).topic);

        // v6 names the topic by id: the same commit in the open transaction, and an unknown id.
        TxnOffsetCommitRequest byId = new TxnOffsetCommitRequest();
        byId.transactionalId = "offsets";
        byId.groupId = "g";
        byId.producerId = producerId;
        byId.producerEpoch = 0;
        TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic known = new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic();
        known.topicId = topicId();
        known.partitions.add(partition);
        TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic unknown =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic();
        unknown.topicId = java.util.UUID.randomUUID();
        unknown.partitions.add(partition);
        byId.topics.addAll(List.of(known, unknown));
        TxnOffsetCommitResponse v6 = call(ApiKey.TXN_OFFSET_COMMIT, 6, byId);
        assertEquals(known.topicId, v6.topics.get(0).topicId);
        assertEquals(NONE, v6.topics.get(0).partitions.get(0).errorCode);
        assertEquals(unknown.topicId, v6.topics.get(1).topicId);
        assertEquals(UNKNOWN_TOPIC_ID, v6.topics.get(1).partitions.get(0).errorCode);

        request.producerEpoch = 1;
        TxnOffsetCommitResponse fenced = call(ApiKey.TXN_OFFSET_COMMIT, 5, request);
        assertEquals(INVALID_PRODUCER_EPOCH, fenced.topics.get(0).partitions.get(0).errorCode,
                "an epoch the coordinator does not hold adds nothing");
        assertEquals(NONE, endTxn(5, "offsets", producerId, (short) 0, true).errorCode);
    }

    private short writeMarker(int version, long producerId, short epoch, int transactionVersion) throws Exception {
        WriteTxnMarkersRequest request = new WriteTxnMarkersRequest();
        WriteTxnMarkersRequest.WritableTxnMarker marker = new WriteTxnMarkersRequest.WritableTxnMarker();
        marker.producerId = producerId;
        marker.producerEpoch = epoch;
        marker.coordinatorEpoch = 5;
        marker.transactionResult = false;
        marker.transactionVersion = (byte) transactionVersion;
        WriteTxnMarkersRequest.WritableTxnMarkerTopic topic = new WriteTxnMarkersRequest.WritableTxnMarkerTopic();
        topic.name = TOPIC;
        topic.partitionIndexes.add(0);
        marker.topics.add(topic);
        request.markers.add(marker);
        WriteTxnMarkersResponse response = call(ApiKey.WRITE_TXN_MARKERS, version, request);
        return response.markers.get(0).topics.get(0).partitions.get(0).errorCode;
    }

    @Test
    void writeTxnMarkersV2ShouldRefuseAVersion2MarkerThatDoesNotBumpTheEpoch() throws Exception {
        InitProducerIdResponse id = init("markers");
        assertEquals(NONE, produce(12, "markers", id.producerId, (short) 0, 0, 0, "x"));
        assertEquals(INVALID_PRODUCER_EPOCH, writeMarker(2, id.producerId, (short) 0, 2),
                "a version 2 marker at the data's epoch is stale");
        assertEquals(NONE, writeMarker(2, id.producerId, (short) 1, 2));
        assertEquals(NONE, writeMarker(2, id.producerId, (short) 1, 0), "version 0 markers may keep the epoch");
    }
}
