package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.server.kafka.RawKafkaConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Kafka 4.x's broker-side retry of a transaction version 2 Produce (v12+) whose implicit AddPartitionsToTxn the
 * coordinator answered CONCURRENT_TRANSACTIONS (ReplicaManager.handleProduceAppend's
 * maybeRetryOnConcurrentTransactions): the add is asked again every {@code add.partitions.to.txn.retry.backoff.ms}
 * until {@code add.partitions.to.txn.retry.backoff.max.ms} has passed, so a produce right after a commit waits for
 * the commit to complete instead of bouncing back to the producer. The previous transaction is held in
 * PREPARE_COMMIT for real: its COMMIT marker cannot be written while the partition's min.insync.replicas (2) exceeds
 * its one replica, and the coordinator retries the marker until the topic's setting is lowered.
 */
class ProduceAddRetryTest {
    private static final String TOPIC = TxnProtocolNode.TOPIC;
    @TempDir
    Path dir;

    @Test
    void aConcurrentTransactionsAnswerShouldBeAskedAgainUntilTheBackoffMaxThenGivenToTheProducer() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir, "add.partitions.to.txn.retry.backoff.max.ms",
                "300")) {
            InitProducerIdResponse pid = commitStuckInPrepare(node);
            long started = System.nanoTime();
            ProduceResponse.PartitionProduceResponse answer = produce(node.connection, pid, (short) 1, 1);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertEquals(CONCURRENT_TRANSACTIONS, answer.errorCode, "transaction version 2 gets it as it is");
            // Without the retry the answer comes at once: the coordinator answers CONCURRENT_TRANSACTIONS in-process.
            assertTrue(tookMs >= 300, "asked again for add.partitions.to.txn.retry.backoff.max.ms: " + tookMs);
        }
    }

    @Test
    void aProduceRightAfterACommitShouldGoInOnceTheCommitCompletes() throws Exception {
        try (TxnProtocolNode node = TxnProtocolNode.start(dir, "add.partitions.to.txn.retry.backoff.max.ms",
                "10000");
             RawKafkaConnection other = new RawKafkaConnection(node.tandem.kafkaPort())) {
            InitProducerIdResponse pid = commitStuckInPrepare(node);
            CompletableFuture<ProduceResponse.PartitionProduceResponse> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return produce(node.connection, pid, (short) 1, 1);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200);
            assertFalse(answer.isDone(), "the produce waits while the commit cannot complete");
            // The COMMIT marker can be written now: the coordinator completes the commit, and the add goes through.
            assertEquals(NONE, setMinInsyncReplicas(TxnProtocolNode.of(node.tandem, other), "1"));
            ProduceResponse.PartitionProduceResponse produced = answer.get(30, TimeUnit.SECONDS);
            assertEquals(NONE, produced.errorCode, "the producer never saw CONCURRENT_TRANSACTIONS");
            assertEquals(0, produced.baseOffset);
        }
    }

    /** A transaction version 2 commit whose COMMIT marker cannot be written: the coordinator stays in PREPARE_COMMIT. */
    private static InitProducerIdResponse commitStuckInPrepare(TxnProtocolNode node) throws Exception {
        assertEquals(NONE, setMinInsyncReplicas(node, "2"));
        InitProducerIdResponse pid = node.initProducerId("t", 5);
        assertEquals(NONE, pid.errorCode);
        assertEquals(0, pid.producerEpoch);
        assertEquals(NONE, produce(node.connection, pid, (short) 0, 0).errorCode, "acks=1: min.insync.replicas "
                + "does not apply, and the produce adds partition 0");
        EndTxnRequest end = new EndTxnRequest();
        end.transactionalId = "t";
        end.producerId = pid.producerId;
        end.producerEpoch = 0;
        end.committed = true;
        assertEquals(NONE, TxnProtocolNode.until(() -> call(node, ApiKey.END_TXN, 5, end),
                (EndTxnResponse r) -> r.errorCode).errorCode);
        return pid;
    }

    private static <R extends io.tandem.kafka.wire.ApiMessage> R call(TxnProtocolNode node, ApiKey key, int version,
                                                                      io.tandem.kafka.wire.ApiMessage request) {
        try {
            return node.call(key, version, request);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** A transaction version 2 produce (v12, acks=1) of one record at sequence 0. */
    private static ProduceResponse.PartitionProduceResponse produce(RawKafkaConnection connection,
                                                                  InitProducerIdResponse pid, short epoch,
                                                                  int partition) throws Exception {
        ProduceRequest request = TxnProtocolNode.produceRequest("t", (short) 1, 30_000, partition,
                ProduceVerificationProtocolTest.transactionalBatch(pid.producerId, epoch, 0, "v"));
        ProduceResponse response = (ProduceResponse) connection.roundTrip(ApiKey.PRODUCE, (short) 12,
                ApiKey.PRODUCE.responseHeaderVersion((short) 12), request, ApiKey.PRODUCE::readResponse);
        return response.responses.get(0).partitionResponses.get(0);
    }

    private static short setMinInsyncReplicas(TxnProtocolNode node, String value) throws Exception {
        return node.setConfig(2, TOPIC, "min.insync.replicas", value);
    }
}
