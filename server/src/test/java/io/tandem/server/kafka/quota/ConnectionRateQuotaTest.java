package io.tandem.server.kafka.quota;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Connection creation rate quotas (KIP-612) with real sockets on a real broker: {@code connection_creation_rate} of an
 * IP address and of the default IP entity, set with the Java Admin client, stored where Kafka 3.9 keeps them and
 * described as Kafka describes them; a connection over its IP's rate is never served and is closed after the
 * throttle time; the broker-wide {@code max.connection.creation.rate} delays accepting without holding back the
 * connections already open, whether set at start-up or as a dynamic cluster-wide config, and so does a listener's
 * own. The window is 2 samples of 1 s, so a young rate is measured over one second.
 */
class ConnectionRateQuotaTest {
    private TandemCluster cluster;

    private void start(String... settings) throws Exception {
        cluster = TandemCluster.start(1, c -> {
            c.set("quota.window.num", "2").set("quota.window.size.seconds", "1");
            for (int i = 0; i < settings.length; i += 2) c.set(settings[i], settings[i + 1]);
            return c;
        });
    }

    @AfterEach
    void stopCluster() {
        if (cluster != null) cluster.close();
    }

    private Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
    }

    private static ClientQuotaEntity ip(String address) {
        Map<String, String> parts = new HashMap<>();
        parts.put(ClientQuotaEntity.IP, address);
        return new ClientQuotaEntity(parts);
    }

    private static void alter(Admin admin, ClientQuotaEntity entity, String key, Double value) throws Exception {
        admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity,
                List.of(new ClientQuotaAlteration.Op(key, value))))).all().get();
    }

    private int port() {
        return cluster.broker(1).kafkaPort();
    }

    /**
     * A connection over the IP rate: the broker never answers its ApiVersions and closes it once the throttle time
     * (here about one window) has passed; answers the time it stayed open.
     */
    private long closedUnservedAfterMs() throws Exception {
        try (RawKafkaConnection refused = new RawKafkaConnection(port())) {
            long start = System.nanoTime();
            refused.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            assertTrue(refused.closedWithin(5_000), "a connection over its IP rate was kept or answered");
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }
    }

    @Test
    void shouldCloseAConnectionOverItsIpRateAfterTheThrottleWithoutServingIt() throws Exception {
        start();
        try (Admin admin = admin()) {
            alter(admin, ip("127.0.0.1"), "connection_creation_rate", 1.0);
        }
        try (RawKafkaConnection first = new RawKafkaConnection(port())) {
            first.apiVersions();
            long openMs = closedUnservedAfterMs();
            // (2 - 1) / 1 per second over a one-second window: 1 s, the most a throttle may be.
            assertTrue(openMs >= 700 && openMs < 3_000, "closed after " + openMs + " ms");
            // The refused connection was not counted: the one before it is still served, and once the rate has
            // decayed a new one is too.
            first.apiVersions();
            Thread.sleep(2_100);
            try (RawKafkaConnection later = new RawKafkaConnection(port())) {
                later.apiVersions();
            }
        }
    }

    @Test
    void shouldApplyTheDefaultIpEntityToAnAddressWithoutItsOwn() throws Exception {
        start();
        try (Admin admin = admin()) {
            alter(admin, ip(null), "connection_creation_rate", 1.0);
        }
        try (RawKafkaConnection first = new RawKafkaConnection(port())) {
            first.apiVersions();
            long openMs = closedUnservedAfterMs();
            assertTrue(openMs >= 700, "closed after " + openMs + " ms");
        }
        // The address's own quota wins over the default: let it be generous, after the refusals have decayed.
        Thread.sleep(2_100);
        try (Admin admin = admin()) {
            alter(admin, ip("127.0.0.1"), "connection_creation_rate", 1000.0);
        }
        List<RawKafkaConnection> many = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                RawKafkaConnection c = new RawKafkaConnection(port());
                many.add(c);
                c.apiVersions();
            }
        } finally {
            for (RawKafkaConnection c : many) c.close();
        }
    }

    @Test
    void shouldStoreDescribeAndValidateIpQuotasAsKafkaDoes() throws Exception {
        start();
        try (Admin admin = admin()) {
            alter(admin, ip("127.0.0.2"), "connection_creation_rate", 5.0);
            alter(admin, ip(null), "connection_creation_rate", 1000.0);
            ClientQuotaEntity user = new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "ip-test-user"));
            alter(admin, user, "producer_byte_rate", 1024.0);

            assertEquals(Map.of(ip("127.0.0.2"), Map.of("connection_creation_rate", 5.0)),
                    admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.IP, "127.0.0.2")))).entities().get());
            assertEquals(Map.of(ip(null), Map.of("connection_creation_rate", 1000.0)),
                    admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofDefaultEntity(ClientQuotaEntity.IP)))).entities().get());
            assertEquals(Map.of(ip("127.0.0.2"), Map.of("connection_creation_rate", 5.0),
                    ip(null), Map.of("connection_creation_rate", 1000.0)),
                    admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntityType(ClientQuotaEntity.IP)))).entities().get());
            // Not strict and without components: every entity, IPs included; strict without components: none.
            assertEquals(Map.of(ip("127.0.0.2"), Map.of("connection_creation_rate", 5.0),
                    ip(null), Map.of("connection_creation_rate", 1000.0), user, Map.of("producer_byte_rate", 1024.0)),
                    admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get());
            assertEquals(Map.of(), admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of()))
                    .entities().get());
            // A user component leaves IPs out.
            assertEquals(Map.of(user, Map.of("producer_byte_rate", 1024.0)), admin.describeClientQuotas(
                    ClientQuotaFilter.contains(List.of(ClientQuotaFilterComponent.ofEntityType(
                            ClientQuotaEntity.USER)))).entities().get());

            refused(admin, ip("256.0.0.1"), "connection_creation_rate", 1.0,
                    "256.0.0.1 is not a valid IP or resolvable host.");
            Map<String, String> both = new HashMap<>();
            both.put(ClientQuotaEntity.IP, "127.0.0.3");
            both.put(ClientQuotaEntity.USER, "someone");
            refused(admin, new ClientQuotaEntity(both), "connection_creation_rate", 1.0,
                    "Invalid quota entity combination, IP entity should not be used with user/client ID entity.");
            refused(admin, ip("127.0.0.3"), "producer_byte_rate", 1.0, "Invalid configuration key producer_byte_rate");
            refused(admin, ip("127.0.0.3"), "connection_creation_rate", 1.5,
                    "Configuration connection_creation_rate must be a INT value");
            assertEquals(Map.of(), admin.describeClientQuotas(ClientQuotaFilter.containsOnly(List.of(
                    ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.IP, "127.0.0.3")))).entities().get());

            // Removing the key leaves nothing to describe.
            alter(admin, ip(null), "connection_creation_rate", null);
        }
        ZooKeeper zk = new ZooKeeper(cluster.zookeeperConnect(), 10_000, event -> { });
        try {
            assertEquals("{\"version\":1,\"config\":{\"connection_creation_rate\":\"5\"}}",
                    new String(zk.getData("/config/ips/127.0.0.2", false, null), StandardCharsets.UTF_8));
            boolean notified = false;
            for (String change : zk.getChildren("/config/changes", false)) {
                String data = new String(zk.getData("/config/changes/" + change, false, null), StandardCharsets.UTF_8);
                notified |= data.equals("{\"version\":2,\"entity_path\":\"ips/127.0.0.2\"}");
            }
            assertTrue(notified, "no change notification for ips/127.0.0.2");
        } finally {
            zk.close();
        }
    }

    private static void refused(Admin admin, ClientQuotaEntity entity, String key, double value, String message) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> alter(admin, entity, key, value));
        assertInstanceOf(InvalidRequestException.class, e.getCause());
        assertEquals(message, e.getCause().getMessage());
    }

    @Test
    void shouldDelayAcceptingOverTheBrokerRateWithoutHoldingBackOpenConnections() throws Exception {
        start("max.connection.creation.rate", "2");
        long allMs = burstOfSixServedAfterMs();
        // Two connections per second: the third waits 0.5 s, the fourth another 0.5 s, the fifth a whole window.
        assertTrue(allMs >= 1_000, "six connections served within " + allMs + " ms at 2 per second");
    }

    /**
     * {@code listener.name.<listener>.max.connection.creation.rate} (Kafka's ListenerConnectionQuota): the listener's
     * acceptor waits for its own rate while the broker has none. That the other listener does not wait is shown by
     * its throttle-time metric (QuotaMetricsTest), not by a timing here.
     */
    @Test
    void shouldDelayAcceptingOverAListenersOwnRate() throws Exception {
        start("listeners", "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
                "listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
                "inter.broker.listener.name", "INTERNAL",
                "listener.name.external.max.connection.creation.rate", "2");
        long allMs = burstOfSixServedAfterMs(cluster.broker(1).kafkaPort("EXTERNAL"));
        assertTrue(allMs >= 1_000, "six connections served within " + allMs + " ms at 2 per second");
    }

    /**
     * A listener's rate as a dynamic config (Kafka's ListenerConnectionQuota.reconfigure): set for this broker it
     * delays the listener's acceptor; Kafka's validateReconfiguration refuses 0 and below in its words.
     */
    @Test
    void shouldTakeADynamicListenerRateAsKafkaDoes() throws Exception {
        start("listeners", "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
                "listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
                "inter.broker.listener.name", "INTERNAL");
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        String key = "listener.name.external.max.connection.creation.rate";
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + cluster.broker(1).kafkaPort("INTERNAL")))) {
            ExecutionException zero = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(broker, List.of(new AlterConfigOp(new ConfigEntry(key, "0"), AlterConfigOp.OpType.SET))))
                    .all().get());
            assertInstanceOf(InvalidRequestException.class, zero.getCause());
            // Apache Kafka 3.9.1's words (ConnectionQuotaConfigDifferentialTest): its processReconfiguration wraps
            // ListenerConnectionQuota's ConfigException.
            assertEquals("Invalid value org.apache.kafka.common.config.ConfigException: Invalid "
                    + "max.connection.creation.rate 0 for configuration Invalid dynamic configuration",
                    zero.getCause().getMessage());
            admin.incrementalAlterConfigs(Map.of(broker, List.of(new AlterConfigOp(new ConfigEntry(key, "2"),
                    AlterConfigOp.OpType.SET)))).all().get();
        }
        long allMs = burstOfSixServedAfterMs(cluster.broker(1).kafkaPort("EXTERNAL"));
        assertTrue(allMs >= 1_000, "six connections served within " + allMs + " ms at 2 per second");
    }

    /** A listener's rate and its max.connections are checked as the broker-wide keys. */
    @Test
    void shouldRefuseANegativeListenerRateAndAListenersMaxConnectionsAtStartUp(@TempDir Path dir) {
        for (String[] row : new String[][] {
                {"listener.name.external.max.connection.creation.rate", "-1", "at least 0"},
                {"listener.name.external.max.connections", "-1", "at least 0"}}) {
            TandemConfig config = TandemConfig.forTests(dir.resolve(row[0]))
                    .set("listeners", "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0")
                    .set("listener.security.protocol.map", "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT")
                    .set("inter.broker.listener.name", "INTERNAL").set(row[0], row[1]);
            Exception e = assertThrows(Exception.class, () -> Tandem.start(config).close());
            assertTrue(e.getMessage().contains(row[0]) && e.getMessage().contains(row[2]), e.getMessage());
        }
    }

    @Test
    void shouldTakeADynamicBrokerRateAsKafkaDoes() throws Exception {
        start();
        ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
        try (Admin admin = admin()) {
            ExecutionException negative = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                    Map.of(clusterDefault, List.of(new AlterConfigOp(new ConfigEntry("max.connection.creation.rate",
                            "-1"), AlterConfigOp.OpType.SET)))).all().get());
            // Kafka's validator (at least 0) refuses it, and ZkAdminManager answers a ConfigException INVALID_REQUEST.
            assertInstanceOf(InvalidRequestException.class, negative.getCause());
            admin.incrementalAlterConfigs(Map.of(clusterDefault, List.of(new AlterConfigOp(
                    new ConfigEntry("max.connection.creation.rate", "2"), AlterConfigOp.OpType.SET)))).all().get();
            assertEquals("2", admin.describeConfigs(List.of(clusterDefault)).all().get().get(clusterDefault)
                    .get("max.connection.creation.rate").value());
        }
        long allMs = burstOfSixServedAfterMs();
        assertTrue(allMs >= 1_000, "six connections served within " + allMs + " ms at 2 per second");
    }

    /**
     * Six connections opened at once, each sending ApiVersions: how long until the last is answered. Meanwhile a
     * connection opened before them is answered at once (the acceptor waits on a timer, not on a thread).
     */
    private long burstOfSixServedAfterMs() throws Exception {
        return burstOfSixServedAfterMs(port());
    }

    private long burstOfSixServedAfterMs(int port) throws Exception {
        List<RawKafkaConnection> burst = new ArrayList<>();
        try (RawKafkaConnection steady = new RawKafkaConnection(port)) {
            steady.setTimeout(30_000);
            steady.apiVersions();
            // Let the connections of the start-up and of this one age out of the window.
            Thread.sleep(2_100);
            long start = System.nanoTime();
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                RawKafkaConnection c = new RawKafkaConnection(port);
                c.setTimeout(30_000);
                burst.add(c);
                ids.add(c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest()));
            }
            long probe = System.nanoTime();
            steady.apiVersions();
            long probeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - probe);
            assertTrue(probeMs < 500, "an open connection waited " + probeMs + " ms");
            for (int i = 0; i < burst.size(); i++) {
                burst.get(i).receive(ids.get(i), (short) 0, (short) 0, ApiVersionsResponse::read);
            }
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        } finally {
            for (RawKafkaConnection c : burst) c.close();
        }
    }
}
