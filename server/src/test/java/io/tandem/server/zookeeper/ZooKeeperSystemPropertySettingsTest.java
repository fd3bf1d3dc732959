package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings Apache reads from Java system properties reach Tandem the same way: Curator's own tests, for one, set
 * {@code znode.container.checkIntervalMs} as a system property before they start an embedded server and expect an
 * emptied container to go within seconds (the default check runs once a minute).
 */
class ZooKeeperSystemPropertySettingsTest {
    private static final String CHECK_INTERVAL = "znode.container.checkIntervalMs";

    @TempDir
    Path dir;

    @AfterEach
    void clearProperty() {
        System.clearProperty(CHECK_INTERVAL);
    }

    @Test
    void containerCheckIntervalShouldComeFromTheSystemPropertyAsInApache() throws Exception {
        System.setProperty(CHECK_INTERVAL, "50");
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect());
            try {
                zk.create("/c", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
                zk.create("/c/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.delete("/c/child", -1);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (zk.exists("/c", false) != null && System.nanoTime() < deadline) {
                    Thread.sleep(25);
                }
                assertNull(zk.exists("/c", false), "the emptied container outlived the 50 ms check by 10 s");
            } finally {
                zk.close();
            }
        }
    }

    @Test
    void aConfiguredValueShouldWinOverTheSystemProperty() {
        System.setProperty(CHECK_INTERVAL, "50");
        assertEquals("50", ZooKeeperConfigKeys.fromSystemProperty(CHECK_INTERVAL));
        TandemConfig config = TandemConfig.forTests(dir).set(CHECK_INTERVAL, "70");
        ZkServerConfig zk = ZkServerConfig.from("127.0.0.1", 0, dir,
                key -> config.get(key, ZooKeeperConfigKeys.fromSystemProperty(key)));
        assertEquals(70, zk.containerCheckIntervalMs());
    }
}
