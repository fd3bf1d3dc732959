package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus role gauge of a three-member ensemble: {@code tandem_zookeeper_server_state} is 1 for "leader" on the
 * member mntr calls leader and for "follower" on the other two, 0 for every other state.
 */
class EnsembleRoleMetricTest {
    @TempDir
    Path dir;

    @Test
    void shouldReportOneLeaderAndTwoFollowersInTheRoleGauge() throws Exception {
        try (TestEnsemble ensemble = new TestEnsemble(dir)) {
            ensemble.extraSettings.put("metrics.port", "0");
            ensemble.startAll();
            int leader = ensemble.awaitServing(60_000);
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                String scrape = scrape(ensemble.node(id).metricsPort());
                String role = id == leader ? "leader" : "follower";
                assertEquals(role, ensemble.mode(id), "mntr of member " + id);
                for (String state : new String[] {"standalone", "leader", "follower", "observer", "looking"}) {
                    assertEquals(state.equals(role) ? 1.0 : 0.0, state(scrape, state),
                            "member " + id + ", state " + state);
                }
            }
        }
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    private static double state(String scrape, String state) {
        Matcher m = Pattern.compile("(?m)^tandem_zookeeper_server_state\\{[^}]*state=\"" + state
                + "\"[^}]*}\\s+(\\S+)").matcher(scrape);
        if (!m.find()) throw new AssertionError("no server_state gauge for " + state + " in\n" + scrape);
        return Double.parseDouble(m.group(1));
    }
}
