package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * max.connections.per.ip and max.connections changed through IncrementalAlterConfigs, as Kafka's
 * DynamicConnectionQuota applies them: new connections are judged by the new maximum at once (the cluster default
 * and this broker's value), DescribeConfigs says they are not read-only, a deleted value gives the static one back,
 * a stored value is in force after a restart, and 0 is refused as Kafka refuses it.
 */
class DynamicConnectionLimitsTest {
    private static final ConfigResource BROKER = new ConfigResource(ConfigResource.Type.BROKER, "0");
    private static final ConfigResource CLUSTER_DEFAULT = new ConfigResource(ConfigResource.Type.BROKER, "");

    @TempDir
    Path dir;

    @Test
    void shouldApplyConnectionLimitsChangedAtRuntimeAndKeepThemOverARestart() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir);
        try (Tandem tandem = Tandem.start(config)) {
            int port = tandem.kafkaPort();
            assertEquals(6, served(port, 6), "no limit yet");
            alter(port, CLUSTER_DEFAULT, "max.connections.per.ip", "3", AlterConfigOp.OpType.SET);
            int served = served(port, 6);
            assertTrue(served <= 3 && served >= 1, served + " of 6 connections served under a per-address maximum of 3");
            try (Admin admin = admin(port)) {
                ConfigEntry entry = admin.describeConfigs(List.of(BROKER)).all().get(30, TimeUnit.SECONDS).get(BROKER)
                        .get("max.connections.per.ip");
                assertEquals("3", entry.value());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, entry.source());
                assertFalse(entry.isReadOnly(), "Kafka changes it at runtime, and so does Tandem");
            }
            alter(port, CLUSTER_DEFAULT, "max.connections.per.ip", null, AlterConfigOp.OpType.DELETE);
            assertEquals(6, served(port, 6), "the static (default) maximum is back");
            // This broker's own value, over the cluster default, and the broker-wide maximum.
            alter(port, BROKER, "max.connections", "2", AlterConfigOp.OpType.SET);
            served = served(port, 4);
            assertTrue(served <= 2, served + " of 4 connections served under a broker maximum of 2");
            alter(port, BROKER, "max.connections", null, AlterConfigOp.OpType.DELETE);
            alter(port, BROKER, "max.connections.per.ip", "2", AlterConfigOp.OpType.SET);
            try (Admin admin = admin(port)) {
                ExecutionException refused = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                        Map.of(BROKER, List.of(new AlterConfigOp(new ConfigEntry("max.connections", "0"),
                                AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS));
                // Apache Kafka 3.9.1's answer (ConnectionQuotaConfigDifferentialTest): each listener's
                // ConnectionQuota refuses a maximum of 0.
                assertInstanceOf(InvalidRequestException.class, refused.getCause());
            }
        }
        try (Tandem restarted = Tandem.start(config)) {
            int served = served(restarted.kafkaPort(), 5);
            assertTrue(served <= 2 && served >= 1, served + " of 5 connections served after a restart with a stored "
                    + "per-address maximum of 2");
        }
    }

    private static Admin admin(int port) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port));
    }

    /** Sets (or deletes) one key; the Admin's own connections are gone when this returns. */
    private static void alter(int port, ConfigResource resource, String key, String value, AlterConfigOp.OpType op)
            throws Exception {
        try (Admin admin = admin(port)) {
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(key, value), op))))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Opens {@code attempts} connections at once and counts those answered (ApiVersions); the others are closed by
     * the broker (or never accepted: those time out). All are closed before this returns.
     */
    private static int served(int port, int attempts) throws Exception {
        List<RawKafkaConnection> connections = new ArrayList<>();
        int served = 0;
        try {
            for (int i = 0; i < attempts; i++) connections.add(new RawKafkaConnection(port));
            for (RawKafkaConnection c : connections) {
                try {
                    c.setTimeout(3_000);
                    c.apiVersions();
                    served++;
                } catch (IOException refused) {
                    // closed at once (per address) or left in the backlog (broker-wide)
                }
            }
        } finally {
            for (RawKafkaConnection c : connections) c.close();
        }
        // The broker counts a connection until it sees it close: let the count settle before the next round.
        awaitOneServed(port);
        return served;
    }

    private static void awaitOneServed(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (RawKafkaConnection c = new RawKafkaConnection(port)) {
                c.setTimeout(3_000);
                c.apiVersions();
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) throw notYet;
                Thread.sleep(100);
            }
        }
    }
}
