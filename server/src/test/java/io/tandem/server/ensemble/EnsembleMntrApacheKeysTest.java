package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zookeeper.ApacheMntrKeys;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: a Tandem-protocol ensemble member's mntr prints Apache 3.9.5's lines only (a leader also Apache's leader
 * lines), each with Apache's kind of value, and among them the figures of its Zab log that Apache's members report
 * ({@code sync_processor_request_queued}, the {@code fsynctime} and {@code sync_processor_batch_size} summaries),
 * counted on every member as it logs the proposals it acknowledges: before, only a member speaking Apache's quorum
 * protocol had them, and this one printed keys of Tandem's own.
 */
class EnsembleMntrApacheKeysTest {
    @TempDir
    Path dir;

    @Test
    void everyMemberPrintsApachesLinesAndItsLogFigures() throws Exception {
        Map<String, ApacheMntrKeys.Kind> apache = ApacheMntrKeys.apacheStandalone(dir.resolve("apache"));
        try (TestEnsemble ensemble = new TestEnsemble(dir.resolve("tandem"))) {
            ensemble.extraSettings.put("4lw.commands.whitelist", "srvr,mntr"); // srvr: how the ensemble is awaited
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            int writes = 8;
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 10_000, null)) {
                for (int i = 0; i < writes; i++) {
                    zk.create("/logged-" + i, new byte[20], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
            }
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                // A quorum acknowledged each write; wait until this member too has logged and fsynced them all.
                long deadline = System.nanoTime() + 30_000_000_000L;
                Map<String, String> mntr = ApacheMntrKeys.mntr(ensemble.clientPort(id));
                while ((ApacheMntrKeys.number(mntr, "zk_sync_processor_request_queued") < writes
                        || ApacheMntrKeys.number(mntr, "zk_sync_processor_request_queued")
                        != ApacheMntrKeys.number(mntr, "zk_sum_sync_processor_batch_size"))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                    mntr = ApacheMntrKeys.mntr(ensemble.clientPort(id));
                }
                String member = "member " + id + (id == leader ? " (leader)" : "") + ": " + mntr;
                assertEquals(List.of(), ApacheMntrKeys.notApaches(mntr, apache,
                        ApacheMntrKeys.ensembleLines(id == leader)), member);
                assertTrue(ApacheMntrKeys.number(mntr, "zk_sync_processor_request_queued") >= writes, member);
                // Only proposals reach the log: every one queued was made durable by a counted fsync.
                assertEquals(ApacheMntrKeys.number(mntr, "zk_sync_processor_request_queued"),
                        ApacheMntrKeys.number(mntr, "zk_sum_sync_processor_batch_size"), member);
                assertEquals(ApacheMntrKeys.number(mntr, "zk_cnt_fsynctime"),
                        ApacheMntrKeys.number(mntr, "zk_cnt_sync_processor_batch_size"), member);
                assertTrue(ApacheMntrKeys.number(mntr, "zk_cnt_fsynctime") >= 1, member);
            }
        }
    }
}
