package io.tandem.server.junit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.fault.FaultController;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.client.KafkaNetworkException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/** {@code @TandemCluster(brokers = 3, zookeepers = 3)}: what it injects, per-node faults, a member stopped. */
@TandemCluster(brokers = 3, zookeepers = 3)
class TandemClusterAnnotationTest {
    @Test
    void shouldInjectConnectStringsTheClusterAndItsFaults(@TandemCluster.BootstrapServers String bootstrap,
                                                          @TandemCluster.ZooKeeperConnect String zookeeper,
                                                          io.tandem.server.TandemCluster cluster,
                                                          FaultController faults) throws Exception {
        assertEquals(3, bootstrap.split(",").length, bootstrap);
        assertEquals(3, zookeeper.split(",").length, zookeeper);
        assertEquals(cluster.zookeeperConnect(), zookeeper);
        assertEquals(cluster.faults(), faults);
        int leaders = 0;
        for (int id = 1; id <= 3; id++) if (cluster.zookeeperMode(id).equals("leader")) leaders++;
        assertEquals(1, leaders, "one ensemble leader");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            assertEquals(3, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
            admin.createTopics(List.of(new NewTopic("replicated", 1, (short) 3))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldInjectARuleOnOneZooKeeperMemberOnly(io.tandem.server.TandemCluster cluster, FaultController faults)
            throws Exception {
        try (ZooKeeper one = connect("127.0.0.1:" + cluster.zookeeper(1).zookeeperPort());
             ZooKeeper two = connect("127.0.0.1:" + cluster.zookeeper(2).zookeeperPort())) {
            one.create("/member-rule", "v".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            two.sync("/member-rule", (rc, path, ctx) -> { }, null);
            faults.zookeeper(OpCode.GET_DATA).on("zookeeper2").error(KeeperCode.OPERATION_TIMEOUT);
            assertArrayEquals("v".getBytes(), one.getData("/member-rule", false, null), "member 1 has no rule");
            assertThrows(KeeperException.OperationTimeoutException.class,
                    () -> two.getData("/member-rule", false, null));
        }
    }

    @Test
    void shouldHoldRequestsToAPausedBrokerOnly(io.tandem.server.TandemCluster cluster, FaultController faults)
            throws Exception {
        cluster.pause("broker2");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:" + cluster.broker(2).kafkaPort(), AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "60000"))) {
            CompletableFuture<Integer> nodes = CompletableFuture.supplyAsync(() -> {
                try {
                    return admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            assertFalse(nodes.isDone(), "the paused broker answered nothing");
            // A connection learns the broker's API versions first: broker1 answers, broker2 holds the request.
            try (KafkaConnection one = KafkaConnection.open(new InetSocketAddress("127.0.0.1",
                    cluster.broker(1).kafkaPort()), "test", Duration.ofSeconds(10), 1 << 20)) {
                assertTrue(one.isUsable(), "broker1 answers");
            }
            assertThrows(KafkaNetworkException.class, () -> KafkaConnection.open(new InetSocketAddress("127.0.0.1",
                    cluster.broker(2).kafkaPort()), "test", Duration.ofMillis(300), 1 << 20).close());
            cluster.resume("broker2");
            assertEquals(3, nodes.get(30, TimeUnit.SECONDS), "the held requests are answered once resumed");
        }
        assertThrows(IllegalArgumentException.class, () -> cluster.pause("broker9"));
        assertTrue(faults.pausedNodes().isEmpty());
        assertTrue(faults.rules().isEmpty(), "the previous test's rule was cleared: " + faults.rules());
    }

    @Test
    void shouldKeepServingWhileOneZooKeeperMemberIsStoppedAndRejoinItOnRestart(io.tandem.server.TandemCluster cluster)
            throws Exception {
        // A follower is stopped (a stopped leader makes every member drop its clients for the election), and the
        // client is connected to the members that keep running, so it never has to fail over mid-test.
        int stopped = 1;
        while (!cluster.zookeeperMode(stopped).equals("follower")) stopped++;
        List<String> running = new java.util.ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            if (id != stopped) running.add("127.0.0.1:" + cluster.zookeeper(id).zookeeperPort());
        }
        try (ZooKeeper zk = connect(String.join(",", running))) {
            zk.create("/survives", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            cluster.stopZookeeper(stopped);
            zk.setData("/survives", "2".getBytes(), -1);
            cluster.restartZookeeper(stopped);
            try (ZooKeeper rejoined = connect("127.0.0.1:" + cluster.zookeeper(stopped).zookeeperPort())) {
                rejoined.sync("/survives", (rc, path, ctx) -> { }, null);
                assertArrayEquals("2".getBytes(), rejoined.getData("/survives", false, null));
            }
        }
    }

    private static ZooKeeper connect(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(20, TimeUnit.SECONDS), "connected to " + connect);
        return zk;
    }
}
