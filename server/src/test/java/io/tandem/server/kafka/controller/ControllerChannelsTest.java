package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestThreads;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.kafka.wire.message.UpdateMetadataResponse;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.ScriptedBroker;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The controller's channels to the brokers on real sockets, against a broker the test plays: as Kafka's
 * RequestSendThread, a request survives the broker's restart and one left unanswered goes again after
 * request.timeout.ms, in order; closing leaves no thread behind.
 */
@Timeout(120)
class ControllerChannelsTest {
    private static final int CONTROLLER = 1;
    private static final int BROKER = 2;
    private static final int REQUEST_TIMEOUT_MS = 1_500;

    private static ControllerChannels channels(String clientId) {
        return new ControllerChannels(CONTROLLER, (key, version, request) -> null, InterBrokerSecurity.PLAINTEXT,
                InterBrokerClient.Settings.kafkaBlocking(clientId, REQUEST_TIMEOUT_MS));
    }

    private static BrokerRegistration registration(ScriptedBroker broker) {
        return new BrokerRegistration(BROKER, "127.0.0.1", broker.port(), "PLAINTEXT", null, 0);
    }

    private static UpdateMetadataRequest updateMetadata(int epoch) {
        UpdateMetadataRequest request = new UpdateMetadataRequest();
        request.controllerId = CONTROLLER;
        request.controllerEpoch = epoch;
        return request;
    }

    private static CompletableFuture<ControllerTransport.Outcome> send(ControllerChannels channels, int epoch) {
        return channels.send(BROKER, ApiKey.UPDATE_METADATA, ControllerRequests.UPDATE_METADATA_VERSION,
                updateMetadata(epoch));
    }

    private static int epochOf(ScriptedBroker.Received received) {
        assertEquals(ApiKey.UPDATE_METADATA, received.key());
        return ((UpdateMetadataRequest) received.body()).controllerEpoch;
    }

    @Test
    void shouldDeliverARequestAcrossTheBrokersRestart() throws Exception {
        try (ScriptedBroker broker = new ScriptedBroker(); ControllerChannels channels = channels("restart")) {
            channels.update(List.of(registration(broker)));
            CompletableFuture<ControllerTransport.Outcome> first = send(channels, 1);
            Socket peer = broker.accept(30_000);
            ScriptedBroker.introduce(peer, ApiKey.UPDATE_METADATA);
            assertEquals(1, epochOf(ScriptedBroker.read(peer)));
            // The broker dies with the request unanswered, and stays down a while: the send thread keeps trying.
            broker.stop();
            CompletableFuture<ControllerTransport.Outcome> second = send(channels, 2);
            Thread.sleep(500);
            assertFalse(first.isDone());
            broker.restart();
            Socket again = broker.accept(30_000);
            ScriptedBroker.introduce(again, ApiKey.UPDATE_METADATA);
            // The same request again, on the new connection, and only then the next one.
            ScriptedBroker.Received resent = ScriptedBroker.read(again);
            assertEquals(1, epochOf(resent));
            ScriptedBroker.answer(again, resent, new UpdateMetadataResponse());
            ControllerTransport.Outcome outcome = first.get(10, TimeUnit.SECONDS);
            assertTrue(outcome.delivered());
            ScriptedBroker.Received next = ScriptedBroker.read(again);
            assertEquals(2, epochOf(next));
            ScriptedBroker.answer(again, next, new UpdateMetadataResponse());
            assertTrue(second.get(10, TimeUnit.SECONDS).delivered());
        }
    }

    @Test
    void shouldSendAgainOnANewConnectionAfterTheRequestTimeout() throws Exception {
        try (ScriptedBroker broker = new ScriptedBroker(); ControllerChannels channels = channels("timeout")) {
            channels.update(List.of(registration(broker)));
            // request.timeout.ms runs from the request's write, which comes after this.
            long sentAt = System.nanoTime();
            CompletableFuture<ControllerTransport.Outcome> answered = send(channels, 7);
            Socket hung = broker.accept(30_000);
            ScriptedBroker.introduce(hung, ApiKey.UPDATE_METADATA);
            assertEquals(7, epochOf(ScriptedBroker.read(hung)));
            // Never answered: after request.timeout.ms the connection is given up (the broker sees its end) ...
            assertEquals(-1, hung.getInputStream().read());
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
            assertTrue(waitedMs >= REQUEST_TIMEOUT_MS, "gave up " + waitedMs + " ms after the send");
            assertFalse(answered.isDone(), "a controller request is retried until the broker leaves");
            // ... and the request goes again on a new connection.
            Socket next = broker.accept(30_000);
            ScriptedBroker.introduce(next, ApiKey.UPDATE_METADATA);
            ScriptedBroker.Received resent = ScriptedBroker.read(next);
            assertEquals(7, epochOf(resent));
            ScriptedBroker.answer(next, resent, new UpdateMetadataResponse());
            assertTrue(answered.get(10, TimeUnit.SECONDS).delivered());
        }
    }

    @Test
    void shouldDropTheRequestsOfABrokerThatLeftAndLeaveNoThreadBehindAfterClose() throws Exception {
        try (ScriptedBroker broker = new ScriptedBroker()) {
            ControllerChannels channels = channels("counted-controller");
            channels.update(List.of(registration(broker)));
            CompletableFuture<ControllerTransport.Outcome> pending = send(channels, 3);
            Socket peer = broker.accept(30_000);
            ScriptedBroker.introduce(peer, ApiKey.UPDATE_METADATA);
            ScriptedBroker.read(peer);
            assertEquals(1, threads("kafka-controller-to-broker-" + BROKER), "the broker's send thread runs");
            assertTrue(threads("counted-controller-") >= 1, "the client's event loop runs");
            // The broker leaves: what it was sent is dropped, not retried for ever.
            channels.update(List.of());
            assertFalse(pending.get(10, TimeUnit.SECONDS).delivered());
            channels.close();
            assertTrue(channels.awaitClosed(10_000));
            assertTrue(TestThreads.noneNamed("kafka-controller-to-broker-" + BROKER));
            assertTrue(TestThreads.noneNamed("counted-controller-"));
        }
    }

    private static int threads(String prefix) {
        return TestThreads.named(prefix);
    }
}
