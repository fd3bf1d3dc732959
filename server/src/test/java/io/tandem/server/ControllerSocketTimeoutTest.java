package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.network.ScriptedBroker;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * controller.socket.timeout.ms bounds how long the controller waits for a broker's answer, as in Kafka's
 * ControllerChannelManager (RequestSendThread): a broker that takes the controller's connection and its
 * UpdateMetadata but never answers has that connection closed once the configured timeout passes, and the same
 * request is sent again on a new connection. The broker is a registration in ZooKeeper whose port is a real socket
 * that answers only ApiVersions; the controller is a real Tandem broker with a short timeout (Kafka's 30 s default
 * would leave the request hanging past this test's patience).
 */
@Timeout(120)
class ControllerSocketTimeoutTest {
    private static final int CONTROLLER = 1;
    private static final int SILENT = 2;
    private static final int TIMEOUT_MS = 1_000;

    @TempDir
    Path dir;

    /** What the silent broker saw on one connection: a request (key, body) or, with a null key, the connection's end. */
    private record Event(int connection, long atNanos, ApiKey key, Object body) {
    }

    /** Accepts every connection, answers ApiVersions, and records everything else without ever answering it. */
    private static final class SilentBroker implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        /** Bounded: a handful of connections and requests are expected. */
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>(10_000);
        private final List<Socket> sockets = new ArrayList<>();
        private final AtomicInteger connections = new AtomicInteger();
        private final Thread acceptor = new Thread(this::acceptAll, "silent-broker-accept");

        SilentBroker() throws IOException {
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void acceptAll() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    synchronized (sockets) {
                        sockets.add(socket);
                    }
                    int id = connections.incrementAndGet();
                    Thread reader = new Thread(() -> readAll(id, socket), "silent-broker-conn-" + id);
                    reader.setDaemon(true);
                    reader.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void readAll(int id, Socket socket) {
            try {
                while (true) {
                    ScriptedBroker.Received received = ScriptedBroker.read(socket);
                    if (received.key() == ApiKey.API_VERSIONS) {
                        List<ApiVersionsResponse.ApiVersion> served = new ArrayList<>();
                        for (ApiKey key : List.of(ApiKey.API_VERSIONS, ApiKey.UPDATE_METADATA, ApiKey.LEADER_AND_ISR,
                                ApiKey.STOP_REPLICA)) {
                            served.add(new ApiVersionsResponse.ApiVersion().setApiKey(key.id())
                                    .setMinVersion(key.minVersion()).setMaxVersion(key.maxVersion()));
                        }
                        ScriptedBroker.answer(socket, received, new ApiVersionsResponse().setApiKeys(served));
                    } else {
                        events.offer(new Event(id, System.nanoTime(), received.key(), received.body()));
                    }
                }
            } catch (EOFException | SocketException e) {
                events.offer(new Event(id, System.nanoTime(), null, null));
            } catch (IOException e) {
                events.offer(new Event(id, System.nanoTime(), null, e));
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) s.close();
            }
        }
    }

    @Test
    void shouldCloseTheConnectionAfterTheControllerSocketTimeoutAndSendTheRequestAgain() throws Exception {
        try (Tandem controller = Tandem.start(TandemConfig.forTests(dir).set("broker.id", String.valueOf(CONTROLLER))
                     .set("controlled.shutdown.enable", "false")
                     .set("controller.socket.timeout.ms", String.valueOf(TIMEOUT_MS)));
             SilentBroker silent = new SilentBroker();
             ZooKeeper zk = RegisteredOnlyBrokers.zooKeeper(controller.zookeeperConnect())) {
            // Dated an hour ahead, as RegisteredOnlyBrokers does: the controller's process probe leaves it live.
            zk.create("/brokers/ids/" + SILENT, KafkaZkLayout.encodeBroker(new KafkaZkLayout.BrokerRegistration(SILENT,
                            "127.0.0.1", silent.server.getLocalPort(), "PLAINTEXT", null,
                            System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1))),
                    ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);

            // The new broker is told the cluster's metadata, and never answers.
            Event first = silent.events.poll(60, TimeUnit.SECONDS);
            assertNotNull(first, "the controller never sent the new broker anything");
            assertEquals(ApiKey.UPDATE_METADATA, first.key());
            UpdateMetadataRequest sent = (UpdateMetadataRequest) first.body();

            // After controller.socket.timeout.ms the controller gives the connection up ...
            Event closed = silent.events.poll(20, TimeUnit.SECONDS);
            assertNotNull(closed, "the unanswered request's connection was still open 20 s later");
            assertEquals(first.connection(), closed.connection(), "nothing else was sent meanwhile: " + closed);
            assertEquals(null, closed.key(), "the connection ended");
            long gaveUpMs = TimeUnit.NANOSECONDS.toMillis(closed.atNanos() - first.atNanos());
            assertTrue(gaveUpMs >= TIMEOUT_MS - 100, "gave up " + gaveUpMs + " ms after the request");
            assertTrue(gaveUpMs < 10 * TIMEOUT_MS, "gave up " + gaveUpMs + " ms after the request, not after "
                    + "controller.socket.timeout.ms");

            // ... and sends the same request again on a new one.
            Event again = silent.events.poll(20, TimeUnit.SECONDS);
            assertNotNull(again, "the request was not sent again");
            assertEquals(ApiKey.UPDATE_METADATA, again.key());
            assertNotEquals(first.connection(), again.connection(), "sent again on a new connection");
            UpdateMetadataRequest resent = (UpdateMetadataRequest) again.body();
            assertEquals(sent.controllerEpoch, resent.controllerEpoch);
            assertEquals(sent.brokerEpoch, resent.brokerEpoch);
            assertEquals(brokerIds(sent), brokerIds(resent), "the same request");
            long resentMs = TimeUnit.NANOSECONDS.toMillis(again.atNanos() - closed.atNanos());
            assertTrue(resentMs < 10 * TIMEOUT_MS, "sent again " + resentMs + " ms after giving up");
        }
    }

    private static List<Integer> brokerIds(UpdateMetadataRequest request) {
        return request.liveBrokers.stream().map(b -> b.id).sorted().toList();
    }
}
