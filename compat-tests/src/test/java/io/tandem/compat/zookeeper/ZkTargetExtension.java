package io.tandem.compat.zookeeper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one {@link ZkTarget} per test class (chosen by {@code -Dcompat.target=tandem|apache}, default tandem) and
 * injects it into constructors, lifecycle methods and tests that declare a {@code ZkTarget} parameter.
 * Tests share the server within a class, so each test works under its own paths.
 */
public final class ZkTargetExtension implements BeforeAllCallback, ParameterResolver {
    public static final String TARGET_PROPERTY = "compat.target";
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ZkTargetExtension.class);

    static {
        // Apache reads several of these into static finals when its classes load, so they are set before any server
        // class is touched; the same keys are handed to Tandem as settings (see serverSettings()).
        serverSettings().forEach(System::setProperty);
    }

    /**
     * The server configuration both targets run with. Keys are Apache ZooKeeper's own system property names, passed
     * to Tandem verbatim (plus the zoo.cfg spelling of the tick) so the server team can map each one.
     */
    static Map<String, String> serverSettings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("tickTime", Integer.toString(ZkTarget.TICK_TIME_MS));
        settings.put("zookeeper.extendedTypesEnabled", "true");
        settings.put("zookeeper.4lw.commands.whitelist", "*");
        settings.put("4lw.commands.whitelist", "*");
        settings.put("zookeeper.DigestAuthenticationProvider.superDigest", superDigest());
        settings.put("znode.container.checkIntervalMs", Integer.toString(ZkTarget.CONTAINER_CHECK_INTERVAL_MS));
        settings.put("znode.container.maxPerMinute", "10000");
        return settings;
    }

    /**
     * {@code user:base64(sha1(user:password))}, computed here rather than with Apache's DigestAuthenticationProvider:
     * loading that class would freeze its super digest (a static final) before the property below is set.
     */
    private static String superDigest() {
        try {
            String credentials = ZkTarget.SUPER_USER + ":" + ZkTarget.SUPER_PASSWORD;
            byte[] sha1 = MessageDigest.getInstance("SHA1").digest(credentials.getBytes(StandardCharsets.UTF_8));
            return ZkTarget.SUPER_USER + ":" + Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA1 digest unavailable", e);
        }
    }

    /** The selected target's name; anything other than apache or tandem is a configuration mistake. */
    public static String selectedTarget() {
        String name = System.getProperty(TARGET_PROPERTY, "tandem").trim();
        if (!name.equals("apache") && !name.equals("tandem")) {
            throw new IllegalArgumentException("-D" + TARGET_PROPERTY + " must be apache or tandem, not " + name);
        }
        return name;
    }

    /** Starts the selected target in a fresh temporary data directory; the caller owns (closes) it. */
    public static ZkTarget startTarget() throws Exception {
        Path dir = Files.createTempDirectory("zkcompat-" + selectedTarget() + "-");
        ZkTarget target = selectedTarget().equals("apache") ? new ApacheZkTarget(dir) : new TandemZkTarget(dir);
        return new DirectoryOwningTarget(target, dir);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        context.getStore(NAMESPACE).put(ZkTarget.class, new StoredTarget(startTarget()));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == ZkTarget.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        StoredTarget stored = extensionContext.getStore(NAMESPACE).get(ZkTarget.class, StoredTarget.class);
        if (stored == null) {
            throw new IllegalStateException("ZkTarget is only available once the class's @BeforeAll phase has started");
        }
        return stored.target;
    }

    private record StoredTarget(ZkTarget target) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            target.close();
        }
    }

    /** Deletes the temporary data directory once the server is stopped. */
    private record DirectoryOwningTarget(ZkTarget delegate, Path dir) implements ZkTarget {
        @Override public String name() { return delegate.name(); }
        @Override public String host() { return delegate.host(); }
        @Override public int port() { return delegate.port(); }
        @Override public void restart() throws Exception { delegate.restart(); }

        @Override
        public void close() throws IOException {
            try {
                delegate.close();
            } finally {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(path -> {
                        try {
                            Files.deleteIfExists(path);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                }
            }
        }
    }
}
