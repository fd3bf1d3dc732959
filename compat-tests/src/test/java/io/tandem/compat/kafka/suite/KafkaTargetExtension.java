package io.tandem.compat.kafka.suite;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the {@link KafkaTarget} into test methods and constructors. One broker serves the whole run (tests use
 * their own topics and groups), started on first use and stopped when JUnit closes the root store. Select with
 * {@code -Dcompat.kafka.target=tandem|apache}; the default is tandem.
 */
public final class KafkaTargetExtension implements ParameterResolver {
    public static final String TARGET_PROPERTY = "compat.kafka.target";

    static {
        // The clients log every config at INFO; the suite's output should show failures, not that.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaTarget.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(ExtensionContext.Namespace.create(KafkaTargetExtension.class))
                .getOrComputeIfAbsent(Started.class, key -> Started.start(), Started.class).target();
    }

    /**
     * A target of its own for a test that needs broker settings the shared one lacks (the selected kind, in its own
     * work directory); the caller closes it.
     */
    static KafkaTarget startOwn(String label, Map<String, String> settings) {
        Path workDir = ApacheKafkaLauncher.moduleDir().resolve("target").resolve("kafka-suite")
                .resolve(selectedTarget() + "-" + label + "-" + uniqueSuffix());
        return switch (selectedTarget()) {
            case "apache" -> ApacheKafkaTarget.start(workDir, settings);
            case "tandem" -> TandemKafkaTarget.start(workDir, settings);
            default -> throw new IllegalArgumentException(
                    "-D" + TARGET_PROPERTY + " must be tandem or apache, not " + selectedTarget());
        };
    }

    /**
     * The start time and this JVM's process id: surefire's two forks start their first classes at the same moment, and
     * two brokers in one work directory would format and lock each other's logs.
     */
    static String uniqueSuffix() {
        return System.currentTimeMillis() + "-" + ProcessHandle.current().pid();
    }

    static String selectedTarget() {
        return System.getProperty(TARGET_PROPERTY, "tandem").trim().toLowerCase(Locale.ROOT);
    }

    /** The target, or why it could not start: remembered so a failed start is reported once per test, not retried. */
    private record Started(KafkaTarget running, RuntimeException failure) implements AutoCloseable {
        static Started start() {
            String name = selectedTarget();
            Path workDir = ApacheKafkaLauncher.moduleDir().resolve("target").resolve("kafka-suite")
                    .resolve(name + "-" + uniqueSuffix());
            long started = System.nanoTime();
            try {
                KafkaTarget target = switch (name) {
                    case "apache" -> ApacheKafkaTarget.start(workDir);
                    case "tandem" -> TandemKafkaTarget.start(workDir);
                    default -> throw new IllegalArgumentException(
                            "-D" + TARGET_PROPERTY + " must be tandem or apache, not " + name);
                };
                System.getLogger(KafkaTargetExtension.class.getName()).log(System.Logger.Level.INFO,
                        "Kafka target {0} answering on {1} after {2} ms", name, target.bootstrapServers(),
                        (System.nanoTime() - started) / 1_000_000);
                return new Started(target, null);
            } catch (RuntimeException e) {
                return new Started(null, e);
            }
        }

        KafkaTarget target() {
            if (failure != null) {
                throw new IllegalStateException("Kafka target " + selectedTarget() + " did not start", failure);
            }
            return running;
        }

        @Override
        public void close() {
            if (running != null) {
                running.close();
            }
        }
    }
}
