package io.tandem.server.kafka.network;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BrokerChannelTest {
    /**
     * Every UpdateMetadata retargets each replica fetcher's channel to the leader's (usually unchanged) address. A
     * fetcher holds its channel for a whole long-poll fetch and takes it again at once, so a retarget that waited for
     * the channel held up the controller's event thread (when the controller is local) fetch after fetch: ISR
     * expansions after a broker restart took minutes with the offsets topic's 50 partitions.
     */
    @Test
    void shouldNotWaitForARequestInFlightWhenRetargetedToTheSameAddress() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = silent.getLocalPort();
            BrokerChannel channel = new BrokerChannel("127.0.0.1", port, "test", 10_000);
            CompletableFuture<Void> inFlight = CompletableFuture.runAsync(() -> {
                try {
                    channel.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
                } catch (IOException expected) {
                    // closed below
                }
            });
            try (Socket peer = silent.accept()) {
                // The request arrived: the sender now waits for an answer that never comes.
                int length = new DataInputStream(peer.getInputStream()).readInt();
                assertTrue(length > 0, "a request frame");
                CompletableFuture.runAsync(() -> channel.retarget("127.0.0.1", port)).get(2, TimeUnit.SECONDS);
            } finally {
                channel.close();
                inFlight.get(10, TimeUnit.SECONDS);
            }
        }
    }
}
