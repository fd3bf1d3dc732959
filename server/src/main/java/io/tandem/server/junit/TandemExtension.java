package io.tandem.server.junit;

import io.tandem.server.DataDirs;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import io.tandem.server.fault.FaultController;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Tandem node for a JUnit 5 test class: started once before the class's tests, on free ports of 127.0.0.1
 * only ({@link TandemConfig#forTests}: nothing on the network can reach it) in a fresh temporary directory, and closed
 * (directory deleted) after them. Tests receive the {@link Tandem} or its {@link FaultController}; fault rules and
 * pauses are cleared after each test.
 *
 * <pre>{@code
 * @ExtendWith(TandemExtension.class)
 * class MyTest {
 *     @Test void works(Tandem tandem) { ... tandem.zookeeperConnect() ... tandem.bootstrapServers() ... }
 * }
 * // or, to choose roles or keys:
 * @RegisterExtension static TandemExtension tandem = TandemExtension.configured(c -> c.set("num.partitions", "3"));
 * }</pre>
 */
public final class TandemExtension implements BeforeAllCallback, AfterAllCallback, AfterEachCallback,
        ParameterResolver {
    private final UnaryOperator<TandemConfig> customizer;
    private Tandem tandem;
    private Path dataDir;

    /** Both roles, default keys. */
    public TandemExtension() {
        this(UnaryOperator.identity());
    }

    private TandemExtension(UnaryOperator<TandemConfig> customizer) {
        this.customizer = customizer;
    }

    /** Starts from {@link TandemConfig#forTests(Path)} and lets the caller adjust roles and keys. */
    public static TandemExtension configured(UnaryOperator<TandemConfig> customizer) {
        return new TandemExtension(customizer);
    }

    /** The running node; valid between beforeAll and afterAll. */
    public Tandem tandem() {
        if (tandem == null) {
            throw new IllegalStateException("Tandem is not running: the extension starts it before the test class");
        }
        return tandem;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dataDir = Files.createTempDirectory("tandem-junit-");
        tandem = Tandem.start(customizer.apply(TandemConfig.forTests(dataDir)));
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (tandem != null) {
                tandem.close();
            }
        } finally {
            tandem = null;
            DataDirs.deleteRecursively(dataDir);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (tandem != null) tandem.faults().clear();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == Tandem.class || type == FaultController.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == FaultController.class ? tandem().faults() : tandem();
    }
}
