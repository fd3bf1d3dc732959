package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.differential.Differential.Warmup;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.*;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static io.tandem.compat.kafka.differential.Differential.step;

/**
 * The differential script of Produce's errors and of the transaction APIs: each Produce refusal Kafka's
 * ReplicaManager and KafkaApis make (their per-partition error_message is null except where the log's validator
 * refused records one by one, RecordValidationException), the idempotent producer's sequence and epoch errors, a
 * transactional produce refused by KIP-890's verification, and the codes of InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, TxnOffsetCommit, EndTxn, ListOffsets and a read_committed Fetch around a committed and an aborted
 * transaction. Its own topics (diff-p*), so it runs after any other script.
 */
final class TxnScripts {
    private static final String TOPIC = "diff-p";
    /** min.insync.replicas=2 on one broker (NOT_ENOUGH_REPLICAS), segments of 1 MiB (RECORD_LIST_TOO_LARGE). */
    private static final String NARROW = "diff-p-narrow";
    private static final String COMPACTED = "diff-p-compact";
    /** message.timestamp.before.max.ms of an hour: the script's fixed 2023 timestamps are refused. */
    private static final String RECENT = "diff-p-recent";
    private static final String TXN_ID = "diff-txn";
    private static final String TXN_GROUP = "diff-txn-g";
    private static final long TIMESTAMP = 1_700_000_000_000L;
    /** Above the default max.message.bytes (1048588) and segment.bytes of 1 MiB, below 3 MB. */
    private static final byte[] LARGE_VALUE = new byte[1_200_000];

    private TxnScripts() {
    }

    private static ProduceRequestData produce(String topic, int partition, short acks, MemoryRecords records) {
        return produce(topic, partition, acks, records, null);
    }

