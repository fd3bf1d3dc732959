package io.tandem.server;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.producer.ProducerStateTable;
import io.tandem.server.kafka.producer.VerificationGuard;
import io.tandem.server.kafka.txn.TxnClientCalls;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The VerificationGuard race of {@link VerificationGuardRaceTest} on the offsets partition: a transaction version 0
 * producer's TxnOffsetCommit is verified with the transaction coordinator (the group's {@code __consumer_offsets}
 * partition is in the transaction: AddOffsetsToTxn), and before the group coordinator writes the offsets the
 * transaction is aborted (its ABORT marker lands on the offsets partition). As Kafka's storeOffsets with the guard,
 * the late write appends nothing and the commit is answered INVALID_TXN_STATE (storeOffsets keeps that append
 * error as it is), with no offset left pending in the group; the same for a stale guard after a new transaction was
 * verified (ABA), while the fresh guard's write goes in and its COMMIT makes the offset visible. Driven step by step
 * on a real broker: the real coordinators answer and write the marker; only the moment of the write is the test's.
 */
class TxnOffsetCommitVerificationGuardRaceTest {
    private static final String GROUP = "g";
    private static final String TRANSACTIONAL_ID = "t";
    private static final TopicPartition COMMITTED = new TopicPartition("data", 0);
    @TempDir
    Path dir;

    @Test
    void aCommitWhoseVerificationAnAbortOvertookShouldWriteNothing() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("transaction.state.log.num.partitions", "1").set("offsets.topic.num.partitions", "1");
        try (Tandem tandem = Tandem.start(config);
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            KafkaBroker broker = tandem.kafkaBroker();
            TxnClientCalls.awaitCoordinator(c, (byte) 1, TRANSACTIONAL_ID);
            TxnClientCalls.awaitCoordinator(c, (byte) 0, GROUP);
            awaitGroupCoordinator(broker);
            InitProducerIdResponse init = TxnClientCalls.initProducerId(c, TRANSACTIONAL_ID);
            long producerId = init.data().producerId();
            short epoch = init.data().producerEpoch();
            Partition offsets = broker.offsetsPartitionFor(GROUP);

            assertEquals(Errors.NONE, addOffsets(c, producerId, epoch));
            VerificationGuard stale = offsets.startTransactionVerification(producerId, epoch,
                    ProducerStateTable.NO_SEQUENCE, false, System.currentTimeMillis());
            assertNotSame(VerificationGuard.SENTINEL, stale);
            assertEquals(NONE, TxnClientCalls.verify(broker, TRANSACTIONAL_ID, producerId, epoch,
                    offsets.topicPartition()),
                    "the coordinator holds the offsets partition");

            // The abort overtakes the write: its marker ends the verification.
            assertEquals(Errors.NONE, endTxn(c, producerId, epoch, false));
            TxnClientCalls.awaitVerificationsEnded(offsets, "the ABORT marker reached the offsets partition");
            long end = offsets.logEndOffset();
            assertEquals(Map.of(COMMITTED, INVALID_TXN_STATE), commit(broker, producerId, epoch, 5, stale));
            assertEquals(end, offsets.logEndOffset(), "the late offsets opened no transaction");
            assertFalse(offsets.hasOngoingTransaction(producerId, epoch));
            assertFalse(broker.groups().hasPendingTransactionalOffset(GROUP, COMMITTED), "nothing left pending");

            // ABA: a new transaction holds the offsets partition and is verified again; the stale guard still fails.
            assertEquals(Errors.NONE, addOffsets(c, producerId, epoch));
            VerificationGuard fresh = offsets.startTransactionVerification(producerId, epoch,
                    ProducerStateTable.NO_SEQUENCE, false, System.currentTimeMillis());
            assertNotSame(stale, fresh);
            assertEquals(NONE, TxnClientCalls.verify(broker, TRANSACTIONAL_ID, producerId, epoch,
                    offsets.topicPartition()));
            assertEquals(Map.of(COMMITTED, INVALID_TXN_STATE), commit(broker, producerId, epoch, 6, stale));
            assertEquals(Map.of(COMMITTED, INVALID_TXN_STATE),
                    commit(broker, producerId, epoch, 6, VerificationGuard.SENTINEL), "no verification is refused too");
            assertEquals(end, offsets.logEndOffset());
            assertEquals(Map.of(COMMITTED, NONE), commit(broker, producerId, epoch, 7, fresh));
            assertEquals(end + 1, offsets.logEndOffset(), "the verified offsets are one batch");
            assertTrue(offsets.hasOngoingTransaction(producerId, epoch));
            assertEquals(0, offsets.verificationsUnderWay(), "the first write ends the verification");

            assertEquals(Errors.NONE, endTxn(c, producerId, epoch, true));
            long deadline = System.currentTimeMillis() + 30_000;
            while (broker.groups().hasPendingTransactionalOffset(GROUP, COMMITTED)
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(7, broker.groups().fetchOffsets(GROUP, List.of(COMMITTED)).get(COMMITTED).offset(),
                    "only the verified offset was committed");
        }
    }

    private static Map<TopicPartition, Short> commit(KafkaBroker broker, long producerId, short epoch, long offset,
                                                     VerificationGuard guard) {
        return broker.groups().commitTransactionalOffsets(GROUP, producerId, epoch, "", null, -1,
                Map.of(COMMITTED, new CommittedOffset(offset, -1, "", -1)), System.currentTimeMillis(), guard);
    }

    private static void awaitGroupCoordinator(KafkaBroker broker) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (broker.groups().coordinatorError(GROUP) != NONE && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(NONE, broker.groups().coordinatorError(GROUP), "the group's offsets partition is loaded");
    }

    private static Errors addOffsets(OfficialClientConnection c, long producerId, short epoch) throws Exception {
        AddOffsetsToTxnRequest request = new AddOffsetsToTxnRequest.Builder(new AddOffsetsToTxnRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setProducerId(producerId).setProducerEpoch(epoch)
                .setGroupId(GROUP)).build((short) 3);
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            AddOffsetsToTxnResponse response = c.call(request);
            Errors error = Errors.forCode(response.data().errorCode());
            // The previous transaction may still be completing (its markers being written).
            if (error != Errors.CONCURRENT_TRANSACTIONS || System.currentTimeMillis() > deadline) return error;
            Thread.sleep(20);
        }
    }

    private static Errors endTxn(OfficialClientConnection c, long producerId, short epoch, boolean commit)
            throws Exception {
        EndTxnResponse response = c.call(new EndTxnRequest.Builder(new EndTxnRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setProducerId(producerId).setProducerEpoch(epoch)
                .setCommitted(commit), false).build((short) 3));
        return response.error();
    }
}
