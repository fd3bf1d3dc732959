package io.tandem.server.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** {@code @TandemCluster(resetAfterEach = true)}: what the first test makes is gone when the second runs. */
@TandemCluster(brokers = 1, resetAfterEach = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TandemClusterResetAfterEachTest {
    @Test
    @Order(1)
    void firstMakesATopicAndAZnode(@TandemCluster.BootstrapServers String bootstrap,
                                   @TandemCluster.ZooKeeperConnect String zookeeper) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             ZooKeeper zk = connect(zookeeper)) {
            admin.createTopics(List.of(new NewTopic("left-behind", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            zk.create("/left-behind", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
    }

    @Test
    @Order(2)
    void secondFindsNeither(@TandemCluster.BootstrapServers String bootstrap,
                            @TandemCluster.ZooKeeperConnect String zookeeper) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             ZooKeeper zk = connect(zookeeper)) {
            assertEquals(Set.of(), admin.listTopics().names().get(30, TimeUnit.SECONDS));
            assertNull(zk.exists("/left-behind", false));
        }
    }

    private static ZooKeeper connect(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
        return zk;
    }
}
