package io.tandem.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.producer.VerificationGuard;
import io.tandem.server.kafka.txn.TxnClientCalls;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Kafka's VerificationGuard against the race it exists for (KIP-890 part 1): a partition leader asks the coordinator
 * whether a transaction version 0 producer's partition is in its transaction, the coordinator says yes, and before
 * the batch is appended the transaction is aborted (its ABORT marker lands on the partition). The late batch must
 * not open a transaction nothing would ever end: its guard no longer matches, and it is refused INVALID_TXN_STATE.
 * The same holds when a new transaction was started and verified meanwhile (the ABA case: a fresh guard, the stale
 * answer still refused), while the fresh verification's batch goes in. Driven step by step on a real broker: the real
 * coordinator answers the verification (through the same batches as a Produce) and writes the real marker; only the
 * moment of the append is the test's.
 */
class VerificationGuardRaceTest {
    private static final String TOPIC = "data";
    private static final String TRANSACTIONAL_ID = "t";
    @TempDir
    Path dir;

    @Test
    void aVerificationThatAnAbortOvertookShouldAppendNothing() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("transaction.state.log.num.partitions", "1");
        try (Tandem tandem = Tandem.start(config);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            TxnClientCalls.awaitCoordinator(c, (byte) 1, TRANSACTIONAL_ID);
            InitProducerIdResponse init = TxnClientCalls.initProducerId(c, TRANSACTIONAL_ID);
            long producerId = init.data().producerId();
            short epoch = init.data().producerEpoch();
            KafkaBroker broker = tandem.kafkaBroker();
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            Partition partition = broker.logs().get(tp);

            assertEquals(Errors.NONE, addPartition(c, producerId, epoch));
            VerificationGuard stale = partition.startTransactionVerification(producerId, epoch, 0, false,
                    System.currentTimeMillis());
            assertNotSame(VerificationGuard.SENTINEL, stale);
            assertEquals(NONE, TxnClientCalls.verify(broker, TRANSACTIONAL_ID, producerId, epoch, tp),
                    "the coordinator holds the partition");

            // The abort overtakes the append: its marker ends the verification.
            assertEquals(Errors.NONE, endTxn(c, producerId, epoch));
            TxnClientCalls.awaitVerificationsEnded(partition, "the ABORT marker reached the partition");
            long end = partition.logEndOffset();
            Partition.AppendResult late = append(broker, partition, producerId, epoch, stale);
            assertEquals(INVALID_TXN_STATE, late.error());
            // Kafka's UnifiedLog throws InvalidTxnStateException("Record was not part of an ongoing transaction")
            // inside the append, and ReplicaManager's LogAppendResult passes a message on only for a
            // RecordValidationException (hasCustomErrorMessage): the Produce answer carries none.
            assertNull(late.errorMessage());
            assertEquals(end, partition.logEndOffset(), "the late batch opened no transaction");
            assertFalse(partition.hasOngoingTransaction(producerId, epoch));

            // ABA: a new transaction holds the partition again and is verified again; the stale answer still fails.
            assertEquals(Errors.NONE, addPartition(c, producerId, epoch));
            VerificationGuard fresh = partition.startTransactionVerification(producerId, epoch, 0, false,
                    System.currentTimeMillis());
            assertNotSame(stale, fresh);
            assertEquals(NONE, TxnClientCalls.verify(broker, TRANSACTIONAL_ID, producerId, epoch, tp));
            assertEquals(INVALID_TXN_STATE, append(broker, partition, producerId, epoch, stale).error());
            assertEquals(INVALID_TXN_STATE, append(broker, partition, producerId, epoch, VerificationGuard.SENTINEL)
                    .error(), "no verification at all is refused too");
            Partition.AppendResult verified = append(broker, partition, producerId, epoch, fresh);
            assertEquals(NONE, verified.error());
            assertEquals(end, verified.baseOffset());
            assertTrue(partition.hasOngoingTransaction(producerId, epoch));
            assertEquals(0, partition.verificationsUnderWay(), "the first append ends the verification");
        }
    }

    private static Partition.AppendResult append(KafkaBroker broker, Partition partition, long producerId, short epoch,
                                                 VerificationGuard guard) throws Exception {
        ByteBuf batch = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            builder.producer(producerId, epoch, 0).transactional(true);
            builder.append(System.currentTimeMillis(), null, "late".getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        try {
            LogValidator validator = LogValidator.forClients(broker.topicConfigs().produceSettings(
                    broker.metadata().knownTopic(TOPIC).configs()), System.currentTimeMillis());
            return partition.append(batch, validator, 0, guard);
        } finally {
            batch.release();
        }
    }

    private static Errors addPartition(OfficialClientConnection c, long producerId, short epoch) throws Exception {
        AddPartitionsToTxnRequest request = AddPartitionsToTxnRequest.Builder.forClient(TRANSACTIONAL_ID, producerId,
                epoch, List.of(new org.apache.kafka.common.TopicPartition(TOPIC, 0))).build((short) 3);
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            AddPartitionsToTxnResponse response = c.call(request);
            Errors error = response.errors().get(AddPartitionsToTxnResponse.V3_AND_BELOW_TXN_ID)
                    .get(new org.apache.kafka.common.TopicPartition(TOPIC, 0));
            // The previous transaction may still be completing (its markers being written).
            if (error != Errors.CONCURRENT_TRANSACTIONS || System.currentTimeMillis() > deadline) return error;
            Thread.sleep(20);
        }
    }

    private static Errors endTxn(OfficialClientConnection c, long producerId, short epoch) throws Exception {
        EndTxnResponse response = c.call(new EndTxnRequest.Builder(new EndTxnRequestData()
                .setTransactionalId(TRANSACTIONAL_ID).setProducerId(producerId).setProducerEpoch(epoch)
                .setCommitted(false), false).build((short) 3));
        return response.error();
    }
}
