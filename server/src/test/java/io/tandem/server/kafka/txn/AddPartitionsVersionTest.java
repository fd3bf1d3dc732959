package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which AddPartitionsToTxn version a partition leader asks another broker's transaction coordinator with, as Kafka's
 * AddPartitionsToTxnManager (its request builder's v4 to latest, chosen by the NetworkClient from the broker's
 * ApiVersions): the highest the coordinator serves, v4 for an Apache 3.5-3.9 coordinator; and a coordinator that
 * serves no v4 (an Apache broker before 3.5) is not asked at all: the verification is skipped and the append goes on
 * (Kafka's versionMismatch branch). The coordinator here is a raw socket that advertises what the test says.
 */
class AddPartitionsVersionTest {
    private static final TopicPartition TP = new TopicPartition("data", 0);

    @Test
    void aCoordinatorWithoutVersion4ShouldNotBeAskedAndTheAppendShouldGoOnUnverified() throws Exception {
        try (RawCoordinator coordinator = new RawCoordinator((short) 3);
             InterBrokerClient client = client()) {
            assertEquals(Map.of(TP, NONE), add(client, coordinator), "verification skipped");
            assertEquals(List.of("ApiVersions v3"), coordinator.received(), "only the handshake reached it");
        }
    }

    @Test
    void aKafka39CoordinatorShouldBeAskedAtVersion4() throws Exception {
        try (RawCoordinator coordinator = new RawCoordinator((short) 4);
             InterBrokerClient client = client()) {
            // The raw coordinator answers with no result for the transaction: NETWORK_EXCEPTION, retried by producers.
            assertEquals(Map.of(TP, NETWORK_EXCEPTION), add(client, coordinator));
            assertEquals(List.of("ApiVersions v3", "AddPartitionsToTxn v4"), coordinator.received());
        }
    }

    private static InterBrokerClient client() {
        return new InterBrokerClient(InterBrokerClient.Settings.kafka("test-txn-versions", 1, 10_000),
                InterBrokerSecurity.build("PLAINTEXT", "PLAINTEXT", Map.of()));
    }

    private static Map<TopicPartition, Short> add(InterBrokerClient client, RawCoordinator coordinator)
            throws Exception {
        AddPartitionsBatches batches = new AddPartitionsBatches((target, request) ->
                ImplicitPartitionAdder.sendToCoordinator(client, target, request));
        BrokerRegistration peer = new BrokerRegistration(1, "127.0.0.1", coordinator.port(), "PLAINTEXT", null, 0,
                List.of(new ListenerEndpoint("PLAINTEXT", "PLAINTEXT", "127.0.0.1", coordinator.port())));
        CompletableFuture<Map<TopicPartition, Short>> answer = new CompletableFuture<>();
        batches.add(1, peer, "t", 5, (short) 0, true, Set.of(TP), answer::complete);
        return answer.get(30, TimeUnit.SECONDS);
    }

    /**
     * A broker that answers ApiVersions with AddPartitionsToTxn up to {@code addPartitionsMax}, and an
     * AddPartitionsToTxn with an empty answer; it notes each request's key and version.
     */
    private static final class RawCoordinator implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0);
        private final List<String> received = Collections.synchronizedList(new ArrayList<>());
        private final Thread thread;

        RawCoordinator(short addPartitionsMax) throws IOException {
            thread = new Thread(() -> serve(addPartitionsMax), "raw-coordinator");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        List<String> received() {
            return List.copyOf(received);
        }

        private void serve(short addPartitionsMax) {
            try (Socket socket = server.accept()) {
                DataInputStream in = new DataInputStream(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                while (true) {
                    byte[] frame = new byte[in.readInt()];
                    in.readFully(frame);
                    ByteBuf request = Unpooled.wrappedBuffer(frame);
                    ApiKey key = ApiKey.forId(request.getShort(0));
                    short version = request.getShort(2);
                    int correlationId = request.getInt(4);
                    received.add(key.apiName() + " v" + version);
                    ByteBuf answer;
                    if (key == ApiKey.API_VERSIONS) {
                        ApiVersionsResponse response = new ApiVersionsResponse();
                        response.apiKeys.add(range(ApiKey.API_VERSIONS, (short) 3));
                        response.apiKeys.add(range(ApiKey.ADD_PARTITIONS_TO_TXN, addPartitionsMax));
                        answer = KafkaFrames.encodeResponse(ByteBufAllocator.DEFAULT, correlationId, key, version,
                                response);
                    } else if (key == ApiKey.ADD_PARTITIONS_TO_TXN) {
                        answer = KafkaFrames.encodeResponse(ByteBufAllocator.DEFAULT, correlationId, key, version,
                                new AddPartitionsToTxnResponse());
                    } else {
                        return;
                    }
                    byte[] bytes = new byte[answer.readableBytes()];
                    answer.readBytes(bytes);
                    answer.release();
                    out.write(bytes);
                    out.flush();
                }
            } catch (IOException e) {
                // The client closed the connection, or the test closed the server.
            }
        }

        private static ApiVersionsResponse.ApiVersion range(ApiKey key, short max) {
            ApiVersionsResponse.ApiVersion v = new ApiVersionsResponse.ApiVersion();
            v.apiKey = key.id();
            v.minVersion = 0;
            v.maxVersion = max;
            return v;
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(5_000);
        }
    }
}
