package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zab's commit latency in the node's Prometheus registry (issue 13's metrics): the leader times each of its proposals
 * from proposal to commit as a histogram, {@code tandem_zab_commit_seconds}; followers propose nothing.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ZabCommitMetricsEnsembleTest {
    @TempDir
    Path dir;

    private static String scrape(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    private static double value(String text, String series) {
        return text.lines().filter(line -> line.startsWith(series + " ")).mapToDouble(
                line -> Double.parseDouble(line.substring(series.length() + 1).trim())).findFirst().orElse(-1);
    }

    @Test
    void theLeaderPublishesItsProposalToCommitTimesAsAHistogram() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.extraSettings.put("metrics.port", "0");
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            try (ZooKeeper zk = TestEnsemble.client(ensemble.connect(leader), 10_000, null)) {
                for (int i = 0; i < 5; i++) {
                    zk.create("/timed-" + i, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                }
            }
            String text = scrape(ensemble.node(leader).metricsPort());
            assertTrue(value(text, "tandem_zab_commit_seconds_count") >= 5, "every write committed through Zab: "
                    + text.lines().filter(line -> line.contains("zab_commit")).toList());
            assertTrue(value(text, "tandem_zab_commit_seconds_sum") > 0);
            assertTrue(text.contains("tandem_zab_commit_seconds_bucket{"), "a histogram, with buckets");
            int follower = leader % TestEnsemble.SIZE + 1;
            assertFalse(scrape(ensemble.node(follower).metricsPort()).contains("tandem_zab_commit_seconds_count"),
                    "a follower proposes nothing, so times nothing");
        }
    }
}
