package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Durability: after a restart (clean, or without the shutdown snapshot) the tree, its Stats and sessions are back. */
class ZooKeeperRestartTest {
    @TempDir
    Path dir;

    private ZkServer start(int port, int snapCount) throws Exception {
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", port, dir,
                Map.of("snapCount", String.valueOf(snapCount))::get);
        return ZkServer.start(config, StorageZkStore.open(dir), null);
    }

    private static void awaitState(ZkTestSupport.Events events,
                                   org.apache.zookeeper.Watcher.Event.KeeperState state) throws InterruptedException {
        while (events.next().getState() != state) {
            // skip the states in between
        }
    }

    @Test
    void shouldRecoverTreeStatsAndSessionFromLogAfterCrash() throws Exception {
        verifyRestart(1_000_000, true);
    }

    @Test
    void shouldRecoverFromSnapshotPlusLogTailAfterCrash() throws Exception {
        verifyRestart(7, true);
    }

    @Test
    void shouldRecoverFromShutdownSnapshot() throws Exception {
        verifyRestart(1_000_000, false);
    }

    private void verifyRestart(int snapCount, boolean crash) throws Exception {
        ZkServer server = start(TestPorts.freePort(), snapCount);
        int port = server.port();
        ZkTestSupport.Events states = new ZkTestSupport.Events();
        ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + port, 30_000, states);
        zk.create("/app", "root".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int i = 0; i < 5; i++) {
            zk.create("/app/seq-", new byte[] {(byte) i}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
        }
        zk.delete("/app/seq-0000000002", -1);
        zk.setData("/app", "changed".getBytes(), 0);
        zk.multi(List.of(Op.create("/app/m", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.setData("/app/m", new byte[] {9}, 0)));
        zk.create("/app/eph", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        zk.setACL("/app/m", ZooDefs.Ids.OPEN_ACL_UNSAFE, 0);
        Stat appBefore = zk.exists("/app", false);
        Stat mBefore = zk.exists("/app/m", false);
        List<String> childrenBefore = zk.getChildren("/app", false);
        long zxidBefore = server.lastProcessedZxid();
        long sessionId = zk.getSessionId();

        if (crash) {
            server.closeWithoutSnapshot();
        } else {
            server.close();
        }
        server = start(port, snapCount);
        try {
            awaitState(states, org.apache.zookeeper.Watcher.Event.KeeperState.Disconnected);
            awaitState(states, org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected);
            assertEquals(zxidBefore, server.lastProcessedZxid());
            // The same client re-attaches its session to the restarted server and still owns its ephemeral.
            Stat app = zk.exists("/app", false);
            assertEquals(appBefore, app);
            assertEquals(mBefore, zk.exists("/app/m", false));
            assertEquals(childrenBefore, zk.getChildren("/app", false));
            assertArrayEquals("changed".getBytes(), zk.getData("/app", false, null));
            assertEquals(sessionId, zk.getSessionId());
            Stat eph = zk.exists("/app/eph", false);
            assertNotNull(eph);
            assertEquals(sessionId, eph.getEphemeralOwner());
            Stat next = new Stat();
            zk.create("/app/after", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, next);
            assertTrue(next.getCzxid() > zxidBefore, "zxids continue after the restart");
            assertEquals("/app/seq-0000000008", // five sequentials, m, eph and after were created before
                    zk.create("/app/seq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        } finally {
            zk.close();
            server.close();
        }
    }
}
