package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone server's mntr beside Apache ZooKeeper 3.9.5's: every line Tandem prints is one of Apache's, with the
 * same kind of value (Apache prints some 490 lines; Tandem prints those it measures and leaves the rest out), and
 * the figures of the log, the snapshots, the start-up load and the latencies change when that work happens: each
 * request passes the log's stage, writes are made durable in fsynced batches, snapshots are timed, and a restart
 * times its snapshot load and counts the transactions it replays.
 */
class MntrApacheKeysTest {
    private static final int SNAP_COUNT = 10;

    @TempDir
    Path dir;

    private ZkServer start() throws Exception {
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", TestPorts.freePort(), dir.resolve("tandem"),
                Map.of("snapCount", Integer.toString(SNAP_COUNT), "4lw.commands.whitelist", "mntr")::get);
        return ZkServer.start(config, StorageZkStore.open(dir.resolve("tandem")), null);
    }

    @Test
    void shouldPrintOnlyApachesLinesAndCountTheWorkTheyName() throws Exception {
        Map<String, ApacheMntrKeys.Kind> apache = ApacheMntrKeys.apacheStandalone(dir);
        ZkServer server = start();
        try {
            Map<String, String> before = ApacheMntrKeys.mntr(server.port());
            assertEquals(List.of(), ApacheMntrKeys.notApaches(before, apache, Map.of()), before.toString());
            for (String key : List.of("zk_sync_processor_request_queued", "zk_cnt_fsynctime",
                    "zk_sum_sync_processor_batch_size", "zk_cnt_snapshottime", "zk_cnt_startup_snap_load_time",
                    "zk_cnt_dbinittime", "zk_cnt_readlatency", "zk_cnt_updatelatency")) {
                assertTrue(before.containsKey(key), "mntr lacks " + key + ": " + before.keySet());
            }
            assertEquals(1, ApacheMntrKeys.number(before, "zk_cnt_startup_snap_load_time"), "one start-up load");
            assertEquals(1, ApacheMntrKeys.number(before, "zk_cnt_dbinittime"));
            assertEquals(0, ApacheMntrKeys.number(before, "zk_cnt_startup_txns_loaded"), "an empty log replays none");

            int writes = SNAP_COUNT + 2;
            int reads = 5;
            try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port(), 30_000, null)) {
                for (int i = 0; i < writes; i++) {
                    zk.create("/w" + i, new byte[10], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
                for (int i = 0; i < reads; i++) zk.getData("/w0", false, null);
            }
            // The background snapshot due after snapCount transactions is written on its own thread.
            long deadline = System.nanoTime() + 30_000_000_000L;
            Map<String, String> after = ApacheMntrKeys.mntr(server.port());
            while (ApacheMntrKeys.number(after, "zk_cnt_snapshottime") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                after = ApacheMntrKeys.mntr(server.port());
            }
            assertEquals(List.of(), ApacheMntrKeys.notApaches(after, apache, Map.of()), after.toString());
            String figures = after.toString();
            // Every request passes the log's stage: session, writes, reads and the close.
            assertTrue(delta(before, after, "zk_sync_processor_request_queued") >= writes + reads + 2, figures);
            // The session's creation, the writes and its close are the transactions made durable, in batches.
            assertTrue(delta(before, after, "zk_sum_sync_processor_batch_size") >= writes + 2, figures);
            assertTrue(delta(before, after, "zk_cnt_fsynctime") >= 1, figures);
            assertEquals(ApacheMntrKeys.number(after, "zk_cnt_fsynctime"),
                    ApacheMntrKeys.number(after, "zk_cnt_sync_processor_batch_size"), "one fsync per batch: " + figures);
            assertTrue(ApacheMntrKeys.number(after, "zk_max_sync_processor_batch_size") >= 1, figures);
            assertTrue(delta(before, after, "zk_cnt_updatelatency") >= writes, figures);
            assertTrue(delta(before, after, "zk_cnt_readlatency") >= reads, figures);
            assertTrue(ApacheMntrKeys.number(after, "zk_cnt_snapshottime") >= 1, "the background snapshot: " + figures);

            // Transactions after the newest snapshot, then a stop that writes none: the restart replays them.
            try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port(), 30_000, null)) {
                for (int i = 0; i < 3; i++) {
                    zk.create("/tail" + i, new byte[1], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
            }
        } finally {
            server.closeWithoutSnapshot();
        }
        server = start();
        try {
            Map<String, String> restarted = ApacheMntrKeys.mntr(server.port());
            assertEquals(List.of(), ApacheMntrKeys.notApaches(restarted, apache, Map.of()), restarted.toString());
            assertEquals(1, ApacheMntrKeys.number(restarted, "zk_cnt_startup_txns_loaded"), restarted.toString());
            assertTrue(ApacheMntrKeys.number(restarted, "zk_sum_startup_txns_loaded") >= 3 + 2,
                    "the session, the three creates and the close were replayed: " + restarted);
            assertEquals(1, ApacheMntrKeys.number(restarted, "zk_cnt_startup_txns_load_time"));
            assertEquals(1, ApacheMntrKeys.number(restarted, "zk_cnt_dbinittime"));
            assertTrue(ApacheMntrKeys.number(restarted, "zk_sum_dbinittime")
                    >= ApacheMntrKeys.number(restarted, "zk_sum_startup_snap_load_time"), restarted.toString());
        } finally {
            server.close();
        }
    }

    private static long delta(Map<String, String> before, Map<String, String> after, String key) {
        return ApacheMntrKeys.number(after, key) - ApacheMntrKeys.number(before, key);
    }
}
