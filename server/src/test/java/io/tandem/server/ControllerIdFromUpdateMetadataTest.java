package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.DescribeClusterRequest;
import io.tandem.kafka.wire.message.DescribeClusterResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker's metadata cache learns the controller's id from the controller's UpdateMetadata only, as Kafka 3.9's
 * ZkMetadataCache.updateMetadata takes it from the request. A broker that has just won the election through
 * {@code /controller} but has not yet applied its own UpdateMetadata answers Metadata and DescribeCluster with the
 * previous controller, as an Apache broker does; once it has, it names itself. Tandem's cache used to take the id from
 * the broker's own election, so the answer named the new controller before the controller had told its brokers
 * anything (and before it had loaded the cluster's state).
 */
class ControllerIdFromUpdateMetadataTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    @TempDir
    Path dir;

    @Test
    void shouldNameThePreviousControllerUntilTheNewControllersOwnUpdateMetadata() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 2, UnaryOperator.identity())) {
            int previous = cluster.controllerId();
            int next = previous == 1 ? 2 : 1;
            KafkaBroker nextBroker = cluster.broker(next).kafkaBroker();
            InetSocketAddress nextAddress = new InetSocketAddress("127.0.0.1", cluster.broker(next).kafkaPort());
            try (KafkaConnection client = KafkaConnection.open(nextAddress, "controller-id-test", TIMEOUT, 1 << 20)) {
                awaitControllers(client, previous, "the first controller's UpdateMetadata reached the broker");

                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                List<ApiKey> heldRequests = new ArrayList<>();
                nextBroker.controllerLink().beforeLocalControllerRequestForTests(key -> {
                    synchronized (heldRequests) {
                        heldRequests.add(key);
                    }
                    held.countDown();
                    try {
                        release.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                // The stop returns once a controller is active again, which waits for the held request.
                Thread stopper = new Thread(() -> cluster.stopBroker(previous), "stop-previous-controller");
                stopper.start();
                try {
                    assertTrue(held.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                            "the next broker won the election and sent its first request to itself");
                    assertEquals(next, KafkaZkLayout.decodeControllerId(
                            nextBroker.metadata().store().getData(KafkaZkLayout.CONTROLLER)), "/controller names it");
                    assertFalse(nextBroker.controller().isActive(), "it has not loaded the cluster yet");
                    assertEquals(List.of(previous, previous), answeredControllers(client),
                            "Metadata and DescribeCluster before its own UpdateMetadata (held: " + heldRequests + ")");
                } finally {
                    release.countDown();
                    nextBroker.controllerLink().beforeLocalControllerRequestForTests(null);
                    stopper.join(TIMEOUT.toMillis());
                }
                assertFalse(stopper.isAlive(), "the stop finished once the held requests went on");
                awaitControllers(client, next, "after its own UpdateMetadata");
            }
        }
    }

    /** Asks until both answers name {@code controller} (the controller's requests travel on their own threads). */
    private static void awaitControllers(KafkaConnection client, int controller, String what) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        List<Integer> answered = answeredControllers(client);
        while (!answered.equals(List.of(controller, controller)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            answered = answeredControllers(client);
        }
        assertEquals(List.of(controller, controller), answered, what);
    }

    /** The controller id a Metadata answer and then a DescribeCluster answer of the broker name. */
    private static List<Integer> answeredControllers(KafkaConnection client) {
        MetadataResponse metadata = client.send(new MetadataRequest(), TIMEOUT);
        DescribeClusterResponse cluster = client.send(new DescribeClusterRequest(), TIMEOUT);
        return List.of(metadata.controllerId, cluster.controllerId);
    }
}
