package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AddOffsetsToTxnRequest;
import io.tandem.kafka.wire.message.AddOffsetsToTxnResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.kafka.wire.message.TxnOffsetCommitRequest;
import io.tandem.kafka.wire.message.TxnOffsetCommitResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.TopicNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * TxnOffsetCommit before v5 from a producer the transaction coordinator has not put in a transaction on the group's
 * offsets partition. Kafka's group coordinator asks the transaction coordinator first (KIP-890 part 1:
 * ReplicaManager.maybeStartTransactionVerificationForPartition through AddPartitionsToTxnManager, verifyOnly, with
 * {@code transaction.partition.verification.enable} on by default) and writes nothing when refused: with no
 * {@code __transaction_state} there is no coordinator (COORDINATOR_NOT_AVAILABLE, what Apache 3.9.1 answered producer
 * id 1 on a fresh broker side by side with Tandem); an unknown transactional id or producer id is
 * INVALID_PRODUCER_ID_MAPPING; another epoch PRODUCER_FENCED, answered INVALID_PRODUCER_EPOCH; a transaction without
 * the partition TRANSACTION_ABORTABLE, which producers before v4 get as INVALID_TXN_STATE (Kafka's defaultError
 * operation). After AddOffsetsToTxn the same commit is written.
 */
class TxnOffsetCommitVerificationTest {
    private static final String TOPIC = TxnProtocolNode.TOPIC;
    @TempDir
    Path dir;

