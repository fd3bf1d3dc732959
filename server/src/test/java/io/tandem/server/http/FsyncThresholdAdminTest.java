package io.tandem.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.zookeeper.ApacheMntrKeys;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AdminServer's {@code server_stats.fsync_threshold_exceed_count}, as Apache 3.9's ServerStats counts it: the log
 * fsyncs that took longer than {@code fsync.warningthresholdms} (Apache's FileTxnLog.commit). With a threshold no fsync
 * can stay under, every fsync mntr counts in {@code fsynctime} is counted; with Apache's default of a second, a quick
 * disk counts none.
 */
class FsyncThresholdAdminTest {
    @TempDir
    Path dir;

    private static Tandem start(Path dir, Map<String, String> settings) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("admin.serverPort", "0").set("4lw.commands.whitelist", "mntr");
        settings.forEach(config::set);
        return Tandem.start(config);
    }

    private static void write(Tandem tandem, int count) throws Exception {
        try (ZooKeeper zk = new ZooKeeper(tandem.zookeeperConnect(), 10_000, event -> { })) {
            for (int i = 0; i < count; i++) {
                zk.create("/f" + i, new byte[8], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
    }

    @Test
    void shouldCountTheFsyncsLongerThanTheWarningThreshold() throws Exception {
        try (Tandem tandem = start(dir.resolve("every"), Map.of("fsync.warningthresholdms", "-1"))) {
            write(tandem, 3);
            JsonNode stats = AdminHttp.command(tandem.adminPort(), "srvr").get("server_stats");
            long fsyncs = ApacheMntrKeys.number(ApacheMntrKeys.mntr(tandem.zookeeperPort()), "zk_cnt_fsynctime");
            assertTrue(fsyncs >= 1, "the writes were fsynced");
            assertEquals(fsyncs, stats.get("fsync_threshold_exceed_count").asLong(), stats.toString());
        }
        try (Tandem tandem = start(dir.resolve("default"), Map.of())) {
            write(tandem, 3);
            JsonNode stats = AdminHttp.command(tandem.adminPort(), "srvr").get("server_stats");
            assertTrue(stats.get("fsync_threshold_exceed_count").isIntegralNumber(), stats.toString());
            long slow = ApacheMntrKeys.number(ApacheMntrKeys.mntr(tandem.zookeeperPort()), "zk_max_fsynctime") > 1000
                    ? 1 : 0;
            assertTrue(stats.get("fsync_threshold_exceed_count").asLong() >= slow, stats.toString());
        }
    }
}