    private static ProduceRequestData produce(String topic, int partition, short acks, MemoryRecords records,
                                              String transactionalId) {
        ProduceRequestData data = new ProduceRequestData().setAcks(acks).setTimeoutMs(30_000)
                .setTransactionalId(transactionalId);
        data.topicData().add(new ProduceRequestData.TopicProduceData().setName(topic).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(partition).setRecords(records))));
        return data;
    }

    private static MemoryRecords one(String key, String value) {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(TIMESTAMP,
                key == null ? null : key.getBytes(), value.getBytes()));
    }

    private static MemoryRecords idempotent(Map<String, Object> v, String pidVar, int epoch, int sequence) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, (Long) v.get(pidVar), (short) epoch, sequence,
                new SimpleRecord(TIMESTAMP, "k".getBytes(), ("s" + sequence).getBytes()));
    }

    private static MemoryRecords transactional(Map<String, Object> v, int sequence) {
        return MemoryRecords.withTransactionalRecords(Compression.NONE, (Long) v.get("txnPid"),
                (Short) v.get("txnEpoch"), sequence,
                new SimpleRecord(TIMESTAMP, "k".getBytes(), ("t" + sequence).getBytes()));
    }

    /** A batch whose CRC no longer matches: its last byte (inside the record's value) flipped. */
    private static MemoryRecords corrupted() {
        ByteBuffer buffer = one("k", "corrupt me").buffer().duplicate();
        int last = buffer.limit() - 1;
        buffer.put(last, (byte) (buffer.get(last) ^ 0x5a));
        return MemoryRecords.readableRecords(buffer);
    }

    private static CreateTopicsRequestData.CreatableTopic topic(String name, Map<String, String> configs) {
        CreateTopicsRequestData.CreatableTopic topic = new CreateTopicsRequestData.CreatableTopic().setName(name)
                .setNumPartitions(1).setReplicationFactor((short) 1);
        configs.forEach((k, val) -> topic.configs().add(new CreateTopicsRequestData.CreatableTopicConfig().setName(k)
                .setValue(val)));
        return topic;
    }

    private static AddPartitionsToTxnRequestData addPartitions(Map<String, Object> v, String transactionalId,
                                                              int epochDelta) {
        AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection topics =
                new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
        topics.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(TOPIC).setPartitions(List.of(0)));
        return new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(transactionalId)
                .setV3AndBelowProducerId((Long) v.get("txnPid"))
                .setV3AndBelowProducerEpoch((short) ((Short) v.get("txnEpoch") + epochDelta))
                .setV3AndBelowTopics(topics);
    }

    private static EndTxnRequestData endTxn(Map<String, Object> v, boolean commit, int epochDelta) {
        return new EndTxnRequestData().setTransactionalId(TXN_ID).setProducerId((Long) v.get("txnPid"))
                .setProducerEpoch((short) ((Short) v.get("txnEpoch") + epochDelta)).setCommitted(commit);
    }

    private static Warmup transactionState(String state) {
        return new Warmup(TXN_ID + " in " + state, step("DescribeTransactions", ApiKeys.DESCRIBE_TRANSACTIONS, 0,
                v -> new DescribeTransactionsRequestData().setTransactionalIds(List.of(TXN_ID))),
                r -> state.equals(((DescribeTransactionsResponseData) r).transactionStates().get(0).transactionState()));
    }

    private static Differential.Step listOffsets(String name, byte isolation) {
        return step(name, ApiKeys.LIST_OFFSETS, 7, v -> new ListOffsetsRequestData().setReplicaId(-1)
                .setIsolationLevel(isolation).setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic()
                        .setName(TOPIC).setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition()
                                .setPartitionIndex(0).setTimestamp(-1))))));
    }

    private static Differential.Step fetch(String name, byte isolation) {
        return step(name, ApiKeys.FETCH, 12, v -> new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0)
                .setMinBytes(1).setMaxBytes(1 << 20).setIsolationLevel(isolation).setSessionEpoch(-1)
                .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(TOPIC).setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                .setPartitionMaxBytes(1 << 20))))));
    }

    static List<Object> steps() {
        List<Object> s = new ArrayList<>();
        s.add(step("CreateTopics v7 produce-error topics", ApiKeys.CREATE_TOPICS, 7, v -> {
            CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(30_000);
            // No time retention: the script's fixed 2023 timestamps are older than any retention, and once a batch
            // stamped now rolls the segment (Kafka rolls by batch timestamps), each broker's retention pass would
            // delete the first segment whenever its own timer fires, making log_start_offset a race between them.
            data.topics().add(topic(TOPIC, Map.of("retention.ms", "-1")));
            data.topics().add(topic(NARROW, Map.of("min.insync.replicas", "2", "segment.bytes", "1048576",
                    "max.message.bytes", "3000000")));
            data.topics().add(topic(COMPACTED, Map.of("cleanup.policy", "compact")));
            data.topics().add(topic(RECENT, Map.of("message.timestamp.before.max.ms", "3600000")));
            return data;
        }));
        for (String t : List.of(TOPIC, NARROW, COMPACTED, RECENT)) s.add(Scripts.leaders(t, 1));
        produceErrors(s);
        idempotentErrors(s);
        transactions(s);
        return s;
    }

    private static void produceErrors(List<Object> s) {
        Function<Map<String, Object>, MemoryRecords> large = v -> MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord(TIMESTAMP, "k".getBytes(), LARGE_VALUE));
        // Kafka's effectiveMinIsr: min.insync.replicas=2 on a topic of one replica asks for that one only.
        s.add(step("Produce v9 acks=all, min.insync.replicas above the replicas", ApiKeys.PRODUCE, 9,
                v -> produce(NARROW, 0, (short) -1, one("k", "v"))));
        s.add(step("Produce v9 batch above segment.bytes", ApiKeys.PRODUCE, 9,
                v -> produce(NARROW, 0, (short) 1, large.apply(v))));
        s.add(step("Produce v9 batch above max.message.bytes", ApiKeys.PRODUCE, 9,
                v -> produce(TOPIC, 0, (short) 1, large.apply(v))));
        s.add(step("Produce v9 acks=2", ApiKeys.PRODUCE, 9, v -> produce(TOPIC, 0, (short) 2, one("k", "v"))));
        s.add(step("Produce v9 corrupt batch", ApiKeys.PRODUCE, 9, v -> produce(TOPIC, 0, (short) 1, corrupted())));
        s.add(step("Produce v9 message format v1", ApiKeys.PRODUCE, 9, v -> produce(TOPIC, 0, (short) 1,
                MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V1, Compression.NONE,
                        new SimpleRecord(TIMESTAMP, "k".getBytes(), "v".getBytes())))));
        s.add(step("Produce v9 null key to a compacted topic", ApiKeys.PRODUCE, 9,
                v -> produce(COMPACTED, 0, (short) 1, one(null, "v"))));
        s.add(step("Produce v9 timestamp too old", ApiKeys.PRODUCE, 9,
                v -> produce(RECENT, 0, (short) 1, one("k", "v"))));
        s.add(step("Produce v9 unknown topic", ApiKeys.PRODUCE, 9,
                v -> produce("diff-p-missing", 0, (short) 1, one("k", "v"))));
        s.add(step("Produce v9 to an internal topic", ApiKeys.PRODUCE, 9,
                v -> produce("__consumer_offsets", 0, (short) 1, one("k", "v"))));
        s.add(step("Produce v11 acks=all, min.insync.replicas above the replicas", ApiKeys.PRODUCE, 11,
                v -> produce(NARROW, 0, (short) -1, one("k", "v"))));
        s.add(step("Produce v9 appended", ApiKeys.PRODUCE, 9, v -> produce(TOPIC, 0, (short) 1, one("k", "v"))));
    }

    private static void idempotentErrors(List<Object> s) {
        s.add(step("InitProducerId v4 idempotent for sequences", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000)
                        .setProducerId(-1).setProducerEpoch((short) -1),
                (vars, r) -> vars.put("seqPid", ((InitProducerIdResponseData) r).producerId())));
        // In order: {step, epoch, sequence}.
        Object[][] batches = {{"sequence 0", 0, 0}, {"sequence gap", 0, 5}, {"duplicate", 0, 0},
                {"epoch bumped", 1, 0}, {"older epoch", 0, 1}, {"new epoch not at 0", 2, 3}};
        for (Object[] b : batches) {
            s.add(step("Produce v9 idempotent " + b[0], ApiKeys.PRODUCE, 9,
                    v -> produce(TOPIC, 0, (short) 1, idempotent(v, "seqPid", (Integer) b[1], (Integer) b[2]))));
        }
    }

    private static void transactions(List<Object> s) {
        s.add(new Warmup("transaction coordinator", step("FindCoordinator", ApiKeys.FIND_COORDINATOR, 4,
                v -> new FindCoordinatorRequestData().setKeyType((byte) 1).setCoordinatorKeys(List.of(TXN_ID))),
                r -> ((FindCoordinatorResponseData) r).coordinators().get(0).errorCode() == 0));
        s.add(step("InitProducerId v4 timeout above transaction.max.timeout.ms", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(TXN_ID).setTransactionTimeoutMs(1_000_000_000)
                        .setProducerId(-1).setProducerEpoch((short) -1)));
        s.add(step("InitProducerId v4 transactional", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(TXN_ID).setTransactionTimeoutMs(60_000)
                        .setProducerId(-1).setProducerEpoch((short) -1), (vars, r) -> {
                    vars.put("txnPid", ((InitProducerIdResponseData) r).producerId());
                    vars.put("txnEpoch", ((InitProducerIdResponseData) r).producerEpoch());
                }));
        s.add(step("InitProducerId v4 wrong producer id", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(TXN_ID).setTransactionTimeoutMs(60_000)
                        .setProducerId((Long) v.get("txnPid") + 1000).setProducerEpoch((Short) v.get("txnEpoch"))));
        s.add(step("Produce v9 transactional before AddPartitionsToTxn", ApiKeys.PRODUCE, 9,
                v -> produce(TOPIC, 0, (short) 1, transactional(v, 0), TXN_ID)));
        s.add(step("AddPartitionsToTxn v3 unknown transactional id", ApiKeys.ADD_PARTITIONS_TO_TXN, 3,
                v -> addPartitions(v, "diff-txn-none", 0)));
        s.add(step("AddPartitionsToTxn v3 older epoch", ApiKeys.ADD_PARTITIONS_TO_TXN, 3,
                v -> addPartitions(v, TXN_ID, -1)));
        s.add(step("AddPartitionsToTxn v3 newer epoch", ApiKeys.ADD_PARTITIONS_TO_TXN, 3,
                v -> addPartitions(v, TXN_ID, 1)));
        s.add(step("EndTxn v3 with nothing added", ApiKeys.END_TXN, 3, v -> endTxn(v, true, 0)));
        s.add(step("AddPartitionsToTxn v3", ApiKeys.ADD_PARTITIONS_TO_TXN, 3, v -> addPartitions(v, TXN_ID, 0)));
        s.add(step("Produce v9 transactional", ApiKeys.PRODUCE, 9,
                v -> produce(TOPIC, 0, (short) 1, transactional(v, 0), TXN_ID)));
        s.add(step("Produce v9 transactional sequence gap", ApiKeys.PRODUCE, 9,
                v -> produce(TOPIC, 0, (short) 1, transactional(v, 4), TXN_ID)));
        s.add(listOffsets("ListOffsets v7 latest read_uncommitted, transaction open", (byte) 0));
        s.add(listOffsets("ListOffsets v7 latest read_committed, transaction open", (byte) 1));
        s.add(step("AddOffsetsToTxn v3", ApiKeys.ADD_OFFSETS_TO_TXN, 3, v -> new AddOffsetsToTxnRequestData()
                .setTransactionalId(TXN_ID).setProducerId((Long) v.get("txnPid"))
                .setProducerEpoch((Short) v.get("txnEpoch")).setGroupId(TXN_GROUP)));
        s.add(new Warmup("group coordinator of " + TXN_GROUP, step("FindCoordinator", ApiKeys.FIND_COORDINATOR, 4,
                v -> new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of(TXN_GROUP))),
                r -> ((FindCoordinatorResponseData) r).coordinators().get(0).errorCode() == 0));
        s.add(step("TxnOffsetCommit v3", ApiKeys.TXN_OFFSET_COMMIT, 3, v -> txnOffsetCommit(v, -1, "")));
        s.add(step("TxnOffsetCommit v3 unknown member of an empty group", ApiKeys.TXN_OFFSET_COMMIT, 3,
                v -> txnOffsetCommit(v, 3, "diff-nobody")));
        s.add(step("EndTxn v3 older epoch", ApiKeys.END_TXN, 3, v -> endTxn(v, true, -1)));
        s.add(step("EndTxn v3 commit", ApiKeys.END_TXN, 3, v -> endTxn(v, true, 0)));
        s.add(transactionState("CompleteCommit"));
        s.add(step("EndTxn v3 commit again", ApiKeys.END_TXN, 3, v -> endTxn(v, true, 0)));
        s.add(step("EndTxn v3 abort after commit", ApiKeys.END_TXN, 3, v -> endTxn(v, false, 0)));
        s.add(step("OffsetFetch v7 committed in a transaction", ApiKeys.OFFSET_FETCH, 7,
                v -> new OffsetFetchRequestData().setGroupId(TXN_GROUP).setRequireStable(true).setTopics(List.of(
                        new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(TOPIC)
                                .setPartitionIndexes(List.of(0))))));
        // A second transaction, aborted: a read_committed fetch gets its aborted-transaction list.
        s.add(step("AddPartitionsToTxn v3 second transaction", ApiKeys.ADD_PARTITIONS_TO_TXN, 3,
                v -> addPartitions(v, TXN_ID, 0)));
        s.add(step("Produce v9 transactional, to be aborted", ApiKeys.PRODUCE, 9,
                v -> produce(TOPIC, 0, (short) 1, transactional(v, 1), TXN_ID)));
        s.add(step("EndTxn v3 abort", ApiKeys.END_TXN, 3, v -> endTxn(v, false, 0)));
        s.add(transactionState("CompleteAbort"));
        s.add(listOffsets("ListOffsets v7 latest read_committed, transactions ended", (byte) 1));
        s.add(step("DescribeTransactions v0", ApiKeys.DESCRIBE_TRANSACTIONS, 0,
                v -> new DescribeTransactionsRequestData().setTransactionalIds(List.of(TXN_ID, "diff-txn-none"))));
        s.add(step("ListTransactions v0 ongoing", ApiKeys.LIST_TRANSACTIONS, 0,
                v -> new ListTransactionsRequestData().setStateFilters(List.of("Ongoing"))));
        s.add(step("DescribeProducers v0", ApiKeys.DESCRIBE_PRODUCERS, 0, v -> new DescribeProducersRequestData()
                .setTopics(new DescribeProducersRequestData.TopicRequestCollection(List.of(
                        new DescribeProducersRequestData.TopicRequest().setName(TOPIC)
                                .setPartitionIndexes(List.of(0, 7)))))));
        s.add(fetch("Fetch v12 read_committed with an aborted transaction", (byte) 1));
        s.add(fetch("Fetch v12 read_uncommitted with an aborted transaction", (byte) 0));
        s.add(step("Fetch v12 read_committed from the aborted transaction", ApiKeys.FETCH, 12,
                v -> new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20)
                        .setIsolationLevel((byte) 1).setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic()
                                .setTopic(TOPIC).setPartitions(List.of(new FetchRequestData.FetchPartition()
                                        .setPartition(0).setFetchOffset(5).setPartitionMaxBytes(1 << 20)))))));
        s.add(step("Fetch v12 unknown fetch session", ApiKeys.FETCH, 12, v -> new FetchRequestData().setReplicaId(-1)
                .setMaxWaitMs(0).setMinBytes(1).setMaxBytes(1 << 20).setSessionId(123_456).setSessionEpoch(1)
                .setTopics(List.of())));
        s.add(step("InitProducerId v4 fenced by a newer epoch", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(TXN_ID).setTransactionTimeoutMs(60_000)
                        .setProducerId((Long) v.get("txnPid")).setProducerEpoch((short) ((Short) v.get("txnEpoch") + 3))));
        s.add(step("InitProducerId v4 bump", ApiKeys.INIT_PRODUCER_ID, 4,
                v -> new InitProducerIdRequestData().setTransactionalId(TXN_ID).setTransactionTimeoutMs(60_000)
                        .setProducerId((Long) v.get("txnPid")).setProducerEpoch((Short) v.get("txnEpoch"))));
        s.add(step("Produce v9 transactional by the fenced epoch", ApiKeys.PRODUCE, 9,
                v -> produce(TOPIC, 0, (short) 1, transactional(v, 2), TXN_ID)));
    }

    private static ApiMessage txnOffsetCommit(Map<String, Object> v, int generation, String memberId) {
        return new TxnOffsetCommitRequestData().setTransactionalId(TXN_ID).setGroupId(TXN_GROUP)
                .setProducerId((Long) v.get("txnPid")).setProducerEpoch((Short) v.get("txnEpoch"))
                .setGenerationIdOrMemberEpoch(generation).setMemberId(memberId).setTopics(List.of(
                        new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(TOPIC).setPartitions(
                                List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                        .setPartitionIndex(0).setCommittedOffset(1)))));
    }
}
