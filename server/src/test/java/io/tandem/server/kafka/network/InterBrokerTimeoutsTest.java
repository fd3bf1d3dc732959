package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.BrokerConfig;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short inter-broker timeouts set in the broker's configuration take effect on a real socket: a follower fetcher's
 * connection gives up a silent set-up after socket.connection.setup.timeout.ms, and a request without answer after
 * replica.socket.timeout.ms, far sooner than Kafka's defaults (10 s and 30 s).
 */
@Timeout(60)
class InterBrokerTimeoutsTest {
    @Test
    void shouldGiveUpAfterTheConfiguredSetupAndReplicaSocketTimeouts(@TempDir Path dir) throws Exception {
        InterBrokerTimeouts timeouts = BrokerConfig.from(TandemConfig.forTests(dir)
                .set("replica.socket.timeout.ms", "800").set("socket.connection.setup.timeout.ms", "400")
                .set("socket.connection.setup.timeout.max.ms", "400")).interBrokerTimeouts();
        try (ServerSocket broker = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             InterBrokerClient client = new InterBrokerClient(timeouts.replicaFetcher("fetcher"),
                     InterBrokerSecurity.PLAINTEXT)) {
            // A leader that accepts and never answers ApiVersions: the set-up is given up after 400 ms (no jitter
            // when the max is the base), not Kafka's default 10 s.
            CompletableFuture<ApiMessage> silent = lookup(client, broker.getLocalPort());
            try (Socket peer = broker.accept()) {
                long acceptedAt = System.nanoTime();
                peer.setSoTimeout(30_000);
                assertEquals(ApiKey.API_VERSIONS, ScriptedBroker.read(peer).key());
                assertEquals(-1, peer.getInputStream().read());
                long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptedAt);
                assertTrue(tookMs < 5_000, "set-up given up after " + tookMs + " ms");
            }
            ExecutionException setup = assertThrows(ExecutionException.class, () -> silent.get(10, TimeUnit.SECONDS));
            assertTrue(setup.getCause().getMessage().contains("connection setup"), setup.getCause().getMessage());

            // A leader that sets the connection up and never answers the request: given up after 800 ms.
            CompletableFuture<ApiMessage> unanswered = lookup(client, broker.getLocalPort());
            try (Socket peer = broker.accept()) {
                peer.setSoTimeout(30_000);
                ScriptedBroker.introduce(peer, ApiKey.FIND_COORDINATOR);
                ScriptedBroker.read(peer);
                long writtenAt = System.nanoTime();
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> unanswered.get(20, TimeUnit.SECONDS));
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - writtenAt);
                assertTrue(e.getCause().getMessage().contains("no answer within 800 ms"), e.getCause().getMessage());
                assertTrue(waitedMs < 10_000, "request given up after " + waitedMs + " ms");
            }
        }
    }

    private static CompletableFuture<ApiMessage> lookup(InterBrokerClient client, int port) {
        return client.send(1, InetSocketAddress.createUnresolved("127.0.0.1", port), ApiKey.FIND_COORDINATOR,
                (short) 0, new FindCoordinatorRequest().setKey("k"));
    }
}
