package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.DescribeTransactionsRequest;
import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.kafka.wire.message.EndTxnRequest;
import io.tandem.kafka.wire.message.EndTxnResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.MetadataWait;
import io.tandem.server.kafka.RawKafkaConnection;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A transaction version 2 EndTxn that comes while the previous transaction still completes (its markers not yet
 * written, so its Complete state is still pending) carries the epoch the previous commit handed out, which only that
 * pending state makes current. Kafka 4.4 answers it CONCURRENT_TRANSACTIONS, the change in flight being checked before
 * the epoch (KAFKA-18464), and the producer retries; checking the epoch first fenced it. The markers are held by
 * pausing the broker that leads the transaction's partition, another than the coordinator.
 */
class EndTxnWhileCompletingTest {
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(2, Map.of("transaction.state.log.num.partitions", "1",
            "transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1"));

    @Test
    void anEndTxnAtTheNewEpochWhileTheCommitCompletesShouldBeToldToRetryNotFenced() throws Exception {
        int first = 1;
        try (RawKafkaConnection toFirst = new RawKafkaConnection(kafka.cluster().broker(first).kafkaPort())) {
            TxnProtocolNode.of(kafka.cluster().broker(first), toFirst).findCoordinator(1, "t");
        }
        int coordinator = kafka.admin().describeTopics(List.of("__transaction_state")).allTopicNames()
                .get(30, TimeUnit.SECONDS).get("__transaction_state").partitions().get(0).leader().id();
        int leader = coordinator % 2 + 1;
        kafka.admin().createTopics(List.of(new NewTopic(TxnProtocolNode.TOPIC, Map.of(0, List.of(leader)))))
                .all().get(30, TimeUnit.SECONDS);
        MetadataWait.propagated(kafka.cluster(), TxnProtocolNode.TOPIC, 1);
        try (RawKafkaConnection toCoordinator = new RawKafkaConnection(kafka.cluster().broker(coordinator).kafkaPort());
             RawKafkaConnection toLeader = new RawKafkaConnection(kafka.cluster().broker(leader).kafkaPort())) {
            TxnProtocolNode node = TxnProtocolNode.of(kafka.cluster().broker(coordinator), toCoordinator);
            InitProducerIdResponse id = node.initProducerId("t", 5);
            assertEquals(NONE, id.errorCode);
            long producerId = id.producerId;
            assertEquals(NONE, produce(TxnProtocolNode.of(kafka.cluster().broker(leader), toLeader), producerId));

            kafka.cluster().pause("broker" + leader);
            try {
                EndTxnResponse committed = endTxn(node, producerId, (short) 0, true);
                assertEquals(NONE, committed.errorCode, "answered once PrepareCommit is written");
                assertEquals(1, committed.producerEpoch);
                assertEquals("PrepareCommit", describe(node).transactionState, "the markers wait for the leader");
                assertEquals(CONCURRENT_TRANSACTIONS, endTxn(node, producerId, (short) 1, false).errorCode,
                        "the next EndTxn at the epoch the commit handed out waits for the commit to complete");
            } finally {
                kafka.cluster().resume("broker" + leader);
            }
            EndTxnResponse aborted = TxnProtocolNode.until(() -> {
                try {
                    return endTxn(node, producerId, (short) 1, false);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, r -> r.errorCode);
            assertEquals(NONE, aborted.errorCode, "an empty abort once the commit is complete");
            assertEquals(2, aborted.producerEpoch);
        }
    }

    private static short produce(TxnProtocolNode leader, long producerId) throws Exception {
        ProduceRequest request = TxnProtocolNode.produceRequest("t", (short) -1, 10_000, 0, null);
        ProduceResponse response = TxnProtocolNode.until(() -> {
            // Each attempt sends a fresh copy: the codec consumes the records it writes.
            request.topicData.get(0).partitionData.get(0).records = batch(producerId);
            try {
                return leader.<ProduceResponse>call(ApiKey.PRODUCE, 12, request);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, r -> r.responses.get(0).partitionResponses.get(0).errorCode);
        return response.responses.get(0).partitionResponses.get(0).errorCode;
    }

    private static ByteBuf batch(long producerId) {
        ByteBuf buf = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
            builder.producer(producerId, (short) 0, 0).transactional(true);
            builder.append(System.currentTimeMillis(), null, "a".getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        return buf;
    }

    private static EndTxnResponse endTxn(TxnProtocolNode node, long producerId, short epoch, boolean commit)
            throws Exception {
        EndTxnRequest request = new EndTxnRequest();
        request.transactionalId = "t";
        request.producerId = producerId;
        request.producerEpoch = epoch;
        request.committed = commit;
        return node.call(ApiKey.END_TXN, 5, request);
    }

    private static DescribeTransactionsResponse.TransactionState describe(TxnProtocolNode node) throws Exception {
        DescribeTransactionsRequest request = new DescribeTransactionsRequest();
        request.transactionalIds.add("t");
        return node.<DescribeTransactionsResponse>call(ApiKey.DESCRIBE_TRANSACTIONS, 0, request)
                .transactionStates.get(0);
    }
}
