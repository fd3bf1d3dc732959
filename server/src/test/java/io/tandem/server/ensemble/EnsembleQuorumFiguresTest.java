package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zookeeper.ApacheMntrKeys;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Tandem-protocol ensemble member's mntr carries Apache 3.9.5's quorum figures, each with Apache's kind of value
 * and each moved by the event it names: {@code quorum_size} (the members in the view), {@code looking_count} and the
 * {@code election_time} summary (an election at start, another when the leader goes), the leader's
 * {@code proposal_count} and {@code commit_count}, the followers' {@code learner_proposal_received_count} and
 * {@code learner_commit_received_count} (one per write each), the syncs ({@code diff_count} and {@code snap_count} on
 * the leader, one per learner it synced; the {@code follower_sync_time} summary on each follower), and the start-up
 * load ({@code startup_snap_load_time}, {@code dbinittime}) once per start.
 */
class EnsembleQuorumFiguresTest {
    @TempDir
    Path dir;

    @Test
    void shouldCountElectionsProposalsAndCommitsWhereTheyHappen() throws Exception {
        Map<String, ApacheMntrKeys.Kind> apache = ApacheMntrKeys.apacheStandalone(dir.resolve("apache"));
        for (String key : List.of("zk_quorum_size", "zk_looking_count", "zk_cnt_election_time", "zk_proposal_count",
                "zk_commit_count", "zk_learner_proposal_received_count", "zk_learner_commit_received_count",
                "zk_diff_count", "zk_snap_count", "zk_cnt_follower_sync_time")) {
            // Apache's ServerMetrics are global, so even its standalone server prints them; quorum_size is a
            // QuorumZooKeeperServer gauge a standalone server has not.
            if (!key.equals("zk_quorum_size")) {
                assertEquals(ApacheMntrKeys.Kind.INTEGER, apache.get(key), key + " in Apache's mntr");
            }
        }
        try (TestEnsemble ensemble = new TestEnsemble(dir.resolve("tandem"))) {
            ensemble.extraSettings.put("4lw.commands.whitelist", "srvr,mntr");
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            int writes = 20;
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 10_000, null)) {
                for (int i = 0; i < writes; i++) {
                    zk.create("/q" + i, new byte[8], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
            }
            Map<Integer, Map<String, String>> before = new HashMap<>();
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                boolean leads = id == leader;
                String counter = leads ? "zk_commit_count" : "zk_learner_commit_received_count";
                Map<String, String> mntr = awaitAtLeast(ensemble.clientPort(id), counter, writes);
                String member = "member " + id + (leads ? " (leader)" : "") + ": " + mntr;
                assertEquals(List.of(), ApacheMntrKeys.notApaches(mntr, apache, ApacheMntrKeys.ensembleLines(leads)), member);
                assertEquals(TestEnsemble.SIZE, ApacheMntrKeys.number(mntr, "zk_quorum_size"), member);
                assertTrue(ApacheMntrKeys.number(mntr, "zk_looking_count") >= 1, "it started looking: " + member);
                assertTrue(ApacheMntrKeys.number(mntr, "zk_cnt_election_time") >= 1, "an election ended: " + member);
                // Its start-up load: Zab's files opened and its (here empty) snapshot read, no log replayed locally.
                assertEquals(1, ApacheMntrKeys.number(mntr, "zk_cnt_startup_snap_load_time"), member);
                assertEquals(1, ApacheMntrKeys.number(mntr, "zk_cnt_dbinittime"), member);
                assertEquals(0, ApacheMntrKeys.number(mntr, "zk_cnt_startup_txns_loaded"), member);
                // Tandem's protocol has no learner master: its figures are printed, as Apache's global ones are, at 0.
                assertEquals(0, ApacheMntrKeys.number(mntr, "zk_cnt_om_proposal_process_time_ms")
                        + ApacheMntrKeys.number(mntr, "zk_cnt_om_commit_process_time_ms"), member);
                if (leads) {
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_proposal_count") >= writes, member);
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_commit_count") >= writes, member);
                    // Apache's quorum latencies, from each transaction's header time: one per commit on a leader.
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_cnt_quorum_ack_latency") >= writes, member);
                    assertEquals(0, ApacheMntrKeys.number(mntr, "zk_cnt_proposal_latency"), member);
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_diff_count")
                            + ApacheMntrKeys.number(mntr, "zk_snap_count") >= TestEnsemble.SIZE - 1,
                            "it synced each follower: " + member);
                } else {
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_cnt_follower_sync_time") >= 1, "it synced: " + member);
                    assertEquals(0, ApacheMntrKeys.number(mntr, "zk_diff_count")
                            + ApacheMntrKeys.number(mntr, "zk_snap_count"), "it synced nobody: " + member);
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_learner_proposal_received_count") >= writes, member);
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_learner_commit_received_count") >= writes, member);
                    assertEquals(0, ApacheMntrKeys.number(mntr, "zk_proposal_count"), "a follower proposes nothing");
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_cnt_proposal_latency") >= writes, member);
                    assertTrue(ApacheMntrKeys.number(mntr, "zk_cnt_commit_propagation_latency") >= writes, member);
                    assertEquals(0, ApacheMntrKeys.number(mntr, "zk_cnt_quorum_ack_latency"), member);
                }
                before.put(id, mntr);
            }

            // The leader goes: the others look again, elect, and the new leader proposes and commits.
            ensemble.stop(leader);
            int next = ensemble.awaitServing(60_000);
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(next), 10_000, null)) {
                zk.create("/after", new byte[1], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            Map<String, String> now = awaitAtLeast(ensemble.clientPort(next), "zk_commit_count", 1);
            Map<String, String> then = before.get(next);
            String figures = "new leader " + next + " before: " + then + "\nafter: " + now;
            assertTrue(ApacheMntrKeys.number(now, "zk_looking_count")
                    > ApacheMntrKeys.number(then, "zk_looking_count"), figures);
            assertTrue(ApacheMntrKeys.number(now, "zk_cnt_election_time")
                    > ApacheMntrKeys.number(then, "zk_cnt_election_time"), figures);
            assertTrue(ApacheMntrKeys.number(now, "zk_proposal_count") >= 1, figures);
            assertTrue(ApacheMntrKeys.number(now, "zk_diff_count") + ApacheMntrKeys.number(now, "zk_snap_count") >= 1,
                    "the new leader synced the remaining follower: " + figures);
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                if (id == leader || id == next) continue;
                Map<String, String> follower = awaitAtLeast(ensemble.clientPort(id), "zk_cnt_follower_sync_time",
                        ApacheMntrKeys.number(before.get(id), "zk_cnt_follower_sync_time") + 1);
                assertTrue(ApacheMntrKeys.number(follower, "zk_cnt_follower_sync_time")
                        > ApacheMntrKeys.number(before.get(id), "zk_cnt_follower_sync_time"),
                        "member " + id + " synced with the new leader: " + follower);
            }
        }
    }

    /** Polls the member's mntr until {@code key} reaches {@code floor} (30 s at most), and answers it. */
    private static Map<String, String> awaitAtLeast(int clientPort, String key, long floor) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        Map<String, String> mntr = ApacheMntrKeys.mntr(clientPort);
        while ((!mntr.containsKey(key) || ApacheMntrKeys.number(mntr, key) < floor) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            mntr = ApacheMntrKeys.mntr(clientPort);
        }
        return mntr;
    }
}
