package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ForwardingZnodeStore;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DeleteTopics on the controller's broker writes {@code /admin/delete_topics/T} and tells its controller; the
 * controller must handle that request once, as Kafka's does (its watch is its only path). It handled it twice: the
 * watch and the broker's direct call each queued a read of {@code /admin/delete_topics}, the second sitting between
 * the StopReplica answer and the deletion's completion. Counted here: the controller's reads of the requests that
 * still list the topic, and the StopReplica sent for it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeletionRequestReadOnceTest {
    private static final String TOPIC = "doomed";
    private static final long WAIT_MS = 30_000;

    @Test
    void theControllerReadsADeletionRequestOnceAndStopsEachReplicaOnce(@TempDir Path dir) throws Exception {
        AtomicInteger readsListingIt = new AtomicInteger();
        AtomicInteger stopReplicas = new AtomicInteger();
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            ZnodeStore store = new Counting(zk, readsListingIt);
            ClusterMetadata metadata = new ClusterMetadata(store,
                    new KafkaZkLayout.BrokerRegistration(1, "127.0.0.1", 1, "PLAINTEXT", null, System.currentTimeMillis()));
            metadata.start();
            // The controller's own broker: it holds no log here, so every request is done once received (null:
            // nothing in the answer the controller reads), and each StopReplica is counted.
            KafkaController controller = new KafkaController(1, store, metadata, (key, version, request) -> {
                if (key == ApiKey.STOP_REPLICA) stopReplicas.incrementAndGet();
                return null;
            });
            try {
                controller.start();
                assertTrue(controller.isActive(), "the only broker is the controller");
                // On broker 1, named: this controller's broker applies no UpdateMetadata here, so its cache has no live
                // broker to place a topic on (as Kafka's, whose CreateTopics places over metadataCache.getAliveBrokers).
                metadata.createTopic(TOPIC, 1, 1, new java.util.TreeMap<>(Map.of(0, List.of(1))), Map.of(), false);
                controller.topicsChanged();

                // What DeleteTopics does on the controller's broker (BrokerTopics.deleteTopics).
                metadata.markForDeletion(List.of(TOPIC));
                controller.deletionsRequested();

                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (zk.getData(KafkaZkLayout.topicPath(TOPIC)) != null
                        || zk.getData(KafkaZkLayout.deleteTopicPath(TOPIC)) != null) {
                    assertTrue(System.currentTimeMillis() < deadline, "the deletion completes");
                    Thread.sleep(10);
                }
                // Events queued before the completion have run by the time one queued now does.
                controller.topicsChanged();
                Thread.sleep(200);
                controller.topicsChanged();
                assertEquals(1, readsListingIt.get(), "reads of /admin/delete_topics that found the request");
                assertEquals(1, stopReplicas.get(), "StopReplica requests for the deleted topic's one replica");
            } finally {
                controller.close();
            }
        }
    }

    /** Passes every call to the ZooKeeper store, counting the reads of the requests that list {@link #TOPIC}. */
    private static final class Counting extends ForwardingZnodeStore {
        private final AtomicInteger readsListingIt;

        Counting(ZnodeStore inner, AtomicInteger readsListingIt) {
            super(inner);
            this.readsListingIt = readsListingIt;
        }

        @Override
        public List<String> getChildren(String path) throws Exception {
            List<String> children = inner.getChildren(path);
            if (path.equals(KafkaZkLayout.DELETE_TOPICS) && children.contains(TOPIC)) readsListingIt.incrementAndGet();
            return children;
        }
    }
}