    @Test
    void shouldAnswerCoordinatorNotAvailableAndWriteNothingWithoutTransactionStateTopic() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"));
             RawKafkaConnection connection = new RawKafkaConnection(tandem.kafkaPort())) {
            TxnProtocolNode node = TxnProtocolNode.of(tandem, connection);
            CreateTopicsRequest create = new CreateTopicsRequest();
            CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
            topic.name = TOPIC;
            topic.numPartitions = 1;
            topic.replicationFactor = 1;
            create.topics.add(topic);
            create.timeoutMs = 30_000;
            node.call(ApiKey.CREATE_TOPICS, 7, create);
            node.findCoordinator(0, "g");
            for (int version = 0; version <= 5; version++) {
                assertEquals(COORDINATOR_NOT_AVAILABLE, commit(node, version, "t", 1, (short) 0),
                        "TxnOffsetCommit v" + version + " with no transaction coordinator");
            }
            assertEquals(NONE, stableOffsetError(node), "no offset is pending for the unverified producer");
            MetadataRequest metadata = new MetadataRequest();
            metadata.topics = null;
            MetadataResponse listed = node.call(ApiKey.METADATA, 12, metadata);
            assertFalse(listed.topics.stream().anyMatch(t -> TopicNames.TRANSACTION_STATE.equals(t.name)),
                    "asking for a coordinator makes no __transaction_state");
        }
    }

    @Test
    void shouldAnswerTheTransactionCoordinatorsVerificationAsKafkaPerVersion() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir, "offsets.topic.num.partitions", "1")) {
            node.findCoordinator(0, "g");
            for (int version = 0; version <= 4; version++) {
                assertEquals(INVALID_PRODUCER_ID_MAPPING, commit(node, version, "t", 1, (short) 0),
                        "v" + version + ": a transactional id the coordinator does not know");
            }
            InitProducerIdResponse id = node.initProducerId("t", 3);
            assertEquals(NONE, id.errorCode);
            long producerId = id.producerId;
            short epoch = id.producerEpoch;

            assertEquals(INVALID_PRODUCER_ID_MAPPING, commit(node, 3, "t", producerId + 1, epoch),
                    "another producer id than the transactional id's");
            assertEquals(INVALID_PRODUCER_EPOCH, commit(node, 3, "t", producerId, (short) (epoch + 1)),
                    "PRODUCER_FENCED from the coordinator reaches the producer as INVALID_PRODUCER_EPOCH");
            for (int version = 0; version <= 3; version++) {
                assertEquals(INVALID_TXN_STATE, commit(node, version, "t", producerId, epoch),
                        "v" + version + ": the offsets partition is not in the transaction (no AddOffsetsToTxn)");
            }
            assertEquals(TRANSACTION_ABORTABLE, commit(node, 4, "t", producerId, epoch),
                    "v4 producers handle TRANSACTION_ABORTABLE");
            assertEquals(NONE, stableOffsetError(node), "nothing was written for the refused commits");

            AddOffsetsToTxnRequest add = new AddOffsetsToTxnRequest();
            add.transactionalId = "t";
            add.producerId = producerId;
            add.producerEpoch = epoch;
            add.groupId = "g";
            AddOffsetsToTxnResponse added = TxnProtocolNode.until(() -> call(node, ApiKey.ADD_OFFSETS_TO_TXN, 3, add),
                    (AddOffsetsToTxnResponse r) -> r.errorCode);
            assertEquals(NONE, added.errorCode);
            assertEquals(NONE, commit(node, 3, "t", producerId, epoch), "the partition is in the transaction now");
            assertEquals(NONE, commit(node, 2, "t", producerId, epoch), "and the transaction is open there");
            assertEquals(UNSTABLE_OFFSET_COMMIT, stableOffsetError(node), "the commit's offset is pending");
        }
    }

    @Test
    void withTheKeyOffACommitBeforeV5ShouldBeWrittenWithoutAskingAsKafkaDoes() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir, "offsets.topic.num.partitions", "1",
                "transaction.partition.verification.enable", "false")) {
            node.findCoordinator(0, "g");
            InitProducerIdRequest init = new InitProducerIdRequest();
            init.transactionalId = "t";
            init.transactionTimeoutMs = 60_000;
            init.producerId = -1;
            init.producerEpoch = -1;
            InitProducerIdResponse id = TxnProtocolNode.until(() -> call(node, ApiKey.INIT_PRODUCER_ID, 3, init),
                    (InitProducerIdResponse r) -> r.errorCode);
            assertEquals(NONE, id.errorCode);
            // No AddOffsetsToTxn: Kafka's group coordinator skips the verification with the key off (its
            // ReplicaManager answers at once without asking), and the offsets are written into the producer's batch.
            assertEquals(NONE, commit(node, 3, "t", id.producerId, id.producerEpoch));
            assertEquals(UNSTABLE_OFFSET_COMMIT, stableOffsetError(node), "the commit's offset is pending");
        }
    }

    private static <R extends ApiMessage> R call(TxnProtocolNode node, ApiKey key, int version, ApiMessage request) {
        try {
            return node.call(key, version, request);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static short commit(TxnProtocolNode node, int version, String transactionalId, long producerId,
                                short epoch) throws Exception {
        TxnOffsetCommitRequest request = new TxnOffsetCommitRequest();
        request.transactionalId = transactionalId;
        request.groupId = "g";
        request.producerId = producerId;
        request.producerEpoch = epoch;
        request.generationIdOrMemberEpoch = -1;
        request.memberId = "";
        TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic topic =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic();
        topic.name = TOPIC;
        TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition partition =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition();
        partition.partitionIndex = 0;
        partition.committedOffset = 7;
        topic.partitions.add(partition);
        request.topics.add(topic);
        TxnOffsetCommitResponse response = TxnProtocolNode.until(() -> call(node, ApiKey.TXN_OFFSET_COMMIT, version,
                request), (TxnOffsetCommitResponse r) -> r.topics.get(0).partitions.get(0).errorCode);
        return response.topics.get(0).partitions.get(0).errorCode;
    }

    /** OffsetFetch v7 with requireStable: UNSTABLE_OFFSET_COMMIT while a transaction holds the partition's offset. */
    private static short stableOffsetError(TxnProtocolNode node) throws Exception {
        OffsetFetchRequest fetch = new OffsetFetchRequest();
        fetch.groupId = "g";
        fetch.requireStable = true;
        OffsetFetchRequest.OffsetFetchRequestTopic topic = new OffsetFetchRequest.OffsetFetchRequestTopic();
        topic.name = TOPIC;
        topic.partitionIndexes = List.of(0);
        fetch.topics = List.of(topic);
        OffsetFetchResponse response = node.call(ApiKey.OFFSET_FETCH, 7, fetch);
        OffsetFetchResponse.OffsetFetchResponsePartition partition = response.topics.get(0).partitions.get(0);
        if (partition.errorCode == NONE) assertEquals(-1, partition.committedOffset, "nothing committed");
        return partition.errorCode;
    }
}
