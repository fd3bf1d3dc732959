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
 * Issue 14: mntr's quorum figures of a Tandem member in Apache mode beside Apache ZooKeeper 3.9.5's in the same
 * ensemble: the same keys as the Apache members print ({@code quorum_size}, {@code looking_count}, the
 * {@code election_time} and {@code follower_sync_time} summaries, {@code proposal_count}, {@code commit_count},
 * {@code learner_proposal_received_count}, {@code learner_commit_received_count}, {@code diff_count},
 * {@code snap_count}, the quorum latencies {@code quorum_ack_latency}, {@code proposal_latency},
 * {@code commit_propagation_latency} and the learner master's {@code om_*_process_time_ms}, and the start-up load
 * {@code startup_snap_load_time} and {@code dbinittime}), each moved by the
 * event it names: following an Apache leader (an election, a sync, one proposal and one commit received per write),
 * then leading once that leader is killed (another election, the Apache follower's sync counted as a DIFF, TRUNC or
 * SNAP, one proposal and one commit per write).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheModeQuorumFiguresProcessTest {
    private static final List<String> SETTINGS = List.of("4lw.commands.whitelist=srvr,mntr");
    /** The keys compared with the Apache members', by prefix or whole name. */
    private static final List<String> QUORUM_KEYS = List.of("zk_quorum_size", "zk_looking_count",
            "zk_proposal_count", "zk_commit_count", "zk_learner_proposal_received_count",
            "zk_learner_commit_received_count", "zk_diff_count", "zk_snap_count");
    private static final List<String> SUMMARIES = List.of("election_time", "follower_sync_time",
            "startup_snap_load_time", "dbinittime", "quorum_ack_latency", "proposal_latency",
            "commit_propagation_latency", "om_proposal_process_time_ms", "om_commit_process_time_ms");

    @TempDir
    Path temp;

    @Test
    void tandemCountsElectionsSyncsProposalsAndCommitsAsApache() throws Exception {
        try (TandemFollowsThenLeads course = TandemFollowsThenLeads.start(temp, SETTINGS)) {
            followThenLead(course);
        }
    }

    private static void followThenLead(TandemFollowsThenLeads course) throws Exception {
        ApacheQuorumProcess one = course.one;
        ApacheQuorumProcess three = course.three;
        ZooKeeper onTandem = course.connectTandem();
        int writes = 20;
        for (int i = 0; i < writes; i++) {
            onTandem.create("/q" + i, new byte[10], Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Map<String, Long> following = figures(mntr(course.ensemble.tandem));
        String seen = "following: " + following;
        assertEquals(figures(mntr(one.ports)).keySet(), following.keySet(), "Apache 1's keys, " + seen);
        assertEquals(figures(mntr(three.ports)).keySet(), following.keySet(), "Apache 3's keys, " + seen);
        assertEquals(figures(mntr(one.ports)).get("zk_quorum_size"), following.get("zk_quorum_size"), seen);
        assertTrue(following.get("zk_looking_count") >= 1, seen);
        assertTrue(following.get("zk_cnt_election_time") >= 1, "an election, then following: " + seen);
        assertTrue(following.get("zk_cnt_follower_sync_time") >= 1, "synced with Apache 3: " + seen);
        // The session and the writes, each a PROPOSAL and a COMMIT in the broadcast.
        assertTrue(following.get("zk_learner_proposal_received_count") >= writes + 1, seen);
        assertTrue(following.get("zk_learner_commit_received_count") >= writes + 1, seen);
        assertEquals(0, following.get("zk_proposal_count"), "a follower proposes nothing: " + seen);
        assertEquals(0, following.get("zk_commit_count"), seen);
        assertEquals(0, following.get("zk_diff_count") + following.get("zk_snap_count"), "it synced nobody: " + seen);
        // Apache's quorum latencies, from each transaction's header time: a follower's per proposal logged and per
        // commit, none of a leader's, and no learner master's (Tandem runs none).
        assertTrue(following.get("zk_cnt_proposal_latency") >= writes + 1, seen);
        assertTrue(following.get("zk_cnt_commit_propagation_latency") >= writes + 1, seen);
        assertTrue(following.get("zk_p50_commit_propagation_latency")
                <= following.get("zk_max_commit_propagation_latency"), seen);
        assertEquals(0, following.get("zk_cnt_quorum_ack_latency"), seen);
        assertEquals(0, following.get("zk_cnt_om_proposal_process_time_ms")
                + following.get("zk_cnt_om_commit_process_time_ms"), seen);
        assertTrue(figures(mntr(three.ports)).get("zk_cnt_quorum_ack_latency") >= writes,
                "Apache's leader counts the same: " + figures(mntr(three.ports)));
        assertEquals(1, following.get("zk_cnt_startup_snap_load_time"), "one start: " + seen);
        assertEquals(1, following.get("zk_cnt_dbinittime"), "one start: " + seen);

        course.killLeaderAndAwaitTandemLeading();
        int more = 10;
        course.writeThroughTandem(more);
        Map<String, Long> leading = figures(mntr(course.ensemble.tandem));
        seen = "following: " + following + "\nleading: " + leading;
        assertEquals(figures(mntr(one.ports)).keySet(), leading.keySet(), "Apache 1's keys, " + seen);
        assertTrue(leading.get("zk_looking_count") > following.get("zk_looking_count"), seen);
        assertTrue(leading.get("zk_cnt_election_time") > following.get("zk_cnt_election_time"),
                "another election, then leading: " + seen);
        assertTrue(leading.get("zk_proposal_count") >= more, seen);
        assertTrue(leading.get("zk_commit_count") >= more, seen);
        assertTrue(leading.get("zk_commit_count") <= leading.get("zk_proposal_count"), seen);
        assertTrue(leading.get("zk_diff_count") + leading.get("zk_snap_count") >= 1, "Apache 1 synced: " + seen);
        assertEquals(following.get("zk_learner_commit_received_count"),
                leading.get("zk_learner_commit_received_count"), "a leader receives no commits: " + seen);
        assertEquals(following.get("zk_cnt_follower_sync_time"), leading.get("zk_cnt_follower_sync_time"),
                "no follower sync while leading: " + seen);
        assertEquals(1, leading.get("zk_cnt_dbinittime"), "still one start: " + seen);
        assertTrue(leading.get("zk_cnt_quorum_ack_latency") >= more, "one per commit when leading: " + seen);
        assertEquals(following.get("zk_cnt_proposal_latency"), leading.get("zk_cnt_proposal_latency"),
                "a leader receives no proposals: " + seen);
    }

    /** mntr's quorum figures: the counters and the summaries' five lines each, as numbers. */
    private static Map<String, Long> figures(String mntr) {
        Map<String, Long> figures = new TreeMap<>();
        for (String line : mntr.split("\n")) {
            String[] kv = line.split("\t", 2);
            if (kv.length != 2) continue;
            boolean wanted = QUORUM_KEYS.contains(kv[0]);
            for (String summary : SUMMARIES) {
                wanted |= kv[0].matches("zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_" + summary);
            }
            if (wanted) figures.put(kv[0], (long) Double.parseDouble(kv[1].trim()));
        }
        return figures;
    }
}
