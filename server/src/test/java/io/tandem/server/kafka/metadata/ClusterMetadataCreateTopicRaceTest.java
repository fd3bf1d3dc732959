package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic's leaders that reach the broker's cache while the topic is still being created stay there. The controller
 * (this broker's own, watching /brokers/topics) can elect them and send UpdateMetadata between the creating thread's
 * writes and its update of the cache; at load 20+ that happened, the cache lost the leaders, Metadata answered
 * LEADER_NOT_AVAILABLE for good and a producer's first record to the topic expired after 120 s
 * ({@code bench/run-embedded.sh 40 reset}).
 */
class ClusterMetadataCreateTopicRaceTest {
    @Test
    void shouldKeepTheLeadersTheControllerSentWhileTheTopicWasBeingCreated(@TempDir Path dir) throws Exception {
        LocalZnodeStore local = new LocalZnodeStore(dir);
        AtomicReference<ClusterMetadata> metadata = new AtomicReference<>();
        AtomicBoolean controllerActed = new AtomicBoolean();
        PartitionState leader = new PartitionState(0, 0, 1, List.of(0));
        // The store as the creating thread sees it: right after the topic's znodes are written, the controller runs
        // on its own thread (the creating one descheduled): it writes the partition's first state and applies it
        // to this broker's cache as UpdateMetadata does.
        ZnodeStore store = (ZnodeStore) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ZnodeStore.class}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(local, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("create") && local.getData(KafkaZkLayout.topicPath("t")) != null
                            && controllerActed.compareAndSet(false, true)) {
                        Thread controller = new Thread(() -> {
                            try {
                                local.setData(KafkaZkLayout.partitionStatePath("t", 0),
                                        KafkaZkLayout.encodePartitionState(leader));
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                            metadata.get().applyPartitionState("t", 0, leader);
                        }, "controller");
                        controller.start();
                        controller.join();
                    }
                    return result;
                });
        metadata.set(new ClusterMetadata(store,
                new BrokerRegistration(0, "127.0.0.1", 9092, "PLAINTEXT", null, System.currentTimeMillis())));

        ClusterMetadata.TopicInfo created = metadata.get().createTopic("t", 1, 1, new TreeMap<>(Map.of(0, List.of(0))),
                Map.of(), false);

        assertTrue(controllerActed.get(), "the controller ran between the writes and the cache update");
        PartitionState cached = metadata.get().topic("t").states().get(0);
        assertNotNull(cached, "the partition's leader is still known to this broker");
        assertEquals(0, cached.leader());
        assertEquals(created.id(), metadata.get().topic("t").id());
    }

    /**
     * Two brokers creating one topic at once (a transactional producer on each finds no __transaction_state): both
     * find it absent, one creates it, the other is told it exists. Its topic id stays the first one's: an overwrite
     * would empty the replicas made under the first id as a deleted topic's.
     */
    @Test
    void shouldNotLetASecondCreatorReplaceTheTopicIdOfATopicCreatedMeanwhile(@TempDir Path dir) throws Exception {
        LocalZnodeStore local = new LocalZnodeStore(dir);
        ClusterMetadata first = new ClusterMetadata(local,
                new BrokerRegistration(0, "127.0.0.1", 9092, "PLAINTEXT", null, System.currentTimeMillis()));
        AtomicReference<ClusterMetadata.TopicInfo> createdByFirst = new AtomicReference<>();
        // The second broker's store: the first broker creates the topic right after the second found it absent.
        ZnodeStore store = (ZnodeStore) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ZnodeStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("writeAll") && createdByFirst.get() == null) {
                        createdByFirst.set(first.createTopic("t", 1, 1, new TreeMap<>(Map.of(0, List.of(0))),
                                Map.of(), false));
                    }
                    try {
                        return method.invoke(local, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ClusterMetadata second = new ClusterMetadata(store,
                new BrokerRegistration(1, "127.0.0.1", 9093, "PLAINTEXT", null, System.currentTimeMillis()));

        io.tandem.server.kafka.ApiException refused = org.junit.jupiter.api.Assertions.assertThrows(
                io.tandem.server.kafka.ApiException.class, () -> second.createTopic("t", 1, 1,
                        new TreeMap<>(Map.of(0, List.of(1))), Map.of(), false));
        assertEquals(io.tandem.server.kafka.ErrorCodes.TOPIC_ALREADY_EXISTS, refused.error());
        assertNotNull(createdByFirst.get());
        assertEquals(createdByFirst.get().id(),
                KafkaZkLayout.decodeTopicAssignment(local.getData(KafkaZkLayout.topicPath("t"))).topicId());
    }
}
