package io.tandem.server;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import org.apache.kafka.admin.AdminUtils;
import org.apache.kafka.admin.BrokerMetadata;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.mutable.LongMap;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.RegisteredOnlyBrokers.register;
import static io.tandem.server.RegisteredOnlyBrokers.zooKeeper;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CreateTopics without an assignment places replicas as Kafka 3.9's ZooKeeper-mode broker does
 * (ZkAdminManager.createTopics: AdminUtils.assignReplicasToBrokers over the live brokers of its cache, in the cache's
 * order, with their racks, first leader and follower shift drawn at random) and refuses with its words. The broker's
 * draws are pinned with a seeded Random, Kafka's own AdminUtils (server-common 3.9.1, test scope) is seeded alike
 * and given the brokers as Kafka's cache (a Scala LongMap) lists them, and the assignment written to ZooKeeper must be
 * Kafka's. The other brokers are registered in ZooKeeper as Kafka registers one, without running.
 */
class CreateTopicsPlacementTest {
    private static final int SELF = 3;

    @TempDir
    Path dir;

    @Test
    void shouldPlaceNewTopicsAsKafkaAndRefuseWithItsWords() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("broker.id", Integer.toString(SELF))
                     .set("controlled.shutdown.enable", "false").set("num.partitions", "4")
                     .set("default.replication.factor", "2"));
             ZooKeeper zk = zooKeeper(tandem.zookeeperConnect());
             Admin admin = admin(tandem)) {
            Random pinned = new Random();
            tandem.kafkaBroker().metadata().placementRandom(() -> pinned);
            Map<Integer, String> brokers = new TreeMap<>(Map.of(SELF, ""));
            for (int id : List.of(1, 5, 6, 8, 0)) {
                register(zk, id, null);
                brokers.put(id, "");
            }
            awaitNodes(admin, brokers.size());

            long seed = 24;
            for (int[] counts : new int[][] {{7, 2}, {12, 3}, {1, 1}, {9, 6}, {-1, -1}, {6, -1}}) {
                String topic = "placed-" + seed;
                NewTopic request = new NewTopic(topic, counts[0] < 0 ? Optional.empty() : Optional.of(counts[0]),
                        counts[1] < 0 ? Optional.empty() : Optional.of((short) counts[1]));
                pinned.setSeed(seed);
                admin.createTopics(List.of(request)).all().get(60, TimeUnit.SECONDS);
                assertEquals(kafkasPlacement(brokers, counts[0] < 0 ? 4 : counts[0], counts[1] < 0 ? 2 : counts[1],
                        seed), storedAssignment(zk, topic), topic);
                seed++;
            }

            // Kafka's words, from its AdminUtils; validate-only answers the same. The counts are checked before the
            // name, as ZkAdminManager places the replicas before AdminZkClient validates the rest.
            String tooMany = refusal(brokers, 1, 7);
            assertEquals("Replication factor: 7 larger than available brokers: 6.", tooMany);
            for (boolean validateOnly : List.of(false, true)) {
                refused(admin, new NewTopic("wide", 1, (short) 7), validateOnly,
                        InvalidReplicationFactorException.class, tooMany);
                refused(admin, new NewTopic("no-partitions", 0, (short) 1), validateOnly,
                        InvalidPartitionsException.class, refusal(brokers, 0, 1));
                refused(admin, new NewTopic("bad name!", 0, (short) 1), validateOnly,
                        InvalidPartitionsException.class, "Number of partitions must be larger than 0.");
                refused(admin, new NewTopic("no-replicas", 1, (short) 0), validateOnly,
                        InvalidReplicationFactorException.class, refusal(brokers, 1, 0));
            }
            assertNull(zk.exists("/brokers/topics/wide", false), "a refused topic is not written");
        }
    }

    @Test
    void shouldPlaceRackAwareWhenEveryBrokerHasARackAndRefuseWhenOnlySomeDo() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).set("broker.id", Integer.toString(SELF))
                     .set("controlled.shutdown.enable", "false").set("broker.rack", "rack-a"));
             ZooKeeper zk = zooKeeper(tandem.zookeeperConnect());
             Admin admin = admin(tandem)) {
            // The broker registers its rack in /brokers/ids as Kafka does, and its cache has it from the controller.
            String self = new String(zk.getData("/brokers/ids/" + SELF, false, null), StandardCharsets.UTF_8);
            assertTrue(self.contains("\"rack\":\"rack-a\""), self);
            Random pinned = new Random();
            tandem.kafkaBroker().metadata().placementRandom(() -> pinned);
            Map<Integer, String> brokers = new TreeMap<>(Map.of(SELF, "rack-a", 1, "rack-a", 5, "rack-b", 6, "rack-b",
                    8, "rack-c", 11, "rack-b"));
            for (Map.Entry<Integer, String> b : brokers.entrySet()) {
                if (b.getKey() != SELF) register(zk, b.getKey(), b.getValue());
            }
            Collection<Node> nodes = awaitNodes(admin, brokers.size());
            for (Node node : nodes) assertEquals(brokers.get(node.id()), node.rack(), "rack of " + node.id());

            long seed = 240;
            for (int[] counts : new int[][] {{7, 3}, {13, 2}, {6, 6}, {2, 1}}) {
                String topic = "racked-" + seed;
                pinned.setSeed(seed);
                admin.createTopics(List.of(new NewTopic(topic, counts[0], (short) counts[1])))
                        .all().get(60, TimeUnit.SECONDS);
                assertEquals(kafkasPlacement(brokers, counts[0], counts[1], seed), storedAssignment(zk, topic), topic);
                seed++;
            }

            // One broker without a rack: Kafka's AdminOperationException, not an ApiException, so the topic is
            // answered UNKNOWN_SERVER_ERROR without a message (the client shows the code's own text).
            register(zk, 12, null);
            brokers.put(12, null);
            awaitNodes(admin, brokers.size());
            RuntimeException kafka = assertThrows(RuntimeException.class, () -> kafkasPlacement(brokers, 1, 1, 1));
            assertEquals("Not all brokers have rack information for replica rack aware assignment.",
                    kafka.getMessage());
            for (boolean validateOnly : List.of(false, true)) {
                refused(admin, new NewTopic("mixed", 1, (short) 1), validateOnly, UnknownServerException.class,
                        Errors.UNKNOWN_SERVER_ERROR.message());
            }
            assertNull(zk.exists("/brokers/topics/mixed", false), "a refused topic is not written");
        }
    }

    /**
     * Kafka's placement: its AdminUtils seeded as the broker's draws were, over the brokers (id to rack, "" for
     * none) in the order its cache's LongMap lists them, built as ZkMetadataCache builds it.
     */
    private static Map<Integer, List<Integer>> kafkasPlacement(Map<Integer, String> racks, int partitions,
                                                               int replicationFactor, long seed) throws Exception {
        LongMap<Object> cache = new LongMap<>(racks.size());
        for (int id : racks.keySet()) cache.update((long) id, (Object) id);
        List<BrokerMetadata> brokers = new ArrayList<>();
        scala.collection.Iterator<Object> ids = cache.values().iterator();
        while (ids.hasNext()) {
            int id = (Integer) ids.next();
            String rack = racks.get(id);
            brokers.add(new BrokerMetadata(id, rack == null || rack.isEmpty() ? Optional.empty() : Optional.of(rack)));
        }
        java.lang.reflect.Field field = AdminUtils.class.getDeclaredField("RAND");
        field.setAccessible(true);
        ((Random) field.get(null)).setSeed(seed);
        return new TreeMap<>(AdminUtils.assignReplicasToBrokers(brokers, partitions, replicationFactor));
    }

    /** The message Kafka's AdminUtils refuses these counts with over these brokers. */
    private static String refusal(Map<Integer, String> racks, int partitions, int replicationFactor) {
        return assertThrows(RuntimeException.class,
                () -> kafkasPlacement(racks, partitions, replicationFactor, 0)).getMessage();
    }

    private static void refused(Admin admin, NewTopic topic, boolean validateOnly,
                                Class<? extends Throwable> error, String message) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(topic),
                new CreateTopicsOptions().validateOnly(validateOnly)).all().get(60, TimeUnit.SECONDS));
        assertInstanceOf(error, e.getCause(), topic + " validateOnly " + validateOnly);
        assertEquals(message, e.getCause().getMessage(), topic + " validateOnly " + validateOnly);
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    /** Waits until the broker's cache (DescribeCluster answers from it) lists {@code count} brokers. */
    private static Collection<Node> awaitNodes(Admin admin, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            if (nodes.size() == count) return nodes;
            assertTrue(System.nanoTime() < deadline, "brokers in the cache: " + nodes);
            Thread.sleep(50);
        }
    }

    private static Map<Integer, List<Integer>> storedAssignment(ZooKeeper zk, String topic) throws Exception {
        return KafkaZkLayout.decodeTopicAssignment(zk.getData("/brokers/topics/" + topic, false, null)).replicas();
    }
}
