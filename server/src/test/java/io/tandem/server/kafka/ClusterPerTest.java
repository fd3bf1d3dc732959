package io.tandem.server.kafka;

import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link TandemCluster} of its own for each test, with an Admin client on every broker, both closed after the test:
 * for the multi-broker tests that stop, restart and cut brokers, which a cluster shared by a class's tests
 * ({@code TandemClusterExtension}) would carry into the next test. Registered with {@code @RegisterExtension}, it
 * starts the cluster before each test with the keys it was given, or leaves the start to a test whose cluster differs
 * from the others' ({@link #start}).
 */
public final class ClusterPerTest implements BeforeEachCallback, AfterEachCallback {
    private final int brokers;
    /** The keys every broker gets before each test; null where each test starts its own cluster. */
    private final Map<String, String> settings;
    private TandemCluster cluster;
    private Admin admin;

    private ClusterPerTest(int brokers, Map<String, String> settings) {
        this.brokers = brokers;
        this.settings = settings;
    }

    /** {@code brokers} brokers with {@code settings}, started before each test. */
    public static ClusterPerTest started(int brokers, Map<String, String> settings) {
        return new ClusterPerTest(brokers, Map.copyOf(settings));
    }

    /** Nothing before a test: each test calls {@link #start}. */
    public static ClusterPerTest startedByEachTest() {
        return new ClusterPerTest(0, null);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        if (settings != null) start(brokers, settings, zookeeperConnect -> { });
    }

    /** Starts {@code brokers} brokers with {@code settings}, after {@code beforeBrokers} (see TandemCluster). */
    public TandemCluster start(int brokers, Map<String, String> settings, TandemCluster.BeforeBrokers beforeBrokers)
            throws IOException {
        return start(brokers, config -> {
            settings.forEach(config::set);
            return config;
        }, beforeBrokers);
    }

    /** Starts {@code brokers} brokers whose configs pass through {@code customizer}, after {@code beforeBrokers}. */
    public TandemCluster start(int brokers, UnaryOperator<TandemConfig> customizer,
                               TandemCluster.BeforeBrokers beforeBrokers) throws IOException {
        if (cluster != null) throw new IllegalStateException("this test's cluster is already running");
        cluster = TandemCluster.start(brokers, customizer, beforeBrokers);
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
        return cluster;
    }

    public TandemCluster cluster() {
        if (cluster == null) throw new IllegalStateException("no cluster: the test has not started one");
        return cluster;
    }

    /** An Admin client bootstrapped from every broker, closed with the cluster. */
    public Admin admin() {
        cluster();
        return admin;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (admin != null) admin.close(Duration.ofSeconds(5));
        if (cluster != null) cluster.close();
        admin = null;
        cluster = null;
    }
}
