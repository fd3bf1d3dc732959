package io.tandem.server.junit;

import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Kafka cluster of Tandem brokers (see {@link TandemCluster}) for a JUnit 5 test class: started once before
 * the class's tests in a fresh temporary directory, and closed (directory deleted) after them. A test that stops a
 * broker should restart it, since the other tests of the class share the cluster.
 *
 * <pre>{@code
 * @ExtendWith(TandemClusterExtension.class)            // three brokers
 * class MyTest {
 *     @Test void works(TandemCluster cluster) { ... cluster.bootstrapServers() ... cluster.stopBroker(2) ... }
 * }
 * // or, with the size and keys:
 * @RegisterExtension static TandemClusterExtension kafka = TandemClusterExtension.configured(5, c -> c.set(...));
 * }</pre>
 */
public final class TandemClusterExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    /** What {@code @ExtendWith(TandemClusterExtension.class)} starts: the smallest cluster that survives a loss. */
    public static final int DEFAULT_BROKERS = 3;

    private final int brokers;
    private final UnaryOperator<TandemConfig> customizer;
    private TandemCluster cluster;

    /** Three brokers, default keys. */
    public TandemClusterExtension() {
        this(DEFAULT_BROKERS, UnaryOperator.identity());
    }

    private TandemClusterExtension(int brokers, UnaryOperator<TandemConfig> customizer) {
        this.brokers = brokers;
        this.customizer = customizer;
    }

    /** {@code brokers} brokers, default keys. */
    public static TandemClusterExtension brokers(int brokers) {
        return new TandemClusterExtension(brokers, UnaryOperator.identity());
    }

    /** {@code brokers} brokers whose configs pass through {@code customizer} (each with its broker.id set). */
    public static TandemClusterExtension configured(int brokers, UnaryOperator<TandemConfig> customizer) {
        return new TandemClusterExtension(brokers, customizer);
    }

    /** The running cluster; valid between beforeAll and afterAll. */
    public TandemCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException("the cluster is not running: the extension starts it before the test class");
        }
        return cluster;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        cluster = TandemCluster.start(brokers, customizer);
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
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TandemCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return cluster();
    }
}
