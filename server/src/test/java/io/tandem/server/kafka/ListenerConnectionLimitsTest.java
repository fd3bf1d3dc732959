package io.tandem.server.kafka;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka's ConnectionQuotas rules over real sockets, beyond the broker-wide counts of BrokerConnectionLimitsTest: a
 * listener's own max.connections (a connection past it waits, unread, until one of that listener closes), the
 * inter-broker listener accepting past max.connections by closing the least recently used connection of another
 * listener, max.connections.per.ip.overrides, and changes of these at runtime (a lower max.connections closes the
 * least recently used connections down to it), with their start-up checks.
 */
class ListenerConnectionLimitsTest {
    private static final ConfigResource BROKER = new ConfigResource(ConfigResource.Type.BROKER, "0");

    @TempDir
    Path dir;

    private Tandem start(String... keyValues) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA));
        config.set("listeners", "PLAINTEXT://127.0.0.1:0,EXTRA://127.0.0.1:0");
        config.set("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,EXTRA:PLAINTEXT");
        config.set("inter.broker.listener.name", "PLAINTEXT");
        for (int i = 0; i < keyValues.length; i += 2) config.set(keyValues[i], keyValues[i + 1]);
        return Tandem.start(config);
    }

    private static RawKafkaConnection served(int port) throws IOException {
        RawKafkaConnection c = new RawKafkaConnection(port);
        c.setTimeout(10_000);
        assertEquals(Errors.NONE.code(), c.apiVersions().errorCode);
        return c;
    }

    /** Asks, and finds no answer within a while: the connection waits in the backlog or held by the acceptor. */
    private static void assertWaiting(RawKafkaConnection c, String why) throws IOException {
        c.setTimeout(700);
        assertThrows(SocketTimeoutException.class, c::apiVersions, why);
    }

    /** The answer to the request {@link #assertWaiting} sent, once the connection is taken. */
    private static void assertServedAfterWaiting(RawKafkaConnection c, String why) throws IOException {
        c.setTimeout(10_000);
        assertEquals(Errors.NONE.code(), c.receive(c.lastCorrelationId(), (short) 0, (short) 0,
                ApiVersionsResponse::read).errorCode, why);
    }

    @Test
    void shouldHoldAConnectionPastItsListenersMaxConnectionsUntilOneOfThatListenerCloses() throws Exception {
        try (Tandem tandem = start("listener.name.extra.max.connections", "1");
             RawKafkaConnection other = served(tandem.kafkaPort("PLAINTEXT"))) {
            RawKafkaConnection first = served(tandem.kafkaPort("EXTRA"));
            try (RawKafkaConnection second = new RawKafkaConnection(tandem.kafkaPort("EXTRA"))) {
                assertWaiting(second, "a second connection on a listener with max.connections 1 waits");
                try (RawKafkaConnection another = served(tandem.kafkaPort("PLAINTEXT"))) {
                    assertEquals(Errors.NONE.code(), other.apiVersions().errorCode,
                            "the other listener goes on: the maximum is the listener's own");
                }
                first.close();
                assertServedAfterWaiting(second, "the waiting connection is taken when a slot of its listener frees");
            }
        }
    }

    @Test
    void shouldCloseTheLeastRecentlyUsedConnectionOfAnotherListenerForAnInterBrokerOnePastMaxConnections()
            throws Exception {
        try (Tandem tandem = start("max.connections", "2");
             RawKafkaConnection older = served(tandem.kafkaPort("EXTRA"));
             RawKafkaConnection newer = served(tandem.kafkaPort("EXTRA"))) {
            // Used last: the older one is now the least recently used.
            assertEquals(Errors.NONE.code(), newer.apiVersions().errorCode);
            try (RawKafkaConnection interBroker = served(tandem.kafkaPort("PLAINTEXT"))) {
                assertTrue(older.closedWithin(5_000), "the least recently used connection makes room");
                assertFalse(newer.closedWithin(300), "only as many as the broker is over max.connections");
                assertEquals(Errors.NONE.code(), newer.apiVersions().errorCode);
                assertEquals(Errors.NONE.code(), interBroker.apiVersions().errorCode);
            }
        }
    }

    @Test
    void shouldGiveAnAddressItsOverrideOfMaxConnectionsPerIp() throws Exception {
        // 0 for every address but the overridden ones, as Kafka allows with overrides.
        try (Tandem tandem = start("max.connections.per.ip", "0", "max.connections.per.ip.overrides",
                "127.0.0.1:2,10.11.12.13:7");
             RawKafkaConnection first = served(tandem.kafkaPort("EXTRA"));
             RawKafkaConnection second = served(tandem.kafkaPort("PLAINTEXT"));
             RawKafkaConnection third = new RawKafkaConnection(tandem.kafkaPort("EXTRA"))) {
            assertTrue(third.closedWithin(5_000), "a third connection from 127.0.0.1 is closed at once");
            assertEquals(Errors.NONE.code(), first.apiVersions().errorCode);
            assertEquals(Errors.NONE.code(), second.apiVersions().errorCode);
        }
    }

    @Test
    void shouldApplyConnectionLimitsChangedAtRuntime() throws Exception {
        try (Tandem tandem = start()) {
            int extra = tandem.kafkaPort("EXTRA");
            alter(tandem, "listener.name.extra.max.connections", "1");
            RawKafkaConnection first = served(extra);
            try (RawKafkaConnection second = new RawKafkaConnection(extra)) {
                assertWaiting(second, "a second connection waits under the listener's new maximum");
                alter(tandem, "listener.name.extra.max.connections", "2");
                assertServedAfterWaiting(second, "a higher maximum takes the waiting connection at once");
                // A lower max.connections closes the least recently used connections of the listeners but the
                // inter-broker one until the broker is within it (the Admin's, on the inter-broker listener, count).
                alter(tandem, "max.connections", "1");
                assertTrue(first.closedWithin(5_000), "the least recently used connection is closed");
                assertTrue(second.closedWithin(5_000), "and the next, while the broker is over max.connections");
            } finally {
                first.close();
            }
        }
    }

    /** Sets one key of this broker through the inter-broker listener (protected: never waits, never closed). */
    private static void alter(Tandem tandem, String key, String value) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + tandem.kafkaPort("PLAINTEXT")))) {
            admin.incrementalAlterConfigs(Map.of(BROKER, List.of(new AlterConfigOp(new ConfigEntry(key, value),
                    AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldRefuseToStartWithConnectionLimitsKafkaRefuses() {
        assertRefused("Invalid value -1 for configuration max.connections: Value must be at least 0",
                "listener.name.extra.max.connections", "-1");
        assertRefused("max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is "
                + "set.", "max.connections.per.ip", "0");
        assertRefused("max.connections.per.ip.overrides contains invalid addresses : hostName#",
                "max.connections.per.ip.overrides", "hostName#:100");
        assertRefused("Error parsing configuration property 'max.connections.per.ip.overrides'",
                "max.connections.per.ip.overrides", "127.0.0.1");
    }

    private void assertRefused(String words, String key, String value) {
        Exception e = assertThrows(Exception.class, () -> start(key, value).close());
        assertTrue(String.valueOf(e.getMessage()).contains(words), e.getMessage());
    }
}
