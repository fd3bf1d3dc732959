package io.tandem.server.kafka.txn;

import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordinator look-ups that transaction tests with the official client's request classes make before a
 * scenario, beside {@link TxnProtocolNode} (which does the same over our own codec): each asked again, as a client
 * asks, until the coordinator is there (up to 30 s).
 */
public final class TxnClientCalls {
    private static final long WAIT_MS = 30_000;

    private TxnClientCalls() {
    }

    /**
     * Finds the coordinator of {@code key} (key type 0 a group, 1 a transactional id) and returns its broker id; the
     * first look-up creates the internal topic, and the answer is COORDINATOR_NOT_AVAILABLE until it has a leader.
     */
    public static int awaitCoordinator(OfficialClientConnection c, byte keyType, String key) throws Exception {
        FindCoordinatorRequest request = new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                .setKeyType(keyType).setCoordinatorKeys(List.of(key))).build((short) 4);
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            FindCoordinatorResponse response = c.call(request);
            var coordinator = response.data().coordinators().get(0);
            if (coordinator.errorCode() == Errors.NONE.code()) return coordinator.nodeId();
            assertTrue(System.currentTimeMillis() < deadline, "no coordinator for " + key + " in time: " + coordinator);
            Thread.sleep(20);
        }
    }

    /**
     * InitProducerId v3 for {@code transactionalId} (timeout 60 s), asked again while the coordinator loads its state
     * partition, or while the broker asked does not lead it yet (NOT_COORDINATOR: its metadata may name the new leader
     * before that broker took the LeaderAndIsr that makes it lead, and a Kafka client then finds it again).
     */
    public static InitProducerIdResponse initProducerId(OfficialClientConnection c, String transactionalId)
            throws Exception {
        InitProducerIdRequest request = new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                .setTransactionalId(transactionalId).setTransactionTimeoutMs(60_000).setProducerId(-1)
                .setProducerEpoch((short) -1)).build((short) 3);
        long deadline = System.currentTimeMillis() + WAIT_MS;
        InitProducerIdResponse response = c.call(request);
        while ((response.data().errorCode() == Errors.COORDINATOR_LOAD_IN_PROGRESS.code()
                || response.data().errorCode() == Errors.NOT_COORDINATOR.code())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            response = c.call(request);
        }
        assertEquals(Errors.NONE.code(), response.data().errorCode());
        return response;
    }
    /** The coordinator's answer when the broker verifies {@code tp} for the producer (as Produce, TxnOffsetCommit). */
    /** The coordinator's answer when the broker verifies {@code tp} for the producer, as a Produce or TxnOffsetCommit. */
    public static short verify(KafkaBroker broker, String transactionalId, long producerId, short epoch,
                               TopicPartition tp) throws Exception {
        CompletableFuture<Map<TopicPartition, Short>> answer = new CompletableFuture<>();
        broker.transactions().partitionAdder().verify(transactionalId, producerId, epoch, Set.of(tp),
                answer::complete);
        return answer.get(30, TimeUnit.SECONDS).get(tp);
    }

    /** Waits until no verification is under way on the partition: the transaction's marker reached it. */
    public static void awaitVerificationsEnded(Partition partition, String message) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (partition.verificationsUnderWay() > 0 && System.currentTimeMillis() < deadline) Thread.sleep(10);
        assertEquals(0, partition.verificationsUnderWay(), message);
    }
}
