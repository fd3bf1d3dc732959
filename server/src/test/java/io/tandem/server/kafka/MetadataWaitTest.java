package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.BrokerMetadata;
import io.tandem.server.TandemCluster;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.DeleteTopicsResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The window {@link MetadataWait} closes, made certain: a broker held back (paused) while the controller creates or
 * deletes a topic does not know of the change when CreateTopics or DeleteTopics answers, so a client asking it then
 * would be told the old state; the wait returns only once that broker has the controller's word.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetadataWaitTest {
    /** Long enough that a wait which ignored the held-back broker would have returned. */
    private static final long HELD_MS = 1_000;

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of());

    @Test
    void propagatedWaitsForTheBrokerTheNewTopicHasNotReachedYet() throws Exception {
        TandemCluster cluster = kafka.cluster();
        int controller = awaitController(cluster);
        int behind = controller % 3 + 1;
        CompletableFuture<Void> waited;
        cluster.pause("broker" + behind);
        try {
            // On the controller's broker only, so no replica has to reach the held-back broker.
            assertEquals(Errors.NONE.code(), create(cluster, controller, "held"));
            assertNull(BrokerMetadata.of(cluster.broker(behind)).topic("held"),
                    "broker " + behind + " knew the topic already: the window was not held open");
            waited = CompletableFuture.runAsync(() -> propagated(cluster, "held"));
            Thread.sleep(HELD_MS);
            assertFalse(waited.isDone(), "returned while broker " + behind + " did not know the topic");
        } finally {
            cluster.resume("broker" + behind);
        }
        waited.get(60, TimeUnit.SECONDS);
        assertNotNull(BrokerMetadata.of(cluster.broker(behind)).topic("held"));
    }

    @Test
    void deletedWaitsForTheBrokerThatStillKnowsTheTopic() throws Exception {
        TandemCluster cluster = kafka.cluster();
        int controller = awaitController(cluster);
        int behind = controller % 3 + 1;
        assertEquals(Errors.NONE.code(), create(cluster, controller, "doomed"));
        MetadataWait.propagated(cluster, "doomed", 1);
        CompletableFuture<Void> waited;
        cluster.pause("broker" + behind);
        try {
            assertEquals(Errors.NONE.code(), delete(cluster, controller, "doomed"));
            assertNotNull(BrokerMetadata.of(cluster.broker(behind)).topic("doomed"),
                    "broker " + behind + " forgot the topic already: the window was not held open");
            waited = CompletableFuture.runAsync(() -> deleted(cluster, "doomed"));
            Thread.sleep(HELD_MS);
            assertFalse(waited.isDone(), "returned while broker " + behind + " still knew the topic");
        } finally {
            cluster.resume("broker" + behind);
        }
        waited.get(60, TimeUnit.SECONDS);
        assertNull(BrokerMetadata.of(cluster.broker(behind)).topic("doomed"));
    }

    private static void propagated(TandemCluster cluster, String topic) {
        try {
            MetadataWait.propagated(cluster, topic, 1);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleted(TandemCluster cluster, String topic) {
        try {
            MetadataWait.deleted(cluster, topic);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** CreateTopics straight to the controller (an Admin client might ask the held-back broker first). */
    private static short create(TandemCluster cluster, int controller, String topic) throws Exception {
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(30_000);
        CreateTopicsRequestData.CreatableTopic created = new CreateTopicsRequestData.CreatableTopic().setName(topic)
                .setNumPartitions(-1).setReplicationFactor((short) -1);
        created.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(0)
                .setBrokerIds(List.of(controller)));
        data.topics().add(created);
        try (OfficialClientConnection connection = new OfficialClientConnection(cluster.broker(controller).kafkaPort())) {
            CreateTopicsResponse response = connection.call(new CreateTopicsRequest.Builder(data).build((short) 7));
            return response.data().topics().find(topic).errorCode();
        }
    }

    /** DeleteTopics straight to the controller; it answers once the controller's own broker forgot the topic. */
    private static short delete(TandemCluster cluster, int controller, String topic) throws Exception {
        DeleteTopicsRequestData data = new DeleteTopicsRequestData().setTimeoutMs(30_000);
        data.topics().add(new DeleteTopicsRequestData.DeleteTopicState().setName(topic));
        try (OfficialClientConnection connection = new OfficialClientConnection(cluster.broker(controller).kafkaPort())) {
            DeleteTopicsResponse response = connection.call(new DeleteTopicsRequest.Builder(data).build((short) 6));
            return response.data().responses().find(topic).errorCode();
        }
    }

    private static int awaitController(TandemCluster cluster) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (cluster.controllerId() < 0) {
            assertTrue(System.nanoTime() - deadline < 0, "no controller");
            Thread.sleep(20);
        }
        return cluster.controllerId();
    }
}
