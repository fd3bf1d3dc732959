package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ForwardingZnodeStore;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controller whose ZooKeeper refuses its writes retries the failing event less and less often (500 ms doubling to
 * 30 s, not every 500 ms for ever), lists it as one stuck failure however often it retries, and carries on once
 * ZooKeeper takes its writes again: the new topic's partition gets its leader and nothing is listed any more. The
 * retry pauses the controller asks for are recorded; they are waited out at most {@link #PAUSE_MS_MAX}, so the test
 * sees a dozen retries in well under a second.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventBackoffTest {
    private static final String TOPIC = "stalled";
    private static final long PAUSE_MS_MAX = 20;
    private static final long WAIT_MS = 30_000;

    @Test
    void aFailingEventBacksOffToThirtySecondsIsListedOnceAndRecoversWhenZooKeeperAnswers(@TempDir Path dir)
            throws Exception {
        List<Long> pauses = new CopyOnWriteArrayList<>();
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            RefusingWrites store = new RefusingWrites(zk);
            ClusterMetadata metadata = new ClusterMetadata(store,
                    new KafkaZkLayout.BrokerRegistration(1, "127.0.0.1", 1, "PLAINTEXT", null, System.currentTimeMillis()));
            metadata.start();
            KafkaController.Runtime runtime = new KafkaController.Runtime(Executors.newSingleThreadExecutor(),
                    (pauseMs, retry) -> {
                        pauses.add(pauseMs);
                        CompletableFuture.delayedExecutor(Math.min(pauseMs, PAUSE_MS_MAX), TimeUnit.MILLISECONDS)
                                .execute(retry);
                    },
                    local -> new ControllerChannels(1, local, InterBrokerSecurity.PLAINTEXT));
            KafkaController controller = new KafkaController(1, store, metadata, (key, version, request) -> null,
                    runtime);
            try {
                controller.start();
                assertTrue(controller.isActive(), "the only broker is the controller");

                // The controller's watch sees the new topic; electing its partition's leader is a fenced write.
                store.refusing = true;
                // On broker 1, named: this controller's broker applies no UpdateMetadata here, so its cache has no live
                // broker to place a topic on (as Kafka's, whose CreateTopics places over metadataCache.getAliveBrokers).
                metadata.createTopic(TOPIC, 1, 1, new java.util.TreeMap<>(Map.of(0, List.of(1))), Map.of(), false);
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (!pauses.contains(EventRetries.BACKOFF_MS_MAX) || pauses.size() < 10) {
                    assertTrue(System.currentTimeMillis() < deadline, "retry pauses so far: " + pauses);
                    Thread.sleep(10);
                }
                List<Long> seen = new ArrayList<>(pauses);
                // Each chain of retries doubles its pause from 500 ms and stays at 30 s (another event failing the
                // same way starts its own chain at 500 ms): the pauses asked for, in order, with repeats removed.
                List<Long> rising = new ArrayList<>();
                for (long pause : seen) if (!rising.contains(pause)) rising.add(pause);
                rising.sort(null);
                assertEquals(List.of(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L), rising,
                        "pauses asked for: " + seen);
                List<String> stuck = controller.stuckEvents();
                assertEquals(1, stuck.size(), "one failure, however often retried: " + stuck);
                assertTrue(stuck.get(0).contains("cannot handle a topic change")
                        && stuck.get(0).contains("ZooKeeper refuses"), "what is stuck, and why: " + stuck);

                store.refusing = false;
                deadline = System.currentTimeMillis() + WAIT_MS;
                while (zk.getData(KafkaZkLayout.partitionStatePath(TOPIC, 0)) == null
                        || !controller.stuckEvents().isEmpty()) {
                    assertTrue(System.currentTimeMillis() < deadline, "recovered: " + controller.stuckEvents());
                    Thread.sleep(10);
                }
            } finally {
                controller.close();
            }
        }
    }

    /** The ZooKeeper store, refusing the controller's fenced writes while {@link #refusing} is set. */
    private static final class RefusingWrites extends ForwardingZnodeStore {
        volatile boolean refusing;

        RefusingWrites(ZnodeStore inner) {
            super(inner);
        }

        @Override
        public Map<String, Integer> writeFenced(String fencePath, int fenceVersion,
                                                LinkedHashMap<String, Versioned> writes) throws Exception {
            if (refusing) throw new IOException("ZooKeeper refuses the write (test)");
            return inner.writeFenced(fencePath, fenceVersion, writes);
        }
    }
}
