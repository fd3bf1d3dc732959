package io.tandem.server.junit;

import io.tandem.server.TandemConfig;
import io.tandem.server.fault.FaultController;
import java.io.IOException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Kafka cluster of Tandem brokers (see {@link io.tandem.server.TandemCluster}) for a JUnit 5 test class:
 * started once before the class's tests in a fresh temporary directory, and closed (directory deleted) after them. A
 * test that stops a broker should restart it, since the other tests of the class share the cluster; fault rules and
 * paused nodes are cleared after each test. Sizes come from {@link TandemCluster @TandemCluster} on the test class
 * when it is there. Parameters: {@code io.tandem.server.TandemCluster}, {@link FaultController}, and {@code String}s
 * marked {@link TandemCluster.BootstrapServers} or {@link TandemCluster.ZooKeeperConnect}.
 *
 * <pre>{@code
 * @TandemCluster(brokers = 3, zookeepers = 3)         // or @ExtendWith(TandemClusterExtension.class): 3 and 1
 * class MyTest {
 *     @Test void works(TandemCluster cluster) { ... cluster.bootstrapServers() ... cluster.stopBroker(2) ... }
 * }
 * // or, with the size and keys:
 * @RegisterExtension static TandemClusterExtension kafka = TandemClusterExtension.configured(5, c -> c.set(...));
 * }</pre>
 */
public final class TandemClusterExtension implements BeforeAllCallback, AfterAllCallback, AfterEachCallback,
        ParameterResolver {
    /** What {@code @ExtendWith(TandemClusterExtension.class)} starts: the smallest cluster that survives a loss. */
    public static final int DEFAULT_BROKERS = 3;

    private final int brokers;
    private final int zookeepers;
    /** Made by {@code @ExtendWith}: the sizes come from the class's {@link TandemCluster} if it has one. */
    private final boolean sizedByAnnotation;
    private final UnaryOperator<TandemConfig> customizer;
    private io.tandem.server.TandemCluster cluster;
    /** From {@link TandemCluster#resetAfterEach()}. */
    private boolean resetAfterEach;

    /** Three brokers and a standalone ZooKeeper, default keys, unless the class says otherwise with @TandemCluster. */
    public TandemClusterExtension() {
        this(DEFAULT_BROKERS, 1, UnaryOperator.identity(), true);
    }

    private TandemClusterExtension(int brokers, int zookeepers, UnaryOperator<TandemConfig> customizer,
                                   boolean sizedByAnnotation) {
        this.brokers = brokers;
        this.zookeepers = zookeepers;
        this.customizer = customizer;
        this.sizedByAnnotation = sizedByAnnotation;
    }

    /** {@code brokers} brokers, default keys. */
    public static TandemClusterExtension brokers(int brokers) {
        return new TandemClusterExtension(brokers, 1, UnaryOperator.identity(), false);
    }

    /** {@code brokers} brokers whose configs pass through {@code customizer} (each with its broker.id set). */
    public static TandemClusterExtension configured(int brokers, UnaryOperator<TandemConfig> customizer) {
        return new TandemClusterExtension(brokers, 1, customizer, false);
    }

    /** {@code brokers} brokers and a ZooKeeper ensemble of {@code zookeepers}, configs through {@code customizer}. */
    public static TandemClusterExtension configured(int brokers, int zookeepers,
                                                    UnaryOperator<TandemConfig> customizer) {
        return new TandemClusterExtension(brokers, zookeepers, customizer, false);
    }

    /** The running cluster; valid between beforeAll and afterAll. */
    public io.tandem.server.TandemCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException("the cluster is not running: the extension starts it before the test class");
        }
        return cluster;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        int brokerCount = brokers;
        int zookeeperCount = zookeepers;
        if (sizedByAnnotation) {
            TandemCluster sizes = AnnotationSupport.findAnnotation(context.getRequiredTestClass(), TandemCluster.class)
                    .orElse(null);
            if (sizes != null) {
                brokerCount = sizes.brokers();
                zookeeperCount = sizes.zookeepers();
                resetAfterEach = sizes.resetAfterEach();
            }
        }
        cluster = io.tandem.server.TandemCluster.start(brokerCount, zookeeperCount, customizer);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            cluster = null;
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (cluster == null) return;
        cluster.faults().clear();
        if (resetAfterEach) cluster.reset();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == io.tandem.server.TandemCluster.class || type == FaultController.class
                || (type == String.class && (parameter.isAnnotated(TandemCluster.BootstrapServers.class)
                || parameter.isAnnotated(TandemCluster.ZooKeeperConnect.class)));
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (type == FaultController.class) return cluster().faults();
        if (type == String.class) {
            return parameter.isAnnotated(TandemCluster.BootstrapServers.class) ? cluster().bootstrapServers()
                    : cluster().zookeeperConnect();
        }
        return cluster();
    }
}
