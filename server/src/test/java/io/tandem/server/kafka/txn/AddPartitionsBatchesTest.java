package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The gathering of implicit adds per transaction coordinator, as Kafka's AddPartitionsToTxnManager: one request under
 * way per coordinator, the adds meanwhile in the next one, each answered from its transaction's part of the answer
 * with Kafka's mapping, a second add of a waiting transactional id replacing it by Kafka's epoch rules, and the
 * waiting adds bounded. The coordinator is scripted: each request's answer is given by the test.
 */
class AddPartitionsBatchesTest {
    private static final BrokerRegistration COORDINATOR = broker(2);
    private static final BrokerRegistration OTHER = broker(3);
    private static final TopicPartition TP = new TopicPartition("t", 0);

    /** The requests sent, each with the future the test completes as the coordinator's answer. */
    private final List<AddPartitionsToTxnRequest> requests = new ArrayList<>();
    private final List<BrokerRegistration> targets = new ArrayList<>();
    private final List<CompletableFuture<ApiMessage>> answers = new ArrayList<>();
    private final AddPartitionsBatches batches = new AddPartitionsBatches((target, request) -> {
        CompletableFuture<ApiMessage> answer = new CompletableFuture<>();
        requests.add(request);
        targets.add(target);
        answers.add(answer);
        return answer;
    });

    @Test
    void addsArrivingWhileARequestIsUnderWayShouldGoTogetherInTheNextOne() {
        AtomicReference<Map<TopicPartition, Short>> a = add(COORDINATOR, "a", 0);
        AtomicReference<Map<TopicPartition, Short>> b = add(COORDINATOR, "b", 0);
        AtomicReference<Map<TopicPartition, Short>> c = add(COORDINATOR, "c", 0);
        AtomicReference<Map<TopicPartition, Short>> other = add(OTHER, "d", 0);
        // One request per coordinator under way: a's to 2, d's to 3; b and c wait for 2.
        assertEquals(2, requests.size());
        assertEquals(List.of("a"), ids(requests.get(0)));
        assertEquals(3, targets.get(1).brokerId());

        answers.get(0).complete(answer(NONE, Map.of("a", NONE)));
        assertEquals(Map.of(TP, NONE), a.get());
        assertEquals(3, requests.size(), "b and c in one request once a's is answered");
        assertEquals(List.of("b", "c"), ids(requests.get(2)));
        assertNull(b.get());

        // Each from its own part: PRODUCER_FENCED is INVALID_PRODUCER_EPOCH for the producer.
        answers.get(2).complete(answer(NONE, Map.of("b", PRODUCER_FENCED, "c", NONE)));
        assertEquals(Map.of(TP, INVALID_PRODUCER_EPOCH), b.get());
        assertEquals(Map.of(TP, NONE), c.get());
        assertEquals(3, requests.size(), "nothing waits");
        assertNull(other.get());
        assertEquals(4, batches.remoteAdds());
        assertEquals(3, batches.requestsSent());
    }

    @Test
    void aSecondAddOfAWaitingTransactionalIdShouldReplaceItByItsEpoch() {
        add(COORDINATOR, "under-way", 0);
        AtomicReference<Map<TopicPartition, Short>> first = add(COORDINATOR, "x", 3);
        // Same epoch: a retry; the waiting one gets the retriable NETWORK_EXCEPTION.
        AtomicReference<Map<TopicPartition, Short>> retry = add(COORDINATOR, "x", 3);
        assertEquals(Map.of(TP, NETWORK_EXCEPTION), first.get());
        // Newer epoch: the waiting one is fenced.
        AtomicReference<Map<TopicPartition, Short>> newer = add(COORDINATOR, "x", 4);
        assertEquals(Map.of(TP, INVALID_PRODUCER_EPOCH), retry.get());
        // Older epoch than the waiting one: refused at once, the waiting one stays.
        AtomicReference<Map<TopicPartition, Short>> older = add(COORDINATOR, "x", 2);
        assertEquals(Map.of(TP, INVALID_PRODUCER_EPOCH), older.get());
        assertNull(newer.get());

        answers.get(0).complete(answer(NONE, Map.of("under-way", NONE)));
        assertEquals(2, requests.size());
        assertEquals(4, requests.get(1).transactions.get(0).producerEpoch);
        answers.get(1).complete(answer(NONE, Map.of("x", NONE)));
        assertEquals(Map.of(TP, NONE), newer.get());
    }

