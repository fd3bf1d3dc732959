package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.ApacheKafkaLauncher.freePort;
import static io.tandem.compat.kafka.ApacheKafkaLauncher.java;
import static io.tandem.compat.kafka.ApacheKafkaLauncher.tail;

import io.tandem.compat.kafka.ApacheKafkaLauncher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * The real Apache Kafka, same version as the kafka-clients on the test class path, run as a separate JVM in KRaft
 * combined mode (broker + controller) on free ports. Its jars are fetched from Maven Central on first use into
 * {@code target/apache-kafka-VERSION/lib} by {@link ApacheKafkaLauncher}.
 */
final class ApacheKafkaTarget implements KafkaTarget {
    private static final System.Logger LOG = System.getLogger(ApacheKafkaTarget.class.getName());
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final Path lib;
    private final Path dataDir;
    private final Path properties;
    private final Path log;
    private final int port;
    private Process process;
    private final Thread killOnExit = new Thread(this::stopProcess, "apache-kafka-kill-on-exit");

    private ApacheKafkaTarget(Path lib, Path workDir, Map<String, String> settings) throws IOException {
        this.lib = lib;
        this.dataDir = workDir.resolve("data");
        this.properties = workDir.resolve("server.properties");
        this.log = workDir.resolve("kafka.log");
        this.port = freePort();
        Files.createDirectories(dataDir);
        List<String> lines = new ArrayList<>(ApacheKafkaLauncher.kraftCombined(1, port, freePort()));
        lines.addAll(List.of(
                "log.dirs=" + dataDir.toAbsolutePath(),
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=5",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=5",
                // TransactionsTest waits for a timed-out transaction to be aborted; Kafka checks every 10 s.
                "transaction.abort.timed.out.transaction.cleanup.interval.ms=500",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                // Consumer-protocol (KIP-848) members learn of a rebalance at their next heartbeat: every 500 ms
                // rather than Kafka's 5 s, so the suite's membership changes take seconds, not tens of them.
                "group.consumer.min.heartbeat.interval.ms=100",
                "group.consumer.heartbeat.interval.ms=500"));
        settings.forEach((key, value) -> lines.add(key + "=" + value));
        Files.writeString(properties, String.join("\n", lines) + "\n");
        ApacheKafkaLauncher.formatStorage(lib, Uuid.randomUuid().toString(), properties,
                workDir.resolve("format.log"));
        Runtime.getRuntime().addShutdownHook(killOnExit);
        startProcess();
    }

    static KafkaTarget start(Path workDir) {
        return start(workDir, Map.of());
    }

    /** With broker settings of the test's own on top of the suite's. */
    static KafkaTarget start(Path workDir, Map<String, String> settings) {
        try {
            Files.createDirectories(workDir);
            String version = ApacheKafkaLauncher.clientsVersion();
            Path lib = ApacheKafkaLauncher.fetchJars("apache-kafka-" + version, List.of(
                    "org.apache.kafka:kafka_2.13:" + version, "org.apache.kafka:kafka-tools:" + version));
            return new ApacheKafkaTarget(lib, workDir, settings);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String bootstrapServers() { return "127.0.0.1:" + port; }

    @Override public String name() { return "apache"; }

    @Override
    public void restart() throws IOException {
        stopProcess();
        startProcess();
    }

    @Override
    public void close() {
        stopProcess();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyExiting) {
            // The hook is running or ran: nothing left to undo.
        }
    }

    private void startProcess() throws IOException {
        // Apache's kafka-server-start.sh flags, with a smaller heap: the test machine is shared.
        process = java(lib, "-Xmx512m", "-Xms256m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "kafka.Kafka",
                properties.toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("Apache Kafka exited with " + process.exitValue() + " during start-up:\n" + tail(log));
            }
            if (answers()) {
                LOG.log(System.Logger.Level.INFO, "Apache Kafka ready on {0}", bootstrapServers());
                return;
            }
            sleep(200);
        }
        stopProcess();
        throw new IOException("Apache Kafka did not answer within " + START_TIMEOUT + ":\n" + tail(log));
    }

    private boolean answers() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        } catch (IOException notYet) {
            return false;
        }
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 4000))) {
            return !admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000)).nodes().get().isEmpty();
        } catch (Exception notYet) {
            return false;
        }
    }

    private void stopProcess() {
        Process p = process;
        if (p == null) {
            return;
        }
        // SIGTERM first: Kafka's controlled shutdown, so the restart tests see a clean stop as in production.
        ApacheKafkaLauncher.stop(p, 60);
        process = null;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Apache Kafka", e);
        }
    }
}
