package io.tandem.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the start-up check says about the metrics and AdminServer keys: honoured, refused (TLS, bad ports), warned. */
class OperationsConfigKeysTest {
    private static ConfigKeys.Report check(String... keyValues) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) settings.put(keyValues[i], keyValues[i + 1]);
        return ConfigKeys.check(settings);
    }

    @Test
    void shouldHonourTheKeysThatAreImplemented() {
        ConfigKeys.Report report = check("metrics.port", "0", "metrics.address", "127.0.0.1",
                "admin.enableServer", "true", "admin.serverPort", "8080", "admin.serverAddress", "0.0.0.0",
                "admin.commandURL", "/commands", "admin.forceHttps", "false", "admin.needClientAuth", "false",
                "admin.portUnification", "false", "admin.idleTimeout", "30000");
        assertEquals(0, report.warnings().size(), report.warnings().toString());
        assertEquals(0, report.refusals().size(), report.refusals().toString());
        assertEquals(0, check("admin.enableServer", "false").warnings().size());
    }

    @Test
    void shouldRefuseTlsOnTheAdminServerAndPortsThatAreNotPorts() {
        ConfigKeys.Report report = check("admin.forceHttps", "true", "admin.needClientAuth", "true",
                "admin.portUnification", "true", "admin.serverPort", "http", "metrics.port", "70000",
                "admin.enableServer", "yes");
        assertEquals(6, report.refusals().size(), report.refusals().toString());
        for (String key : new String[] {"admin.forceHttps", "admin.needClientAuth", "admin.portUnification",
                "admin.serverPort", "metrics.port", "admin.enableServer"}) {
            assertTrue(report.refusals().stream().anyMatch(r -> r.contains("'" + key + "'")), key);
        }
    }

    /** Apache's 0 or less keeps idle connections for ever; Tandem refuses it rather than leave them unbounded. */
    @Test
    void shouldRefuseAnAdminIdleTimeoutThatNeverClosesOrIsNotANumber() {
        for (String value : new String[] {"0", "-1", "30s"}) {
            ConfigKeys.Report report = check("admin.idleTimeout", value);
            assertEquals(1, report.refusals().size(), value + ": " + report.refusals());
            assertTrue(report.refusals().get(0).contains("'admin.idleTimeout'"), report.refusals().get(0));
        }
    }

    /** The snapshot and restore commands' keys are served; the key Apache does not have is warned about. */
    @Test
    void shouldHonourTheSnapshotAndRestoreKeysAndWarnAboutTheRest() {
        ConfigKeys.Report honoured = check("admin.snapshot.enabled", "false", "admin.restore.enabled", "true",
                "admin.rateLimiterIntervalInMS", "0");
        assertEquals(0, honoured.warnings().size(), honoured.warnings().toString());
        assertEquals(0, honoured.refusals().size(), honoured.refusals().toString());
        ConfigKeys.Report report = check("admin.snapshot.intervalInMS", "1000",
                "metricsProvider.className", "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider");
        assertEquals(2, report.warnings().size(), report.warnings().toString());
        assertTrue(report.warnings().get(1).contains("metrics.port"), report.warnings().get(1));
        // Apache fails to load its commands on an interval that is not an int; Tandem refuses it at start.
        for (String value : new String[] {"5m", "9999999999"}) {
            ConfigKeys.Report refused = check("admin.rateLimiterIntervalInMS", value);
            assertEquals(1, refused.refusals().size(), value + ": " + refused.refusals());
        }
    }
}
