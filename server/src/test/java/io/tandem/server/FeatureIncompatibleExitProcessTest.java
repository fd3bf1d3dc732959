package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.metadata.FeatureZnode;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem start} as a real process whose broker finds, while running, that the cluster's {@code /feature}
 * finalizes a level it does not support: as Kafka 3.9's broker (FinalizedFeatureChangeListener), the process exits,
 * with status 1 (Kafka's), after its broker left the cluster, and its log says which feature and which ranges.
 * (The broker alone, embedded: FeatureIncompatibleStopTest.)
 */
class FeatureIncompatibleExitProcessTest {
    @TempDir
    Path dir;

    @Test
    void shouldExitNonZeroWhenTheClusterFinalizesALevelTheBrokerDoesNotSupport() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            Process broker = start(dir.resolve("broker"), "--roles", "kafka", "--kafka-port", "0",
                    "--set", "listeners=PLAINTEXT://127.0.0.1:0",
                    "--set", "zookeeper.connect=" + zookeeper.zookeeperConnect());
            try {
                awaitLine(broker, dir.resolve("broker.out"), "  Kafka logs");
                assertNotNull(zk.getData(KafkaZkLayout.brokerPath(0)), "registered");
                ZnodeStore.Versioned feature = awaitFeatureNode(zk);
                assertTrue(zk.setDataIfVersion(KafkaZkLayout.FEATURE,
                        FeatureZnode.enabled(Map.of("transaction.version", (short) 3)).encode(), feature.version()));

                assertTrue(broker.waitFor(60, TimeUnit.SECONDS), "the process did not exit");
                assertEquals(1, broker.exitValue(), "Kafka's exit status on a fatal error");
                assertNull(zk.getData(KafkaZkLayout.brokerPath(0)), "the broker's registration left with it");
                List<String> log = Files.readAllLines(dir.resolve("broker.err"));
                assertTrue(log.stream().anyMatch(l -> l.contains(" ERROR ") && l.contains(
                        "{feature=transaction.version, reason='3 is incompatible with 0-2'}")), String.join("\n", log));
                assertTrue(log.stream().anyMatch(l -> l.contains("Tandem stops (exit 1)")), String.join("\n", log));
            } finally {
                broker.destroyForcibly();
            }
        }
    }

    /** {@code /feature} once the broker, elected controller, created it. */
    private static ZnodeStore.Versioned awaitFeatureNode(ZkZnodeStore zk) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            ZnodeStore.Versioned node = zk.getVersioned(KafkaZkLayout.FEATURE);
            if (node != null) return node;
            assertTrue(System.currentTimeMillis() < deadline, "no " + KafkaZkLayout.FEATURE);
            Thread.sleep(50);
        }
    }

    /** As TandemStartProcessTest starts one: the server's own class path, output and log in files. */
    private Process start(Path data, String... flags) throws IOException {
        String classPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.contains("slf4j")).collect(Collectors.joining(File.pathSeparator));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classPath, "io.tandem.server.Main",
                "start", "--data-dir", data.toString()));
        command.addAll(List.of(flags));
        String name = data.getFileName().toString();
        return new ProcessBuilder(command).redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile()).start();
    }

    /** Waits until the process printed a line starting with {@code prefix} on stdout. */
    private static void awaitLine(Process process, Path out, String prefix) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            if (Files.readAllLines(out).stream().anyMatch(l -> l.startsWith(prefix))) return;
            if (!process.isAlive()) throw new AssertionError("the process ended with " + process.exitValue());
            Thread.sleep(50);
        }
        throw new AssertionError("no line " + prefix + " in " + Files.readAllLines(out));
    }
}
