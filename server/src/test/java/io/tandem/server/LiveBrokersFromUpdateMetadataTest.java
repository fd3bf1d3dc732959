package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.DescribeClusterRequest;
import io.tandem.kafka.wire.message.DescribeClusterResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker's live brokers come from the controller's UpdateMetadata only, as Kafka 3.9's ZkMetadataCache: its
 * snapshot starts with no brokers and no controller, and only updateMetadata replaces them (never a read of
 * {@code /brokers/ids}, nor the controller writing its own broker's cache), so KafkaApis' Metadata and DescribeCluster
 * (getAliveBrokerNodes, getControllerId) answer no brokers and controller -1 until the first UpdateMetadata. Tandem's
 * broker used to read {@code /brokers/ids} into its cache when it registered, and its controller wrote its own
 * broker's list directly, so a new broker was listed before the controller had told anyone of it.
 */
class LiveBrokersFromUpdateMetadataTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    @TempDir
    Path dir;

    /** The brokers a Metadata answer and then a DescribeCluster answer list, with the controller each names. */
    private record Answers(List<Integer> metadataBrokers, int metadataController, List<Integer> clusterBrokers,
                           int clusterController) {
        static Answers of(List<Integer> brokers, int controller) {
            return new Answers(brokers, controller, brokers, controller);
        }
    }

    @Test
    void shouldAnswerNoBrokersAndNoControllerUntilTheControllersFirstUpdateMetadata() throws Exception {
        try (Tandem zookeeper = startZooKeeper();
             ZkZnodeStore store = connect(zookeeper)) {
            // A controller that never sends anything holds /controller, so the brokers register and wait for one.
            assertTrue(store.create(KafkaZkLayout.CONTROLLER,
                    KafkaZkLayout.encodeController(99, System.currentTimeMillis()), true));
            try (Tandem first = startBroker(zookeeper, 1);
                 Tandem second = startBroker(zookeeper, 2);
                 KafkaConnection toFirst = client(first);
                 KafkaConnection toSecond = client(second)) {
                assertEquals(List.of("1", "2"), store.getChildren(KafkaZkLayout.BROKER_IDS), "both registered");
                assertEquals(Answers.of(List.of(), -1), answers(toFirst), "no UpdateMetadata yet");
                assertEquals(Answers.of(List.of(), -1), answers(toSecond), "no UpdateMetadata yet");

                // The stand-in controller goes: a broker wins and its UpdateMetadata reaches every broker, itself too.
                store.deleteRecursive(KafkaZkLayout.CONTROLLER);
                int controller = awaitController(store);
                await(toFirst, Answers.of(List.of(1, 2), controller), "the new controller's UpdateMetadata");
                await(toSecond, Answers.of(List.of(1, 2), controller), "the new controller's UpdateMetadata");
            }
        }
    }

    @Test
    void shouldListAJoiningBrokerOnlyOnceTheControllersUpdateMetadataArrives() throws Exception {
        try (Tandem zookeeper = startZooKeeper();
             Tandem first = startBroker(zookeeper, 1);
             KafkaConnection toFirst = client(first)) {
            await(toFirst, Answers.of(List.of(1), 1), "broker 1 alone is the controller");

            // The controller's first UpdateMetadata to its own broker after broker 2 registers is held.
            AtomicBoolean armed = new AtomicBoolean(true);
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            first.kafkaBroker().controllerLink().beforeLocalControllerRequestForTests(key -> {
                if (key != ApiKey.UPDATE_METADATA || !armed.compareAndSet(true, false)) return;
                held.countDown();
                try {
                    release.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try (Tandem second = startBroker(zookeeper, 2);
                 KafkaConnection toSecond = client(second)) {
                try {
                    assertTrue(held.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                            "the controller saw broker 2 register and sent its own broker UpdateMetadata");
                    // The controller's event thread waits in that request: neither broker has heard of broker 2.
                    assertEquals(Answers.of(List.of(1), 1), answers(toFirst),
                            "the controller's broker before its own UpdateMetadata");
                    assertEquals(Answers.of(List.of(), -1), answers(toSecond),
                            "the new broker before any UpdateMetadata");
                } finally {
                    release.countDown();
                    first.kafkaBroker().controllerLink().beforeLocalControllerRequestForTests(null);
                }
                await(toFirst, Answers.of(List.of(1, 2), 1), "the controller's UpdateMetadata to its own broker");
                await(toSecond, Answers.of(List.of(1, 2), 1), "the controller's UpdateMetadata to the new broker");
            }
        }
    }

    private Tandem startZooKeeper() throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
    }

    private Tandem startBroker(Tandem zookeeper, int id) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("broker" + id))
                .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", Integer.toString(id))
                .set("zookeeper.connect", zookeeper.zookeeperConnect())
                // As TandemCluster's brokers: a broker closed after the controller's broker retries its controlled
                // shutdown after this, not after Kafka's default 5 s.
                .set("controlled.shutdown.retry.backoff.ms", "100"));
    }

    private static ZkZnodeStore connect(Tandem zookeeper) throws Exception {
        return ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), TIMEOUT);
    }

    private static KafkaConnection client(Tandem broker) throws Exception {
        return KafkaConnection.open(new InetSocketAddress("127.0.0.1", broker.kafkaPort()), "live-brokers-test",
                TIMEOUT, 1 << 20);
    }

    private static int awaitController(ZkZnodeStore store) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            byte[] data = store.getData(KafkaZkLayout.CONTROLLER);
            if (data != null) return KafkaZkLayout.decodeControllerId(data);
            assertTrue(System.nanoTime() < deadline, "no broker took /controller");
            Thread.sleep(20);
        }
    }

    /** Asks until the answers are {@code expected} (the controller's requests travel on their own threads). */
    private static void await(KafkaConnection client, Answers expected, String what) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        Answers answered = answers(client);
        while (!answered.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            answered = answers(client);
        }
        assertEquals(expected, answered, what);
    }

    private static Answers answers(KafkaConnection client) {
        MetadataResponse metadata = client.send(new MetadataRequest(), TIMEOUT);
        DescribeClusterResponse cluster = client.send(new DescribeClusterRequest(), TIMEOUT);
        List<Integer> metadataBrokers = new ArrayList<>();
        metadata.brokers.forEach(b -> metadataBrokers.add(b.nodeId));
        List<Integer> clusterBrokers = new ArrayList<>();
        cluster.brokers.forEach(b -> clusterBrokers.add(b.brokerId));
        metadataBrokers.sort(null);
        clusterBrokers.sort(null);
        return new Answers(metadataBrokers, metadata.controllerId, clusterBrokers, cluster.controllerId);
    }
}
