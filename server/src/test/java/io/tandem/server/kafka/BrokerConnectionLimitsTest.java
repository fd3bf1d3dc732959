package io.tandem.server.kafka;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** max.connections, max.connections.per.ip and connections.max.idle.ms over real sockets, as Kafka applies them. */
class BrokerConnectionLimitsTest {
    @TempDir
    Path dir;

    private Tandem start(String... keyValues) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA));
        for (int i = 0; i < keyValues.length; i += 2) config.set(keyValues[i], keyValues[i + 1]);
        return Tandem.start(config);
    }

    @Test
    void shouldCloseAConnectionBeyondMaxConnectionsPerIpRightAfterAccept() throws Exception {
        try (Tandem tandem = start("max.connections.per.ip", "2");
             RawKafkaConnection first = new RawKafkaConnection(tandem.kafkaPort());
             RawKafkaConnection second = new RawKafkaConnection(tandem.kafkaPort())) {
            assertEquals(Errors.NONE.code(), first.apiVersions().errorCode);
            assertEquals(Errors.NONE.code(), second.apiVersions().errorCode);
            try (RawKafkaConnection third = new RawKafkaConnection(tandem.kafkaPort())) {
                assertTrue(third.closedWithin(5_000), "a third connection from 127.0.0.1 is closed");
            }
            // A closed connection gives its slot back.
            first.close();
            long deadline = System.currentTimeMillis() + 5_000;
            while (true) {
                try (RawKafkaConnection again = new RawKafkaConnection(tandem.kafkaPort())) {
                    again.setTimeout(2_000);
                    assertEquals(Errors.NONE.code(), again.apiVersions().errorCode);
                    break;
                } catch (java.io.IOException refusedWhileTheCloseIsCounted) {
                    assertTrue(System.currentTimeMillis() < deadline, "the freed slot is never given back");
                    Thread.sleep(50);
                }
            }
            assertEquals(Errors.NONE.code(), second.apiVersions().errorCode, "the admitted ones are unaffected");
        }
    }

    @Test
    void shouldStopAcceptingAtMaxConnectionsAndServeTheWaitingOneWhenASlotFrees() throws Exception {
        try (Tandem tandem = start("max.connections", "2");
             RawKafkaConnection second = new RawKafkaConnection(tandem.kafkaPort())) {
            RawKafkaConnection first = new RawKafkaConnection(tandem.kafkaPort());
            assertEquals(Errors.NONE.code(), first.apiVersions().errorCode);
            assertEquals(Errors.NONE.code(), second.apiVersions().errorCode);
            try (RawKafkaConnection waiting = new RawKafkaConnection(tandem.kafkaPort())) {
                // The TCP handshake completes in the kernel's backlog, but the broker does not take the connection.
                waiting.setTimeout(700);
                assertThrows(SocketTimeoutException.class, waiting::apiVersions,
                        "a connection beyond max.connections is not served");
                first.close();
                waiting.setTimeout(10_000);
                // The request sent above is read once the connection is accepted; its answer comes first.
                assertEquals(Errors.NONE.code(), waiting.receive(waiting.lastCorrelationId(), (short) 0, (short) 0,
                        io.tandem.kafka.wire.message.ApiVersionsResponse::read).errorCode);
                assertEquals(Errors.NONE.code(), waiting.apiVersions().errorCode);
            }
        }
    }

    @Test
    void shouldCloseAConnectionIdleForConnectionsMaxIdleMs() throws Exception {
        try (Tandem tandem = start("connections.max.idle.ms", "1000")) {
            // A first request answered before the timed connections open: in a fresh test JVM on a loaded machine the
            // broker's first answer (class loading, interpreted code) can take longer than the 1 s idle time itself.
            try (RawKafkaConnection warmUp = new RawKafkaConnection(tandem.kafkaPort())) {
                assertEquals(Errors.NONE.code(), warmUp.apiVersions().errorCode);
            }
            checkIdleClose(tandem);
        }
    }

    private static void checkIdleClose(Tandem tandem) throws Exception {
        try (RawKafkaConnection idle = new RawKafkaConnection(tandem.kafkaPort());
             RawKafkaConnection busy = new RawKafkaConnection(tandem.kafkaPort())) {
            assertEquals(Errors.NONE.code(), idle.apiVersions().errorCode);
            long start = System.currentTimeMillis();
            // A connection in use is kept: a request every 100 ms for longer than the idle time.
            while (System.currentTimeMillis() - start < 2_500) {
                assertEquals(Errors.NONE.code(), busy.apiVersions().errorCode);
                Thread.sleep(100);
            }
            assertTrue(idle.closedWithin(5_000), "the idle connection is closed");
            assertFalse(busy.closedWithin(100), "the busy one is still open");
        }
    }

    private Tandem startTwoListeners(String key, String value) throws Exception {
        return start("listeners", "PLAINTEXT://127.0.0.1:0,EXTRA://127.0.0.1:0",
                "listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,EXTRA:PLAINTEXT",
                "inter.broker.listener.name", "PLAINTEXT", key, value);
    }

    @Test
    void shouldCountConnectionsPerAddressOverAllListeners() throws Exception {
        try (Tandem tandem = startTwoListeners("max.connections.per.ip", "2");
             RawKafkaConnection first = new RawKafkaConnection(tandem.kafkaPort("PLAINTEXT"));
             RawKafkaConnection second = new RawKafkaConnection(tandem.kafkaPort("EXTRA"))) {
            assertEquals(Errors.NONE.code(), first.apiVersions().errorCode);
            assertEquals(Errors.NONE.code(), second.apiVersions().errorCode);
            for (String listener : new String[] {"PLAINTEXT", "EXTRA"}) {
                try (RawKafkaConnection third = new RawKafkaConnection(tandem.kafkaPort(listener))) {
                    assertTrue(third.closedWithin(5_000), "a third connection from 127.0.0.1 on " + listener
                            + " is closed: Kafka counts an address over all listeners");
                }
            }
        }
    }

    @Test
    void shouldCountMaxConnectionsOverAllListenersButLetTheInterBrokerListenerAccept() throws Exception {
        try (Tandem tandem = startTwoListeners("max.connections", "2");
             RawKafkaConnection first = new RawKafkaConnection(tandem.kafkaPort("EXTRA"));
             RawKafkaConnection second = new RawKafkaConnection(tandem.kafkaPort("EXTRA"))) {
            assertEquals(Errors.NONE.code(), first.apiVersions().errorCode);
            assertEquals(Errors.NONE.code(), second.apiVersions().errorCode);
            try (RawKafkaConnection waiting = new RawKafkaConnection(tandem.kafkaPort("EXTRA"))) {
                waiting.setTimeout(700);
                assertThrows(java.io.IOException.class, waiting::apiVersions,
                        "a connection beyond max.connections on another listener is not served");
            }
            // Kafka's protectedListener: the inter-broker listener of a broker with several goes on accepting.
            try (RawKafkaConnection interBroker = new RawKafkaConnection(tandem.kafkaPort("PLAINTEXT"))) {
                interBroker.setTimeout(10_000);
                assertEquals(Errors.NONE.code(), interBroker.apiVersions().errorCode);
            }
        }
    }

    @Test
    void shouldRefuseToStartWhenQueuedMaxRequestBytesIsBelowSocketRequestMaxBytes() {
        Exception e = assertThrows(Exception.class, () -> start("socket.request.max.bytes", "2000000",
                "queued.max.request.bytes", "1000000").close());
        assertTrue(String.valueOf(e.getMessage()).contains("queued.max.request.bytes"), e.getMessage());
    }
}
