package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.kafka.wire.message.DescribeTransactionsRequest;
import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.kafka.wire.message.InitProducerIdRequest;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * transactional.id.expiration.ms as Kafka's TransactionStateManager applies it (shouldExpire): a transactional id
 * whose state allows expiry (Empty, CompleteCommit, CompleteAbort) and that was last updated longer ago than the
 * expiration is removed (a tombstone in __transaction_state), so its next InitProducerId starts afresh with a new
 * producer id; an ongoing transaction never expires this way (its own transaction.timeout.ms aborts it instead).
 */
class TransactionalIdExpirationTest {
    private static final int EXPIRATION_MS = 1_000;
    /** Long enough that the timeout abort never touches the ongoing transaction during the test. */
    private static final int TRANSACTION_TIMEOUT_MS = 120_000;
    @TempDir
    Path dir;
    private TxnProtocolNode node;

    @BeforeEach
    void start() throws Exception {
        node = TxnProtocolNode.start(dir, "transactional.id.expiration.ms", Integer.toString(EXPIRATION_MS),
                "transaction.remove.expired.transaction.cleanup.interval.ms", "100");
    }

    @AfterEach
    void stop() throws Exception {
        node.close();
    }

    private <R extends ApiMessage> R call(ApiKey key, int version, ApiMessage request) throws Exception {
        return node.call(key, version, request);
    }

    private InitProducerIdResponse init(String transactionalId) throws Exception {
        InitProducerIdRequest request = new InitProducerIdRequest();
        request.transactionalId = transactionalId;
        request.transactionTimeoutMs = TRANSACTION_TIMEOUT_MS;
        request.producerId = -1;
        request.producerEpoch = -1;
        InitProducerIdResponse response = TxnProtocolNode.until(() -> {
            try {
                return this.<InitProducerIdResponse>call(ApiKey.INIT_PRODUCER_ID, 4, request);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, r -> r.errorCode);
        assertEquals(NONE, response.errorCode, "InitProducerId of " + transactionalId);
        return response;
    }

    private void addPartition(String transactionalId, InitProducerIdResponse producer) throws Exception {
        AddPartitionsToTxnRequest request = new AddPartitionsToTxnRequest();
        AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t = new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic();
        t.name = TxnProtocolNode.TOPIC;
        t.partitions.add(0);
        request.v3AndBelowTransactionalId = transactionalId;
        request.v3AndBelowProducerId = producer.producerId;
        request.v3AndBelowProducerEpoch = producer.producerEpoch;
        request.v3AndBelowTopics.add(t);
        AddPartitionsToTxnResponse response = call(ApiKey.ADD_PARTITIONS_TO_TXN, 3, request);
        assertEquals(List.of(NONE), response.resultsByTopicV3AndBelow.stream()
                .flatMap(r -> r.resultsByPartition.stream()).map(p -> p.partitionErrorCode).toList());
    }

    private void commit(String transactionalId, InitProducerIdResponse producer) throws Exception {
        EndTxnRequest request = new EndTxnRequest();
        request.transactionalId = transactionalId;
        request.producerId = producer.producerId;
        request.producerEpoch = producer.producerEpoch;
        request.committed = true;
        assertEquals(NONE, this.<EndTxnResponse>call(ApiKey.END_TXN, 3, request).errorCode);
    }

    /** The state DescribeTransactions reports, or null when the id is unknown (TRANSACTIONAL_ID_NOT_FOUND). */
    private String state(String transactionalId) throws Exception {
        DescribeTransactionsRequest describe = new DescribeTransactionsRequest();
        describe.transactionalIds.add(transactionalId);
        DescribeTransactionsResponse.TransactionState described = this.<DescribeTransactionsResponse>call(
                ApiKey.DESCRIBE_TRANSACTIONS, 0, describe).transactionStates.get(0);
        if (described.errorCode == TRANSACTIONAL_ID_NOT_FOUND) return null;
        assertEquals(NONE, described.errorCode);
        return described.transactionState;
    }

    @Test
    void shouldExpireIdleCompletedTransactionalIdsButNotAnOngoingOne() throws Exception {
        InitProducerIdResponse idle = init("idle");
        InitProducerIdResponse committed = init("committed");
        addPartition("committed", committed);
        commit("committed", committed);
        InitProducerIdResponse ongoing = init("ongoing");
        addPartition("ongoing", ongoing);
        assertEquals("Empty", state("idle"));
        assertEquals("Ongoing", state("ongoing"));

        long deadline = System.currentTimeMillis() + 20_000;
        while ((state("idle") != null || state("committed") != null) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertNull(state("idle"), "an idle Empty transactional id expires after transactional.id.expiration.ms");
        assertNull(state("committed"), "so does one whose last transaction committed");
        // Several expiration periods and cleanup passes later, the ongoing transaction is still there.
        Thread.sleep(3L * EXPIRATION_MS);
        assertEquals("Ongoing", state("ongoing"), "an ongoing transaction never expires by transactional id");

        InitProducerIdResponse again = init("idle");
        assertNotEquals(idle.producerId, again.producerId, "an expired transactional id starts with a new producer id");
        assertEquals(0, again.producerEpoch);
        assertEquals("Empty", state("idle"));
    }
}
