package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.MetadataWait;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TandemClusterTest {
    @TempDir
    Path dir;

    @Test
    void shouldStartBrokersOneToNOnTheirOwnPortsRegisteredInOneZooKeeper() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3, UnaryOperator.identity())) {
            assertEquals(3, cluster.size());
            List<Integer> ports = new ArrayList<>();
            for (int id = 1; id <= 3; id++) ports.add(cluster.broker(id).kafkaPort());
            assertEquals(3, Set.copyOf(ports).size(), "each broker has a port of its own: " + ports);
            assertEquals(ports.stream().map(p -> "127.0.0.1:" + p).toList(),
                    Arrays.stream(cluster.bootstrapServers().split(",")).toList(), "brokers 1, 2, 3 in id order");
            assertEquals(List.of("1", "2", "3"), registeredBrokers(cluster));
            assertEquals(1, cluster.controllerId(), "the first broker started is the controller");
            assertTrue(Files.isDirectory(dir.resolve("broker2")), "broker 2 keeps its data in broker2/");
        }
    }

    @Test
    void shouldRestartAStoppedBrokerOnItsPortAndMoveTheControllerWhenItStops() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3, UnaryOperator.identity())) {
            int port = cluster.broker(1).kafkaPort();
            cluster.stopBroker(1);
            assertFalse(cluster.isRunning(1));
            assertThrows(IllegalStateException.class, () -> cluster.broker(1));
            assertEquals(List.of("2", "3"), registeredBrokers(cluster));
            int controller = cluster.controllerId();
            assertTrue(controller == 2 || controller == 3, "a running broker took over as controller: " + controller);
            assertTrue(cluster.bootstrapServers().contains("127.0.0.1:" + port), "a stopped broker stays listed");
            assertEquals("127.0.0.1:" + cluster.broker(2).kafkaPort() + ",127.0.0.1:" + cluster.broker(3).kafkaPort(),
                    cluster.runningBootstrapServers(), "only the running brokers");

            cluster.restartBroker(1);
            assertEquals(port, cluster.broker(1).kafkaPort(), "back on the port clients know");
            assertEquals(List.of("1", "2", "3"), registeredBrokers(cluster));
            assertEquals(cluster.bootstrapServers(), cluster.runningBootstrapServers());
            assertNotEquals(1, cluster.controllerId(), "the controller stays where it moved");
            assertThrows(IllegalStateException.class, () -> cluster.restartBroker(1));
        }
    }

    @Test
    void shouldReplicateNewTopicsToMinOfSizeAndThreeUnlessTheCustomizerSaysOtherwise() throws Exception {
        try (TandemCluster two = TandemCluster.start(dir.resolve("two"), 2, UnaryOperator.identity())) {
            assertEquals(2, replicasOfNewTopic(two), "default.replication.factor is min(2, 3)");
        }
        try (TandemCluster one = TandemCluster.start(dir.resolve("custom"), 2,
                c -> c.set("default.replication.factor", "1"))) {
            assertEquals(1, replicasOfNewTopic(one), "the customizer's key wins");
        }
    }

    @Test
    void shouldRunWhatComesBeforeTheBrokersOnceZooKeeperServesAndBeforeAnyBrokerRegisters() throws Exception {
        List<String> seen = new ArrayList<>();
        try (TandemCluster cluster = TandemCluster.start(2, UnaryOperator.identity(), zookeeperConnect -> {
            try (ZooKeeper zk = connect(zookeeperConnect)) {
                seen.add(zookeeperConnect);
                seen.add(zk.exists("/brokers", false) == null ? "no brokers yet" : "brokers already there");
                zk.create("/seeded", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        })) {
            assertEquals(List.of(cluster.zookeeperConnect(), "no brokers yet"), seen);
            assertEquals(List.of("1", "2"), registeredBrokers(cluster));
            try (ZooKeeper zk = connect(cluster.zookeeperConnect())) {
                assertTrue(zk.exists("/seeded", false).getCzxid() < zk.exists("/brokers/ids/1", false).getCzxid(),
                        "written before broker 1 registered");
            }
        }
    }

    @Test
    void shouldCloseZooKeeperWhenWhatComesBeforeTheBrokersFails() throws Exception {
        List<String> connect = new ArrayList<>();
        IOException e = assertThrows(IOException.class, () -> TandemCluster.start(1, UnaryOperator.identity(),
                zookeeperConnect -> {
                    connect.add(zookeeperConnect);
                    throw new KeeperException.NodeExistsException("/seeded");
                }));
        assertInstanceOf(KeeperException.NodeExistsException.class, e.getCause());
        int port = Integer.parseInt(connect.get(0).substring(connect.get(0).lastIndexOf(':') + 1));
        assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close(),
                "ZooKeeper was closed");
    }

    @Test
    void shouldDeleteTheTemporaryDirectoryItMadeOnClose() throws Exception {
        Path made;
        try (TandemCluster cluster = TandemCluster.start(1)) {
            made = cluster.dataDir();
            assertTrue(Files.isDirectory(made));
        }
        assertFalse(Files.exists(made), made + " was deleted");
    }

    @Test
    void shouldRefuseAClusterWithoutBrokersAndUnknownBrokerIds() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> TandemCluster.start(dir, 0, UnaryOperator.identity()));
        try (TandemCluster cluster = TandemCluster.start(dir, 1, UnaryOperator.identity())) {
            assertThrows(IllegalArgumentException.class, () -> cluster.broker(0));
            assertThrows(IllegalArgumentException.class, () -> cluster.stopBroker(2));
        }
    }

    private static int replicasOfNewTopic(TandemCluster cluster) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("t", Optional.of(1), Optional.empty())))
                    .all().get(30, TimeUnit.SECONDS);
            MetadataWait.propagated(cluster, "t", 1);
            return admin.describeTopics(List.of("t")).allTopicNames().get(30, TimeUnit.SECONDS).get("t")
                    .partitions().get(0).replicas().size();
        }
    }

    private static List<String> registeredBrokers(TandemCluster cluster) throws Exception {
        try (ZooKeeper zk = connect(cluster.zookeeperConnect())) {
            return zk.getChildren("/brokers/ids", false).stream().sorted().toList();
        }
    }

    private static ZooKeeper connect(String zookeeperConnect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(zookeeperConnect, 10_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("no ZooKeeper session with " + zookeeperConnect);
        }
        return zk;
    }
}
