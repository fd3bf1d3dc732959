package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
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
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 2, SETTINGS);
        try (ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess three = ensemble.startApache(3)) {
            // Apache 3 leads 1 before Tandem starts: started together on a loaded machine, 1 and Tandem could
            // elect Tandem (sid 2) before 3 is up, and this test's first half is about Tandem following.
            assertTrue(ApacheQuorumProcess.await(() -> (one.mode() + three.mode()).equals("followerleader"),
                    ZkClients.TIMEOUT_MS), () -> "Apache 1 " + one.mode() + ", Apache 3 " + three.mode());
            try (TandemApacheModeProcess tandem = ensemble.startTandem(List.of(), SETTINGS);
                 ZkClients clients = new ZkClients()) {
                followThenLead(ensemble, one, three, tandem, clients);
            }
        }
    }

    private static void followThenLead(MixedEnsemble ensemble, ApacheQuorumProcess one, ApacheQuorumProcess three,
                                       TandemApacheModeProcess tandem, ZkClients clients) throws Exception {
        assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower")
                && (one.mode() + three.mode()).equals("followerleader"), ZkClients.TIMEOUT_MS),
                () -> "Tandem " + ensemble.tandemMode() + "\n" + tandem.logTail());
        ZooKeeper onTandem = clients.connect(ensemble.tandem);
        for (int i = 0; i < 20; i++) {
            onTandem.create("/t" + i, new byte[100 + i], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Map<String, String> following = logFigures(mntr(ensemble.tandem));
        assertEquals(logFigures(mntr(one.ports)).keySet(), following.keySet(), "following: Apache 1's keys");
        assertEquals(logFigures(mntr(three.ports)).keySet(), following.keySet(), "following: Apache 3's keys");
        long queued = Long.parseLong(following.get("zk_sync_processor_request_queued"));
        assertTrue(queued >= 21, "the session and the 20 creates logged: " + following);
        assertAddsUp(following);

        three.kill(); // Tandem (sid 2, the same history as 1) leads next
        assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("leader")
                && one.mode().equals("follower"), ZkClients.TIMEOUT_MS), tandem::logTail);
        ZooKeeper again = clients.connect(ensemble.tandem);
        for (int i = 0; i < 10; i++) {
            ZkClients.retryOnConnectionLoss(() -> again.create("/l", null, Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_SEQUENTIAL));
        }
        Map<String, String> leading = logFigures(mntr(ensemble.tandem));
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

    /** The mntr four-letter word's answer from {@code member}, or why there is none. */
    private static String mntr(Ports member) {
        return ApacheQuorumProcess.mntrAt(member.clientPort());
    }
}
