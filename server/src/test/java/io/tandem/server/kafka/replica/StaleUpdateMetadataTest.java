package io.tandem.server.kafka.replica;

import static io.tandem.server.kafka.UpdateMetadataRequests.liveBroker;
import static io.tandem.server.kafka.UpdateMetadataRequests.partition;
import static io.tandem.server.kafka.UpdateMetadataRequests.topic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.UpdateMetadataRequests;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ForwardingZnodeStore;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.TopicId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An UpdateMetadata of an older controller that arrives just before a newer controller's one cannot overwrite it:
 * Kafka 3.9 checks the controller epoch and applies the request to its cache under one lock
 * (replicaStateChangeLock, in ReplicaManager.maybeUpdateMetadataCache), so the older request either applies first or
 * is refused as stale. Here the older request (epoch 1) is held inside its first read of the store, a topic it names
 * that the broker does not know yet, while the newer one (epoch 2) is applied whole. Checked outside the lock, the
 * older request had already passed the epoch check and, released, put its leader back over the newer one's.
 */
class StaleUpdateMetadataTest {
    private static final String TOPIC = "moved";
    @TempDir
    Path dir;

    @Test
    void anOlderControllersRequestHeldBeforeItAppliesNeverOverwritesANewerOnes() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        try (LocalZnodeStore local = new LocalZnodeStore(dir)) {
            ForwardingZnodeStore store = new ForwardingZnodeStore(local) {
                @Override
                public byte[] getData(String path) throws Exception {
                    holdFirstRead(List.of(path));
                    return inner.getData(path);
                }

                // The broker reads a controller request's new topics together (one pipelined batch).
                @Override
                public java.util.Map<String, Versioned> getVersionedAll(List<String> paths) throws Exception {
                    holdFirstRead(paths);
                    return inner.getVersionedAll(paths);
                }

                private void holdFirstRead(List<String> paths) throws InterruptedException {
                    if (paths.contains(KafkaZkLayout.topicPath(TOPIC)) && first.compareAndSet(true, false)) {
                        held.countDown();
                        if (!release.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
                    }
                }
            };
            ClusterMetadata metadata = new ClusterMetadata(store,
                    new KafkaZkLayout.BrokerRegistration(0, "localhost", 9092, "PLAINTEXT", null, 0));
            TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
            assignment.put(0, List.of(0, 1));
            local.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                    new TopicAssignment(TopicId.random(), assignment)), false);
            ReplicaManager replicas = new ReplicaManager(0, metadata, (topic, partition) -> null, tp -> { },
                    10_000, 1 << 20);
            List<Boolean> listenerHeldLock = new ArrayList<>();
            metadata.onPartitionStateApplied(topic -> {
                synchronized (listenerHeldLock) {
                    listenerHeldLock.add(Thread.holdsLock(replicas));
                }
            });
            try {
                CompletableFuture<Short> older = CompletableFuture.supplyAsync(
                        () -> replicas.updateMetadata(request(1, 0, 5)));
                assertTrue(held.await(30, TimeUnit.SECONDS), "the older request read the store");
                assertEquals(ErrorCodes.NONE, replicas.updateMetadata(request(2, 1, 6)));
                release.countDown();
                short olderAnswer = older.get(30, TimeUnit.SECONDS);

                PartitionState state = metadata.knownTopic(TOPIC).states().get(0);
                assertEquals(1, state.leader(), "the newer controller's leader stays");
                assertEquals(6, state.leaderEpoch());
                assertEquals(2, replicas.controllerEpoch());
                assertEquals(ErrorCodes.STALE_CONTROLLER_EPOCH, olderAnswer, "as Kafka's ControllerMovedException");
                synchronized (listenerHeldLock) {
                    assertFalse(listenerHeldLock.isEmpty(), "the listener heard of the newer request");
                    assertFalse(listenerHeldLock.contains(true), "the cache's listeners run outside the lock");
                }
            } finally {
                release.countDown();
                replicas.close();
            }
        }
    }

    private static UpdateMetadataRequest request(int controllerEpoch, int leader, int leaderEpoch) {
        UpdateMetadataRequest request = UpdateMetadataRequests.request(controllerEpoch, controllerEpoch);
        for (int id = 0; id < 2; id++) liveBroker(request, id, "localhost", 9092 + id);
        partition(topic(request, TOPIC), 0, controllerEpoch, leader, leaderEpoch, leaderEpoch, List.of(0, 1));
        return request;
    }
}
