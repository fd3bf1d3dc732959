package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.txn.TxnClientCalls;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TxnOffsetCommit v3 at a group coordinator whose transaction coordinator is another broker: the verification
 * (AddPartitionsToTxn with verifyOnly, as Kafka's AddPartitionsToTxnManager sends it) goes over the wire, and its
 * answer is mapped as for a local coordinator: INVALID_TXN_STATE while the offsets partition is not in the
 * transaction, NONE after AddOffsetsToTxn.
 */
class TxnOffsetCommitRemoteVerificationTest {
    private static final String GROUP = "g";
    private static final String TOPIC = "data";
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1", "transaction.state.log.num.partitions", "3",
            "transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1"));

    @Test
    void shouldVerifyWithTheTransactionCoordinatorOnAnotherBroker() throws Exception {
        kafka.admin().createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        int groupCoordinator;
        String transactionalId = null;
        int transactionCoordinator = -1;
        try (OfficialClientConnection any = new OfficialClientConnection(kafka.cluster().broker(1).kafkaPort())) {
            groupCoordinator = GroupCoordinators.await(any, GROUP);
            for (int i = 0; i < 50 && transactionalId == null; i++) {
                int node = TxnClientCalls.awaitCoordinator(any, (byte) 1, "t" + i);
                if (node != groupCoordinator) {
                    transactionalId = "t" + i;
                    transactionCoordinator = node;
                }
            }
        }
        assertTrue(transactionalId != null, "some transactional id is coordinated away from the group");
        assertNotEquals(groupCoordinator, transactionCoordinator);
        long producerId;
        short epoch;
        try (OfficialClientConnection c = new OfficialClientConnection(
                kafka.cluster().broker(transactionCoordinator).kafkaPort())) {
            InitProducerIdResponse init = TxnClientCalls.initProducerId(c, transactionalId);
            producerId = init.data().producerId();
            epoch = init.data().producerEpoch();
        }
        try (OfficialClientConnection c = new OfficialClientConnection(
                kafka.cluster().broker(groupCoordinator).kafkaPort())) {
            assertEquals(Errors.INVALID_TXN_STATE.code(), commit(c, transactionalId, producerId, epoch),
                    "the offsets partition is not in the transaction");
            assertEquals(Errors.INVALID_PRODUCER_ID_MAPPING.code(), commit(c, transactionalId, producerId + 1, epoch));
        }
        try (OfficialClientConnection c = new OfficialClientConnection(
                kafka.cluster().broker(transactionCoordinator).kafkaPort())) {
            AddOffsetsToTxnResponse added = c.call(new AddOffsetsToTxnRequest.Builder(new AddOffsetsToTxnRequestData()
                    .setTransactionalId(transactionalId).setProducerId(producerId).setProducerEpoch(epoch)
                    .setGroupId(GROUP)).build((short) 3));
            assertEquals(Errors.NONE.code(), added.data().errorCode());
        }
        try (OfficialClientConnection c = new OfficialClientConnection(
                kafka.cluster().broker(groupCoordinator).kafkaPort())) {
            assertEquals(Errors.NONE.code(), commit(c, transactionalId, producerId, epoch));
        }
    }

    /** One TxnOffsetCommit v3, asked again while the offsets partition still loads. */
    private static short commit(OfficialClientConnection c, String transactionalId, long producerId, short epoch)
            throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            short error = commitOnce(c, transactionalId, producerId, epoch);
            if (error != Errors.COORDINATOR_LOAD_IN_PROGRESS.code() || System.currentTimeMillis() > deadline) {
                return error;
            }
            Thread.sleep(20);
        }
    }

    private static short commitOnce(OfficialClientConnection c, String transactionalId, long producerId, short epoch)
            throws Exception {
        TxnOffsetCommitResponse response = c.call(TxnOffsetCommitRequest.Builder.forTopicNames(
                new TxnOffsetCommitRequestData().setTransactionalId(transactionalId).setGroupId(GROUP)
                        .setProducerId(producerId).setProducerEpoch(epoch).setGenerationIdOrMemberEpoch(-1)
                        .setMemberId("").setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic()
                                .setName(TOPIC).setPartitions(List.of(
                                        new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                                .setPartitionIndex(0).setCommittedOffset(3))))), false)
                .build((short) 3));
        return response.data().topics().get(0).partitions().get(0).errorCode();
    }
}
