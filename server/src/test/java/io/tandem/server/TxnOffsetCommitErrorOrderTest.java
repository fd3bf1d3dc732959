package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.TxnOffsetCommitRequest;
import io.tandem.kafka.wire.message.TxnOffsetCommitResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TxnOffsetCommit with both of its checks failing: the group's offsets partition still loading, and a transactional
 * id the transaction coordinator does not know. Kafka 3.9's GroupCoordinator.handleTxnCommitOffsets checks its own
 * status first (validateGroupStatus: COORDINATOR_LOAD_IN_PROGRESS) and asks the transaction coordinator only then;
 * Kafka 4.x's GroupCoordinatorService hands the commit to its runtime, whose scheduleTransactionalWriteOperation
 * verifies (v5+: adds) first and meets the loading shard only in the write after it, so the coordinator's refusal
 * (INVALID_PRODUCER_ID_MAPPING) answers. Tandem answers the versions Kafka 3.9 clients send (up to v4) as 3.9 and the
 * ones only Kafka 4.x clients send (v5+, here v5; v6 only names the topic by id) as 4.x. The load is the group coordinator's own state, set by the test.
 */
class TxnOffsetCommitErrorOrderTest {
    @TempDir
    Path dir;

    @Test
    void aLoadingGroupShouldAnswerFirstUpToV4AndTheTransactionCoordinatorFirstFromV5() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1").set("transaction.state.log.num.partitions", "1");
        try (Tandem tandem = Tandem.start(config);
             RawKafkaConnection connection = new RawKafkaConnection(tandem.kafkaPort())) {
            CreateTopicsRequest create = new CreateTopicsRequest();
            CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
            topic.name = "data";
            topic.numPartitions = 1;
            topic.replicationFactor = 1;
            create.topics.add(topic);
            create.timeoutMs = 30_000;
            call(connection, ApiKey.CREATE_TOPICS, 7, create);
            findCoordinator(connection, 0, "g");
            // The transaction coordinator exists (its state topic is led here), so an unknown id is its refusal.
            findCoordinator(connection, 1, "t");
            KafkaBroker broker = tandem.kafkaBroker();
            assertEquals(INVALID_PRODUCER_ID_MAPPING, commit(connection, 3), "not loading: the coordinator's refusal");
            assertEquals(INVALID_PRODUCER_ID_MAPPING, commit(connection, 5));
            broker.groups().partitionLoading(0);
            try {
                // v0-1 get it as COORDINATOR_NOT_AVAILABLE: producers before 2.0 crash on the other (KAFKA-7296).
                for (int version = 0; version <= 4; version++) {
                    assertEquals(version < 2 ? COORDINATOR_NOT_AVAILABLE : COORDINATOR_LOAD_IN_PROGRESS,
                            commit(connection, version), "v" + version);
                }
                assertEquals(INVALID_PRODUCER_ID_MAPPING, commit(connection, 5), "v5: the add is refused first");
            } finally {
                broker.groups().partitionLoaded(0);
            }
        }
    }

    /** TxnOffsetCommit of one offset for transactional id "nobody", which no InitProducerId made. */
    private static short commit(RawKafkaConnection connection, int version) throws Exception {
        TxnOffsetCommitRequest request = new TxnOffsetCommitRequest();
        request.transactionalId = "nobody";
        request.groupId = "g";
        request.producerId = 1;
        request.producerEpoch = 0;
        request.generationIdOrMemberEpoch = -1;
        request.memberId = "";
        TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t = new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic();
        t.name = "data";
        TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p =
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition();
        p.partitionIndex = 0;
        p.committedOffset = 7;
        t.partitions.add(p);
        request.topics.add(t);
        TxnOffsetCommitResponse response = call(connection, ApiKey.TXN_OFFSET_COMMIT, version, request);
        return response.topics.get(0).partitions.get(0).errorCode;
    }

    private static void findCoordinator(RawKafkaConnection connection, int keyType, String key) throws Exception {
        FindCoordinatorRequest find = new FindCoordinatorRequest();
        find.keyType = (byte) keyType;
        find.coordinatorKeys.add(key);
        long deadline = System.currentTimeMillis() + 30_000;
        while (TxnOffsetCommitErrorOrderTest.<FindCoordinatorResponse>call(connection, ApiKey.FIND_COORDINATOR, 4,
                find).coordinators.get(0).errorCode != NONE) {
            assertTrue(System.currentTimeMillis() < deadline, "no coordinator for " + key + " in time");
            Thread.sleep(20);
        }
    }

    @SuppressWarnings("unchecked")
    static <R extends ApiMessage> R call(RawKafkaConnection connection, ApiKey key, int version, ApiMessage request)
            throws Exception {
        short v = (short) version;
        return (R) connection.roundTrip(key, v, key.responseHeaderVersion(v), request, key::readResponse);
    }
}
