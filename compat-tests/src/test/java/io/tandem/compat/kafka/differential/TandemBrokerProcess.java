package io.tandem.compat.kafka.differential;

import io.tandem.compat.kafka.ApacheKafkaLauncher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Tandem broker ({@code --roles kafka}) in its own JVM, so that a test can SIGKILL it as it kills an
 * {@link ApacheBroker}: an in-process broker can only be closed, which is a controlled shutdown. Started from this
 * JVM's class path with {@code tandem start}; restarted on the same port and data directory.
 */
final class TandemBrokerProcess extends BrokerProcess {
    private final int brokerId;
    private final int port;

    /** Starts broker {@code brokerId} on {@code zookeeperConnect}; {@code settings} are extra {@code key=value}s. */
    TandemBrokerProcess(int brokerId, Path workDir, String zookeeperConnect, List<String> settings) throws IOException {
        this.brokerId = brokerId;
        Path dataDir = Files.createDirectories(workDir.resolve("data"));
        this.port = ApacheKafkaLauncher.freePort();
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // As the Apache broker beside it: a small heap and C1 only, the machine is shared.
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--roles", "kafka", "--data-dir", dataDir.toString(), "--kafka-port", Integer.toString(port),
                "--set", "broker.id=" + brokerId, "--set", "zookeeper.connect=" + zookeeperConnect,
                "--set", "listeners=PLAINTEXT://127.0.0.1:" + port,
                // As Kafka's own test harness: the last broker of a cluster leads partitions nobody can take and
                // would retry its controlled shutdown 3 times 5 s apart before it stops.
                "--set", "controlled.shutdown.retry.backoff.ms=100"));
        for (String setting : settings) {
            command.add("--set");
            command.add(setting);
        }
        launch(new ProcessBuilder(command), workDir.resolve("tandem.log"), "tandem-broker");
    }

    int brokerId() {
        return brokerId;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }
}
