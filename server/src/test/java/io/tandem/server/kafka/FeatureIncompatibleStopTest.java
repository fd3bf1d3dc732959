package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.FeatureZnode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import io.tandem.server.kafka.txn.FinalizedFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A running broker whose cluster finalizes, in {@code /feature}, a level the broker does not support: Kafka 3.9's
 * broker exits its process then (FinalizedFeatureChangeListener); an embedded Tandem broker stops instead, leaving
 * the process (a JUnit run) alone: it deregisters and stops serving, logs an ERROR naming the feature and the ranges,
 * and {@link Tandem#kafkaFailure()} says why, while the node's ZooKeeper serves on. ({@code tandem start} then exits:
 * FeatureIncompatibleExitProcessTest.)
 */
class FeatureIncompatibleStopTest {
    private static final String INCOMPATIBLE = "{feature=transaction.version, reason='3 is incompatible with 0-2'}";

    @TempDir
    Path dir;

    @Test
    void shouldStopTheBrokerButNotTheNodeWhenTheClusterFinalizesALevelItDoesNotSupport() throws Exception {
        List<LogRecord> errors = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.SEVERE.intValue()) errors.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(FinalizedFeatures.class.getName());
        logger.addHandler(capture);
        try (Tandem node = Tandem.start(TandemConfig.forTests(dir));
             ZkZnodeStore zk = ZkZnodeStore.connect(node.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            int port = node.kafkaPort();
            String registration = KafkaZkLayout.brokerPath(0);
            assertNotNull(zk.getData(registration), "registered");
            ZnodeStore.Versioned feature = awaitFeatureNode(zk);
            assertTrue(zk.setDataIfVersion(KafkaZkLayout.FEATURE,
                    FeatureZnode.enabled(Map.of("transaction.version", (short) 3)).encode(), feature.version()));

            String reason = node.kafkaFailure().toCompletableFuture().get(60, TimeUnit.SECONDS);
            assertTrue(reason.contains(INCOMPATIBLE), reason);
            assertNull(zk.getData(registration), "the broker left the cluster");
            assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close(),
                    "the broker's listener is closed");
            assertTrue(errors.stream().anyMatch(r -> r.getMessage().contains(INCOMPATIBLE)
                    && r.getMessage().contains("the broker stops")), "ERROR logged: " + errors.stream()
                    .map(LogRecord::getMessage).toList());
            // The node's ZooKeeper serves on: only the Kafka role stopped.
            assertNotNull(zk.getData(KafkaZkLayout.FEATURE));
            assertEquals(1, errors.stream().filter(r -> r.getMessage().contains(INCOMPATIBLE)).count(),
                    "told once");
        } finally {
            logger.removeHandler(capture);
        }
    }

    /** {@code /feature} once the controller created it at its election. */
    private static ZnodeStore.Versioned awaitFeatureNode(ZkZnodeStore zk) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            ZnodeStore.Versioned node = zk.getVersioned(KafkaZkLayout.FEATURE);
            if (node != null) return node;
            assertTrue(System.currentTimeMillis() < deadline, "no " + KafkaZkLayout.FEATURE);
            Thread.sleep(50);
        }
    }
}