    @Test
    void failuresShouldBeAnsweredAsKafkaMapsThem() {
        AtomicReference<Map<TopicPartition, Short>> refused = add(COORDINATOR, "a", 0);
        AtomicReference<Map<TopicPartition, Short>> lost = add(COORDINATOR, "b", 0);
        AtomicReference<Map<TopicPartition, Short>> alsoLost = add(COORDINATOR, "c", 0);
        // The producer must not see CLUSTER_AUTHORIZATION_FAILED: the add did not complete.
        answers.get(0).complete(answer(CLUSTER_AUTHORIZATION_FAILED, Map.of()));
        assertEquals(Map.of(TP, INVALID_TXN_STATE), refused.get());
        // A lost connection: NETWORK_EXCEPTION for every add of the request.
        answers.get(1).completeExceptionally(new IOException("connection lost"));
        assertEquals(Map.of(TP, NETWORK_EXCEPTION), lost.get());
        assertEquals(Map.of(TP, NETWORK_EXCEPTION), alsoLost.get());

        // A transaction the answer leaves out is not taken as added.
        AtomicReference<Map<TopicPartition, Short>> left = add(COORDINATOR, "d", 0);
        answers.get(2).complete(answer(NONE, Map.of()));
        assertEquals(Map.of(TP, NETWORK_EXCEPTION), left.get());
    }

    @Test
    void waitingAddsShouldBeBoundedPerCoordinatorAndAnsweredOnClose() {
        add(COORDINATOR, "under-way", 0);
        List<AtomicReference<Map<TopicPartition, Short>>> waiting = new ArrayList<>();
        for (int i = 0; i < AddPartitionsBatches.QUEUED_MAX; i++) waiting.add(add(COORDINATOR, "w" + i, 0));
        AtomicReference<Map<TopicPartition, Short>> past = add(COORDINATOR, "past", 0);
        assertEquals(Map.of(TP, NETWORK_EXCEPTION), past.get());
        assertNull(waiting.get(0).get());
        batches.close();
        for (AtomicReference<Map<TopicPartition, Short>> w : waiting) assertEquals(Map.of(TP, NETWORK_EXCEPTION), w.get());
        assertEquals(1, requests.size());
    }

    private AtomicReference<Map<TopicPartition, Short>> add(BrokerRegistration target, String id, int epoch) {
        AtomicReference<Map<TopicPartition, Short>> result = new AtomicReference<>();
        batches.add(target.brokerId(), target, id, 1000, (short) epoch, false, Set.of(TP), result::set);
        return result;
    }

    private static List<String> ids(AddPartitionsToTxnRequest request) {
        return request.transactions.stream().map(t -> t.transactionalId).toList();
    }

    private static AddPartitionsToTxnResponse answer(short error, Map<String, Short> byTransaction) {
        AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
        response.errorCode = error;
        for (Map.Entry<String, Short> e : byTransaction.entrySet()) {
            response.resultsByTransaction.add(new AddPartitionsToTxnResponse.AddPartitionsToTxnResult()
                    .setTransactionalId(e.getKey()).setTopicResults(new ArrayList<>(List.of(
                            new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult().setName(TP.topic())
                                    .setResultsByPartition(new ArrayList<>(List.of(
                                            new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult()
                                                    .setPartitionIndex(TP.partition())
                                                    .setPartitionErrorCode(e.getValue()))))))));
        }
        return response;
    }

    private static BrokerRegistration broker(int id) {
        return new BrokerRegistration(id, "127.0.0.1", 9000 + id, "PLAINTEXT", null, 0,
                List.of(new ListenerEndpoint("PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9000 + id)));
    }
}
