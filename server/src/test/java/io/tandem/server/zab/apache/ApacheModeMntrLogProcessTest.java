package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ApacheQuorumProcess.mntr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: mntr's figures about the transaction log of a Tandem member in Apache mode, key by key beside Apache
 * ZooKeeper 3.9.5's in the same ensemble: {@code zk_sync_processor_request_queued} (transactions handed to the log),
 * the {@code sync_processor_batch_size} summary (transactions per flush) and the {@code fsynctime} summary (ms per
 * fsync), each summary as avg, min, max, cnt, sum. Following an Apache leader and then leading, Tandem reports the
 * same keys as the Apache members, and what it reports adds up: every transaction it logged was flushed in one batch.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheModeMntrLogProcessTest {
    private static final List<String> SETTINGS = List.of("4lw.commands.whitelist=srvr,mntr");

    @TempDir
    Path temp;

    @Test
    void tandemReportsApachesLogFiguresFollowingAndLeading() throws Exception {
        try (TandemFollowsThenLeads course = TandemFollowsThenLeads.start(temp, SETTINGS)) {
            followThenLead(course);
        }
    }

    private static void followThenLead(TandemFollowsThenLeads course) throws Exception {
        ApacheQuorumProcess one = course.one;
        ApacheQuorumProcess three = course.three;
        ZooKeeper onTandem = course.connectTandem();
        for (int i = 0; i < 20; i++) {
            onTandem.create("/t" + i, new byte[100 + i], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Map<String, String> following = logFigures(mntr(course.ensemble.tandem));
        assertEquals(logFigures(mntr(one.ports)).keySet(), following.keySet(), "following: Apache 1's keys");
        assertEquals(logFigures(mntr(three.ports)).keySet(), following.keySet(), "following: Apache 3's keys");
        long queued = Long.parseLong(following.get("zk_sync_processor_request_queued"));
        assertTrue(queued >= 21, "the session and the 20 creates logged: " + following);
        assertAddsUp(following);

        course.killLeaderAndAwaitTandemLeading();
        course.writeThroughTandem(10);
        Map<String, String> leading = logFigures(mntr(course.ensemble.tandem));
        assertEquals(logFigures(mntr(one.ports)).keySet(), leading.keySet(), "leading: Apache 1's keys");
        assertTrue(Long.parseLong(leading.get("zk_sync_processor_request_queued")) >= queued + 10,
                "the leader logs its own proposals: " + leading);
        assertAddsUp(leading);
    }

    /** Every transaction logged was made durable by a flush; each flush was an fsync. */
    private static void assertAddsUp(Map<String, String> figures) throws Exception {
        assertEquals(figures.get("zk_sync_processor_request_queued"),
                figures.get("zk_sum_sync_processor_batch_size"), figures.toString());
        assertEquals(figures.get("zk_cnt_sync_processor_batch_size"), figures.get("zk_cnt_fsynctime"),
                figures.toString());
        assertTrue(Long.parseLong(figures.get("zk_cnt_fsynctime")) >= 1, figures.toString());
        assertTrue(Long.parseLong(figures.get("zk_max_fsynctime"))
                >= Long.parseLong(figures.get("zk_min_fsynctime")), figures.toString());
    }

    /** mntr's lines about the log: the request count and the two summaries' five lines each. */
    private static Map<String, String> logFigures(String mntr) {
        Map<String, String> figures = new TreeMap<>();
        for (String line : mntr.split("\n")) {
            String[] kv = line.split("\t", 2);
            if (kv.length == 2 && (kv[0].equals("zk_sync_processor_request_queued")
                    || kv[0].endsWith("_fsynctime") || kv[0].endsWith("_sync_processor_batch_size"))) {
                figures.put(kv[0], kv[1].trim());
            }
        }
        return figures;
    }
}
