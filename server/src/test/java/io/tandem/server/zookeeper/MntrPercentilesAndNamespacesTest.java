package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mntr's percentile lines of Apache's ADVANCED latency summaries and its per-namespace summary sets, on a standalone
 * server beside Apache 3.9.5's own: Tandem prints Apache's keys with Apache's kinds of value, the percentiles describe
 * the latencies it measured (ordered, within min and max, moved by a queue of writes), the per-namespace figures count
 * the bytes Apache's DataTree counts for each write and read, and the namespaces a client can create without end stop
 * at {@link NamespaceStats#NAMESPACES_MAX}.
 */
class MntrPercentilesAndNamespacesTest {
    private static final String[] PERCENTILES = {"p50", "p95", "p99", "p999"};

    @TempDir
    Path dir;

    private ZkServer start() throws Exception {
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", TestPorts.freePort(), dir.resolve("tandem"),
                Map.of("4lw.commands.whitelist", "mntr")::get);
        return ZkServer.start(config, StorageZkStore.open(dir.resolve("tandem")), null);
    }

    @Test
    void shouldPrintLatencyPercentilesAsApacheDoesAndMoveThemWithQueuedWrites() throws Exception {
        Map<String, ApacheMntrKeys.Kind> apache = ApacheMntrKeys.apacheStandalone(dir);
        for (String latency : List.of("readlatency", "updatelatency")) {
            for (String p : PERCENTILES) {
                assertEquals(ApacheMntrKeys.Kind.INTEGER, apache.get("zk_" + p + "_" + latency), "Apache's " + p);
            }
        }
        ZkServer server = start();
        try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port(), 30_000, null)) {
            Map<String, String> before = ApacheMntrKeys.mntr(server.port());
            assertEquals(List.of(), ApacheMntrKeys.notApaches(before, apache, Map.of()), before.toString());
            assertEquals(0, ApacheMntrKeys.number(before, "zk_p999_updatelatency"), "no write yet: " + before);
            // Thousands of writes in flight at once: the last wait behind the first, so the slowest take milliseconds.
            int writes = 4000;
            CountDownLatch done = new CountDownLatch(writes);
            for (int i = 0; i < writes; i++) {
                zk.create("/q" + i, new byte[100], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                        (rc, path, ctx, name) -> done.countDown(), null);
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            for (int i = 0; i < 50; i++) zk.getData("/q" + i, false, null);
            Map<String, String> after = ApacheMntrKeys.mntr(server.port());
            assertEquals(List.of(), ApacheMntrKeys.notApaches(after, apache, Map.of()), after.toString());
            for (String latency : List.of("readlatency", "updatelatency")) {
                long previous = ApacheMntrKeys.number(after, "zk_min_" + latency);
                for (String p : PERCENTILES) {
                    long value = ApacheMntrKeys.number(after, "zk_" + p + "_" + latency);
                    assertTrue(value >= previous, p + "_" + latency + " below the one before: " + after);
                    previous = value;
                }
                assertTrue(previous <= ApacheMntrKeys.number(after, "zk_max_" + latency), latency + ": " + after);
            }
            assertTrue(ApacheMntrKeys.number(after, "zk_p999_updatelatency") > 0,
                    "writes queued behind thousands of others waited: " + after);
        } finally {
            server.close();
        }
    }

    @Test
    void shouldCountEachNamespacesWrittenAndReadBytesAsApachesDataTree() throws Exception {
        Map<String, ApacheMntrKeys.Kind> apache = ApacheMntrKeys.apacheStandalone(dir);
        ZkServer server = start();
        try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port(), 30_000, null)) {
            Map<String, String> before = ApacheMntrKeys.mntr(server.port());
            assertTrue(before.keySet().stream().noneMatch(key -> key.contains("_app_")), before.toString());
            zk.create("/app", new byte[10], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);   // 4 + 10
            zk.create("/app/x", new byte[5], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);  // 6 + 5
            zk.setData("/app/x", new byte[7], -1);                                                 // 6 + 7
            zk.getData("/app/x", false, null);                                 // 6 + 7 + 68
            zk.exists("/app", false);                                          // 4 + 0 + 68
            zk.getChildren("/app", false);                                     // 4 + 1 + 68
            zk.exists("/app/none", false);                                     // no node: not counted
            zk.delete("/app/x", -1);                                                               // 6 + 0
            zk.create("/other", new byte[3], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT); // 6 + 3
            zk.getChildren("/", false);                                        // the root: no namespace
            Map<String, String> after = ApacheMntrKeys.mntr(server.port());
            assertEquals(List.of(), ApacheMntrKeys.notApaches(after, apache, Map.of()), after.toString());
            assertEquals(4, ApacheMntrKeys.number(after, "zk_cnt_app_write_per_namespace"), after.toString());
            assertEquals(14 + 11 + 13 + 6, ApacheMntrKeys.number(after, "zk_sum_app_write_per_namespace"));
            assertEquals(6, ApacheMntrKeys.number(after, "zk_min_app_write_per_namespace"));
            assertEquals(14, ApacheMntrKeys.number(after, "zk_max_app_write_per_namespace"));
            assertEquals(3, ApacheMntrKeys.number(after, "zk_cnt_app_read_per_namespace"));
            assertEquals(81 + 72 + 73, ApacheMntrKeys.number(after, "zk_sum_app_read_per_namespace"));
            assertEquals(9, ApacheMntrKeys.number(after, "zk_sum_other_write_per_namespace"));
            assertTrue(after.keySet().stream().noneMatch(key -> key.matches("zk_cnt__(write|read)_per_namespace")),
                    "the root counts nowhere: " + after.keySet());

            // A client making top-level znodes without end does not grow mntr without end.
            int namespaces = NamespaceStats.NAMESPACES_MAX + 20;
            for (int i = 0; i < namespaces; i++) {
                zk.create("/ns" + i, new byte[1], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.getData("/ns" + i, false, null);
            }
            zk.setData("/app", new byte[2], -1);
            Map<String, String> many = ApacheMntrKeys.mntr(server.port());
            assertEquals(NamespaceStats.NAMESPACES_MAX, many.keySet().stream()
                    .filter(key -> key.matches("zk_cnt_.+_write_per_namespace")).count(), many.keySet().toString());
            assertEquals(NamespaceStats.NAMESPACES_MAX, many.keySet().stream()
                    .filter(key -> key.matches("zk_cnt_.+_read_per_namespace")).count());
            assertEquals(1, ApacheMntrKeys.number(many, "zk_cnt_ns0_write_per_namespace"), "the first are kept");
            assertTrue(!many.containsKey("zk_cnt_ns" + (namespaces - 1) + "_write_per_namespace"));
            assertEquals(5, ApacheMntrKeys.number(many, "zk_cnt_app_write_per_namespace"),
                    "a tracked namespace still counts: " + many);
        } finally {
            server.close();
        }
    }
}
