package io.tandem.compat.kafka.suite;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * The real Apache Kafka, same version as the kafka-clients on the test class path, run as a separate JVM in KRaft
 * combined mode (broker + controller) on free ports. Its jars are fetched from Maven Central on first use into
 * {@code target/apache-kafka-VERSION/lib} with {@code mvn dependency:copy-dependencies}, so nothing of Apache's is
 * committed and later runs start without the network.
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
        int controllerPort = freePort();
        Files.createDirectories(dataDir);
        Files.writeString(properties, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
                "")
                + settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + "\n")
                        .collect(java.util.stream.Collectors.joining()));
        Process format = java("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(),
                "-c", properties.toString())
                .redirectOutput(workDir.resolve("format.log").toFile()).redirectErrorStream(true).start();
        waitFor(format, "StorageTool format", workDir.resolve("format.log"));
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
            return new ApacheKafkaTarget(fetchJars(), workDir, settings);
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
        process = java("-Xmx512m", "-Xms256m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "kafka.Kafka",
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
        p.destroy(); // SIGTERM: Kafka's controlled shutdown, so the restart tests see a clean stop as in production.
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    private ProcessBuilder java(String... args) {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(javaBin, "-cp", lib.toAbsolutePath() + "/*"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** Fetches kafka_2.13 and kafka-tools of the client's version (once) and returns the lib directory. */
    static synchronized Path fetchJars() throws IOException {
        String version = clientVersion();
        Path home = moduleDir().resolve("target").resolve("apache-kafka-" + version);
        Path lib = home.resolve("lib");
        if (Files.isDirectory(lib)) {
            return lib;
        }
        Files.createDirectories(home);
        Path pom = home.resolve("fetch-pom.xml");
        Files.writeString(pom, """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Written by the Kafka compatibility suite: fetches Apache Kafka's broker to test against. -->
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>io.tandem.compat</groupId>
                  <artifactId>apache-kafka-fetch</artifactId>
                  <version>1</version>
                  <dependencies>
                    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>%1$s</version></dependency>
                    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>%1$s</version></dependency>
                  </dependencies>
                </project>
                """.formatted(version));
        Path partial = home.resolve("lib.partial");
        deleteTree(partial);
        Path fetchLog = home.resolve("fetch.log");
        Process mvn = new ProcessBuilder(mavenExecutable(), "-q", "-B", "-f", pom.toString(),
                "dependency:copy-dependencies", "-DoutputDirectory=" + partial)
                .redirectOutput(fetchLog.toFile()).redirectErrorStream(true).start();
        waitFor(mvn, "mvn dependency:copy-dependencies of Apache Kafka " + version, fetchLog);
        // Renamed only when complete, so an interrupted fetch is redone rather than half-used.
        Files.move(partial, lib, StandardCopyOption.ATOMIC_MOVE);
        return lib;
    }

    /** The kafka-clients version on the class path, from the properties file its jar carries. */
    private static String clientVersion() throws IOException {
        try (var in = Admin.class.getClassLoader().getResourceAsStream("kafka/kafka-version.properties")) {
            if (in == null) {
                throw new IOException("kafka/kafka-version.properties not found on the class path");
            }
            java.util.Properties props = new java.util.Properties();
            props.load(in);
            return props.getProperty("version").trim();
        }
    }

    private static String mavenExecutable() {
        String mavenHome = System.getProperty("maven.home");
        if (mavenHome != null && Files.isExecutable(Path.of(mavenHome, "bin", "mvn"))) {
            return Path.of(mavenHome, "bin", "mvn").toString();
        }
        return "mvn";
    }

    static Path moduleDir() {
        String basedir = System.getProperty("basedir");
        return Path.of(basedir != null ? basedir : "").toAbsolutePath();
    }

    private static void waitFor(Process process, String what, Path output) throws IOException {
        try {
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException(what + " timed out");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(what + " interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException(what + " failed with exit code " + process.exitValue() + ":\n" + tail(output));
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
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
