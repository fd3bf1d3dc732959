package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.FeatureZnode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.TopicId;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Brokers whose supported features do not cover what {@code /feature} finalizes, as Kafka 3.9 treats them: a Tandem
 * broker refuses to start (and never registers), as Kafka's FinalizedFeatureChangeListener.initOrThrow makes an
 * Apache broker exit; and the controller leaves a registered broker with incompatible features out of its live
 * brokers (Kafka's partitionOnFeatureCompatibility) - e.g. an Apache 3.9 broker, whose registration lists no
 * features, that skipped its own check (inter.broker.protocol.version before 2.7). Such a registration is written
 * here as that broker's would be, with a socket that accepts connections standing for its listener; a second one
 * listing Tandem's features shows the same registration is taken when compatible.
 */
class FeatureCompatibilityClusterTest {
    private static final long WAIT_MS = 30_000;

    @TempDir
    Path dir;
    private TandemCluster cluster;
    private ZkZnodeStore zk;
    private ServerSocket listener;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        cluster = TandemCluster.start(dir.resolve("cluster"), 1, c -> c);
        zk = ZkZnodeStore.connect(cluster.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(10));
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (zk.getData(KafkaZkLayout.FEATURE) == null) {
            assertTrue(System.currentTimeMillis() < deadline, "the controller never created " + KafkaZkLayout.FEATURE);
            Thread.sleep(50);
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (zk != null) zk.close();
        if (cluster != null) cluster.close();
        if (listener != null) listener.close();
        for (Socket s : accepted) s.close();
    }

    /** The cluster finalizes {@code levels} (as UpdateFeatures, or a newer broker's tooling, would write them). */
    private void finalize(Map<String, Short> levels) throws Exception {
        ZnodeStore.Versioned node = zk.getVersioned(KafkaZkLayout.FEATURE);
        assertTrue(zk.setDataIfVersion(KafkaZkLayout.FEATURE, FeatureZnode.enabled(levels).encode(), node.version()));
    }

    @Test
    void shouldRefuseToStartABrokerThatLacksAFinalizedFeature() throws Exception {
        finalize(Map.of("group.version", (short) 1));
        TandemConfig second = TandemConfig.forTests(dir.resolve("second")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("zookeeper.connect", cluster.zookeeperConnect()).set("broker.id", "2");
        Exception refused = assertThrows(Exception.class, () -> Tandem.start(second).close());
        String messages = messages(refused);
        assertTrue(messages.contains("{feature=group.version, reason='Unsupported feature'}"), messages);
        assertNull(zk.getData(KafkaZkLayout.brokerPath(2)), "a broker that cannot start never registers");
    }

    @Test
    void shouldLeaveABrokerWithIncompatibleFeaturesOutOfTheLiveBrokers() throws Exception {
        finalize(Map.of("transaction.version", (short) 2));
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                while (true) accepted.add(listener.accept());
            } catch (IOException closed) {
                // The test ended.
            }
        }, "fake-broker-listener");
        acceptor.setDaemon(true);
        acceptor.start();
        int port = listener.getLocalPort();
        // Broker 7 lists no features (an Apache 3.9 broker's registration); broker 8 lists Tandem's.
        assertTrue(zk.create(KafkaZkLayout.brokerPath(7), ("{\"features\":{},\"listener_security_protocol_map\":"
                + "{\"PLAINTEXT\":\"PLAINTEXT\"},\"endpoints\":[\"PLAINTEXT://127.0.0.1:" + port + "\"],\"jmx_port\":-1,"
                + "\"port\":" + port + ",\"host\":\"127.0.0.1\",\"version\":5,\"timestamp\":\""
                + System.currentTimeMillis() + "\"}").getBytes(StandardCharsets.UTF_8), true));
        assertTrue(zk.create(KafkaZkLayout.brokerPath(8), KafkaZkLayout.encodeBroker(new KafkaZkLayout.BrokerRegistration(
                8, "127.0.0.1", port, "PLAINTEXT", null, System.currentTimeMillis())), true));

        // Asked of broker 1 alone: a client would also ask broker 8, which never answers.
        try (OfficialClientConnection admin = new OfficialClientConnection(cluster.broker(1).kafkaPort())) {
            // The controller tells the brokers of broker 8, never of broker 7.
            long deadline = System.currentTimeMillis() + WAIT_MS;
            Set<Integer> nodes = liveNodes(admin);
            while (!nodes.contains(8)) {
                assertTrue(System.currentTimeMillis() < deadline, "broker 8 never became live: " + nodes);
                Thread.sleep(50);
                nodes = liveNodes(admin);
            }
            assertEquals(Set.of(1, 8), nodes, "the live brokers clients are told of");
        }
        // A topic on both, as an admin tool writes it (Kafka's CreateTopics does not check the brokers it names).
        TreeMap<Integer, List<Integer>> replicas = new TreeMap<>(Map.of(0, List.of(7, 1), 1, List.of(8, 1)));
        assertTrue(zk.create(KafkaZkLayout.topicPath("mixed"), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(TopicId.random(), replicas)), false));
        PartitionState ignored = awaitState("mixed", 0);
        PartitionState taken = awaitState("mixed", 1);
        assertEquals(8, taken.leader(), "a compatible registration is a live broker: " + taken);
        assertEquals(List.of(8, 1), taken.isr());
        assertEquals(1, ignored.leader(), "broker 7's registration is ignored: " + ignored);
        assertEquals(List.of(1), ignored.isr());
    }

    /** The brokers a Metadata answer lists. */
    private static Set<Integer> liveNodes(OfficialClientConnection connection) throws Exception {
        MetadataResponse metadata = connection.call(new MetadataRequest.Builder(new MetadataRequestData()
                .setTopics(List.of())).build((short) 1));
        Set<Integer> ids = new TreeSet<>();
        for (Node n : metadata.brokers()) ids.add(n.id());
        return ids;
    }

    private PartitionState awaitState(String topic, int partition) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            byte[] state = zk.getData(KafkaZkLayout.partitionStatePath(topic, partition));
            if (state != null) return KafkaZkLayout.decodePartitionState(state);
            assertTrue(System.currentTimeMillis() < deadline, "no state for " + topic + "-" + partition);
            Thread.sleep(50);
        }
    }

    private static String messages(Throwable error) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            all.append(t).append('\n');
        }
        return all.toString();
    }
}
