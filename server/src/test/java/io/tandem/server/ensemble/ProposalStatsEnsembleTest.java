package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.server.http.AdminHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache's last leader figures on three members: srvr's and stat's "Proposal sizes last/min/max" line, the
 * AdminServer's {@code proposal_stats}, and mntr's {@code last/max/min_proposal_size} and {@code pending_syncs}, on
 * the leader only, as Apache's StatCommand, SrvrCommand and LeaderZooKeeperServer's gauges show them; a new leader
 * starts at -1/-1/-1; a sync the leader cannot get a quorum for is counted as pending, its own client's or one a
 * follower forwarded, and is answered once a quorum is back.
 */
class ProposalStatsEnsembleTest {
    private static final String WORDS = "srvr,stat,mntr";
    private static final String PREFIX = "Proposal sizes last/min/max: ";
    private static final List<String> LEADER_KEYS = List.of("zk_pending_syncs", "zk_last_proposal_size",
            "zk_max_proposal_size", "zk_min_proposal_size");

    @TempDir
    Path dir;

    @Test
    void shouldShowTheLeadersProposalSizesOnlyOnTheLeaderAndAFreshLeaderNone() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.extraSettings.put("admin.serverPort", "0");
            ensemble.extraSettings.put("metrics.port", "0");
            ensemble.extraSettings.put("4lw.commands.whitelist", WORDS);
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            String path = "/sized";
            byte[] data = new byte[100];
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 10_000, null)) {
                zk.create(path, new byte[1], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.setData(path, data, -1);
                // Nothing is proposed between the setData and these words (a 4lw opens no session), so the last
                // proposal is the setData's: the TxnHeader (32 bytes) and its SetDataTxn (the path and data, each
                // after an int length, and the version), in Tandem's PROPOSAL frame (a 4-byte length, the type, the
                // session, seq and zxid, and the transaction after an int length).
                int txn = 32 + 4 + path.length() + 4 + data.length + 4;
                int frame = 4 + 1 + 3 * 8 + 4 + txn;
                int[] sizes = sizes(srvr(ensemble, leader, "srvr"));
                assertEquals(frame, sizes[0], "the setData's proposal, as sent");
                assertTrue(sizes[1] > 0 && sizes[1] <= sizes[0] && sizes[0] <= sizes[2], Arrays.toString(sizes));
                assertEquals(sizes[0], sizes(srvr(ensemble, leader, "stat"))[0]);
                Map<String, String> mntr = mntr(ensemble, leader);
                assertEquals(Integer.toString(sizes[0]), mntr.get("zk_last_proposal_size"), mntr.toString());
                assertEquals(Integer.toString(sizes[1]), mntr.get("zk_min_proposal_size"), mntr.toString());
                assertEquals(Integer.toString(sizes[2]), mntr.get("zk_max_proposal_size"), mntr.toString());
                assertEquals("0", mntr.get("zk_pending_syncs"), "nothing waits at rest: " + mntr);
                JsonNode stats = AdminHttp.command(ensemble.node(leader).adminPort(), "srvr").get("proposal_stats");
                assertNotNull(stats, "Apache's SrvrCommand adds proposal_stats on a leader");
                assertEquals(sizes[0], stats.get("last_buffer_size").asInt(), stats.toString());
                assertEquals(sizes[1], stats.get("min_buffer_size").asInt(), stats.toString());
                assertEquals(sizes[2], stats.get("max_buffer_size").asInt(), stats.toString());
                assertTrue(AdminHttp.command(ensemble.node(leader).adminPort(), "stat").has("proposal_stats"));
                assertEquals(sizes[0], AdminHttp.command(ensemble.node(leader).adminPort(), "monitor")
                        .get("last_proposal_size").asInt());
                // Prometheus: the gauges of a member that was elected after its metrics started.
                String scrape = scrape(ensemble.node(leader).metricsPort());
                assertEquals(sizes[0], gauge(scrape, "last_proposal_size"), scrape);
                assertEquals(sizes[1], gauge(scrape, "min_proposal_size"), scrape);
                assertEquals(sizes[2], gauge(scrape, "max_proposal_size"), scrape);
                assertEquals(0, gauge(scrape, "pending_syncs"), scrape);
            }
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                if (id != leader) {
                    assertNoLeaderFigures(ensemble, id);
                    assertTrue(Double.isNaN(gauge(scrape(ensemble.node(id).metricsPort()), "last_proposal_size")),
                            "a follower has no proposal sizes");
                }
            }

            // A new leader is a new Leader to Apache, its figures -1 until it proposes: the old one goes, and with
            // the configuration's version established already and no session left, the new one proposes nothing.
            ensemble.stop(leader);
            int next = ensemble.awaitServing(30_000);
            assertTrue(srvr(ensemble, next, "srvr").contains("\n" + PREFIX + "-1/-1/-1\n"),
                    srvr(ensemble, next, "srvr"));
            Map<String, String> mntr = mntr(ensemble, next);
            for (String key : List.of("zk_last_proposal_size", "zk_max_proposal_size", "zk_min_proposal_size")) {
                assertEquals("-1", mntr.get(key), key + " " + mntr);
            }
        }
    }

    @Test
    void shouldCountASyncTheLeaderHoldsWithoutAQuorum() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.extraSettings.put("4lw.commands.whitelist", WORDS);
            // A leader cut from its followers keeps leading for syncLimit ticks (8 s here) before it looks again:
            // time enough to see its sync wait.
            ensemble.extraSettings.put("initLimit", "40");
            ensemble.extraSettings.put("syncLimit", "40");
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 30_000, null)) {
                assertEquals("0", mntr(ensemble, leader).get("zk_pending_syncs"));
                CompletableFuture<Integer> synced = new CompletableFuture<>();
                int first = leader == 1 ? 2 : 1;
                try {
                    for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                        if (id != leader) ensemble.node(leader).faults().partition("node", "zookeeper" + id);
                    }
                    zk.sync("/", (rc, p, ctx) -> synced.complete(rc), null);
                    Map<String, String> mntr = awaitPendingSyncs(ensemble, leader, "1", 6);
                    assertEquals("leader", mntr.get("zk_server_state"), mntr.toString());
                    assertEquals("1", mntr.get("zk_pending_syncs"), "the sync waits for a quorum: " + mntr);
                    assertFalse(synced.isDone(), "no quorum, no answer");
                    // One follower back makes the quorum; healed alone, it finds the other still following this
                    // leader and joins it (both healed at once would elect one of their own, and the client, cut off,
                    // would see its sync end in ConnectionLoss).
                    ensemble.node(leader).faults().heal("node", "zookeeper" + first);
                    assertEquals(KeeperException.Code.OK.intValue(), synced.get(30, TimeUnit.SECONDS),
                            "with a quorum, the sync is answered");
                } finally {
                    // Healed before the client closes: its closeSession needs a quorum too.
                    for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                        if (id != leader) ensemble.node(leader).faults().heal("node", "zookeeper" + id);
                    }
                }
                Map<String, String> mntr = awaitPendingSyncs(ensemble, leader, "0", 10);
                assertEquals("leader", mntr.get("zk_server_state"), "the same leader: " + mntr);
                assertEquals("0", mntr.get("zk_pending_syncs"), "the sync is done with: " + mntr);
            }
        }
    }

    /**
     * A client of a follower syncs while the leader cannot commit: the follower forwards the sync, and the leader holds
     * it (mntr's and Prometheus's pending_syncs 1) until the write before it commits, then the follower answers it and
     * the count is 0 again. Apache's Leader.processSync holds a learner's sync only behind an outstanding proposal, so
     * the client writes first. Five voters: with three, the forwarding follower's own acknowledgement would complete
     * the leader's quorum, so no cut could hold a sync a follower can still forward.
     */
    @Test
    void shouldCountASyncAFollowerForwardedUntilTheWriteBeforeItCommits() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir, 0, 2)) {
            ensemble.extraSettings.put("metrics.port", "0");
            ensemble.extraSettings.put("4lw.commands.whitelist", WORDS);
            // As above: the cut leader keeps leading for syncLimit ticks (8 s), and so its forwarding follower follows.
            ensemble.extraSettings.put("initLimit", "40");
            ensemble.extraSettings.put("syncLimit", "40");
            ensemble.startAll();
            int leader = ensemble.awaitServing(60_000);
            int follower = leader == 1 ? 2 : 1;
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(follower), 30_000, null)) {
                zk.create("/warm", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEquals("0", mntr(ensemble, leader).get("zk_pending_syncs"));
                CompletableFuture<Integer> created = new CompletableFuture<>();
                CompletableFuture<Integer> synced = new CompletableFuture<>();
                List<Integer> cut = new ArrayList<>();
                for (int id = 1; id <= TestEnsemble.SIZE + 2; id++) {
                    if (id != leader && id != follower) cut.add(id);
                }
                try {
                    for (int id : cut) ensemble.node(leader).faults().partition("node", "zookeeper" + id);
                    zk.create("/held", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                            (rc, p, ctx, name) -> created.complete(rc), null);
                    zk.sync("/", (rc, p, ctx) -> synced.complete(rc), null);
                    Map<String, String> mntr = awaitPendingSyncs(ensemble, leader, "1", 6);
                    assertEquals("leader", mntr.get("zk_server_state"), mntr.toString());
                    assertEquals("1", mntr.get("zk_pending_syncs"), "the forwarded sync waits: " + mntr);
                    assertEquals(1, gauge(scrape(ensemble.node(leader).metricsPort()), "pending_syncs"));
                    assertEquals("follower", TestEnsemble.modeAt(ensemble.clientPort(follower)));
                    assertFalse(mntr(ensemble, follower).containsKey("zk_pending_syncs"), "a leader's figure");
                    assertFalse(created.isDone() || synced.isDone(), "no quorum, no answer");
                    // One member back makes the quorum. A healed link's connection closes, and the member looks for
                    // its leader: healed alone, it finds the others still following this one and joins it, where
                    // three healed at once would elect one of their own without the held write.
                    ensemble.node(leader).faults().heal("node", "zookeeper" + cut.get(0));
                    assertEquals(KeeperException.Code.OK.intValue(), created.get(30, TimeUnit.SECONDS));
                    assertEquals(KeeperException.Code.OK.intValue(), synced.get(30, TimeUnit.SECONDS),
                            "with a quorum, the follower answers the sync");
                } finally {
                    for (int id : cut) ensemble.node(leader).faults().heal("node", "zookeeper" + id);
                }
                assertNotNull(zk.exists("/held", false));
                Map<String, String> mntr = awaitPendingSyncs(ensemble, leader, "0", 10);
                assertEquals("leader", mntr.get("zk_server_state"), "the same leader: " + mntr);
                assertEquals("0", mntr.get("zk_pending_syncs"), "the sync is done with: " + mntr);
                assertEquals(0, gauge(scrape(ensemble.node(leader).metricsPort()), "pending_syncs"));
            }
        }
    }

    /** mntr of member {@code id} once its pending_syncs is {@code expected}, or after {@code seconds}. */
    private static Map<String, String> awaitPendingSyncs(TestEnsemble ensemble, int id, String expected, int seconds)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<String, String> mntr = mntr(ensemble, id);
        while (!expected.equals(mntr.get("zk_pending_syncs")) && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
            mntr = mntr(ensemble, id);
        }
        return mntr;
    }

    private static void assertNoLeaderFigures(TestEnsemble ensemble, int id) throws Exception {
        for (String word : List.of("srvr", "stat")) {
            String answer = srvr(ensemble, id, word);
            assertTrue(answer.contains("\nMode: follower\n"), answer);
            assertFalse(answer.contains(PREFIX), "Apache prints proposal sizes on a leader only: " + answer);
        }
        Map<String, String> mntr = mntr(ensemble, id);
        for (String key : LEADER_KEYS) assertFalse(mntr.containsKey(key), key + " on a follower: " + mntr);
        assertFalse(AdminHttp.command(ensemble.node(id).adminPort(), "srvr").has("proposal_stats"));
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    /** The value of the gauge {@code tandem_zookeeper_<key>} in a Prometheus scrape. */
    private static double gauge(String scrape, String key) {
        Matcher m = Pattern.compile("(?m)^tandem_zookeeper_" + key
                + "(?:\\{[^}]*})?\\s+(\\S+)").matcher(scrape);
        if (!m.find()) throw new AssertionError("no gauge tandem_zookeeper_" + key + " in\n" + scrape);
        return Double.parseDouble(m.group(1));
    }

    private static String srvr(TestEnsemble ensemble, int id, String word) throws Exception {
        return TestEnsemble.fourLetterWord(ensemble.clientPort(id), word, 5_000);
    }

    /** The last, smallest and largest proposal size of a srvr or stat answer. */
    private static int[] sizes(String answer) {
        for (String line : answer.split("\n")) {
            if (line.startsWith(PREFIX)) {
                String[] parts = line.substring(PREFIX.length()).split("/");
                return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2])};
            }
        }
        throw new AssertionError("no \"" + PREFIX + "\" line in:\n" + answer);
    }

    private static Map<String, String> mntr(TestEnsemble ensemble, int id) throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : srvr(ensemble, id, "mntr").split("\n")) {
            String[] keyAndValue = line.split("\t", 2);
            if (keyAndValue.length == 2) values.put(keyAndValue[0], keyAndValue[1]);
        }
        return values;
    }
}
