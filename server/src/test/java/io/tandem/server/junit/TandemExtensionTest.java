package io.tandem.server.junit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TandemExtensionTest {
    @RegisterExtension
    static TandemExtension node = TandemExtension.configured(c -> c.roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));

    @Test
    void shouldInjectARunningNodeThatARealClientCanUse(Tandem tandem) throws Exception {
        assertTrue(tandem.zookeeperPort() > 0, "a free port was chosen");
        assertEquals(-1, tandem.kafkaPort(), "the Kafka role was left off");
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(tandem.zookeeperConnect(), 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            assertTrue(connected.await(10, TimeUnit.SECONDS));
            zk.create("/junit", "hello".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            assertArrayEquals("hello".getBytes(), zk.getData("/junit", false, null));
        } finally {
            zk.close();
        }
    }

    @Test
    void shouldHandTheSameNodeToTheRegisteredFieldAndToParameters(Tandem tandem) {
        assertEquals(node.tandem().zookeeperPort(), tandem.zookeeperPort());
    }
}
