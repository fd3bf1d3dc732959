package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dead-process probe on real loopback sockets: a port nothing listens on refuses at once (a dead broker's host),
 * a bound {@link ServerSocket} answers (the kernel completes the handshake without an accept).
 */
class BrokerProcessProbeTest {
    private static final long WAIT_MS = 10_000;
    /** A registration far older than {@link BrokerProcessProbe#LISTENING_GRACE_MS}. */
    private static final long OLD_MS = 60_000;

    @Test
    void shouldReportTheFirstAnswerAsBackSoABrokerOutOnAnotherBrokersVerdictReturns() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        try (ServerSocket listening = listen(0);
             BrokerProcessProbe probe = new BrokerProcessProbe(7, endpoint(listening.getLocalPort()),
                     System.currentTimeMillis() - OLD_MS, recorder(events), "probe-test-7")) {
            probe.start();
            awaitEvent(events, "back 7");
            assertEquals(List.of("back 7"), events, "one back, no verdict of gone");
        }
    }

    @Test
    void shouldNotJudgeAControllerWhoseListenerIsNotBoundYetThoughItsRegistrationIsOld() throws Exception {
        int port = freePort();
        List<String> asBroker = new CopyOnWriteArrayList<>();
        List<String> asController = new CopyOnWriteArrayList<>();
        long registeredAtMs = System.currentTimeMillis() - OLD_MS;
        try (BrokerProcessProbe brokerProbe = new BrokerProcessProbe(3, endpoint(port), registeredAtMs,
                recorder(asBroker), "probe-test-broker-3");
             BrokerProcessProbe controllerProbe = BrokerProcessProbe.ofController(3, endpoint(port), registeredAtMs,
                     recorder(asController), "probe-test-controller-3")) {
            brokerProbe.start();
            controllerProbe.start();
            // The port refuses: a broker probe trusts an old registration's refusals (its process is gone) ...
            awaitEvent(asBroker, "gone 3");
            // ... a controller watch that never reached the controller does not: it may be binding its listener.
            Thread.sleep(1_000);
            assertTrue(asController.isEmpty(), "a controller still starting judged gone: " + asController);

            // The listener is bound: both report the controller back, and nothing is gone any more.
            try (ServerSocket listening = listen(port)) {
                awaitEvent(asController, "back 3");
                awaitEvent(asBroker, "back 3");
                assertEquals(List.of("back 3"), asController);
            }
        }
    }

    private static BrokerProcessProbe.Watcher recorder(List<String> events) {
        return BrokerProcessProbe.watcher(id -> events.add("gone " + id), id -> events.add("back " + id));
    }

    private static void awaitEvent(List<String> events, String event) throws InterruptedException {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (!events.contains(event)) {
            assertTrue(System.currentTimeMillis() < deadline, "never " + event + ": " + events);
            Thread.sleep(10);
        }
    }

    private static ListenerEndpoint endpoint(int port) {
        return new ListenerEndpoint("PLAINTEXT", "PLAINTEXT", "127.0.0.1", port);
    }

    private static ServerSocket listen(int port) throws Exception {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return socket;
    }

    /** A loopback port nothing listens on now: connecting to it is refused. */
    private static int freePort() throws Exception {
        try (ServerSocket socket = listen(0)) {
            return socket.getLocalPort();
        }
    }
}
