package io.tandem.compat.kafka.differential;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Apache Kafka 3.9.1 in ZooKeeper mode, run as a separate JVM: its jars (Scala, ZooKeeper 3.8, kafka-clients 3.9)
 * cannot share the test class path with kafka-clients 4.x. They are fetched once into
 * {@code target/apache-kafka-3.9.1-zk/lib} with {@code mvn dependency:copy-dependencies} of a pom written there, so
 * nothing of Apache's is committed and later runs start without the network.
 */
final class ApacheKafka39Broker implements AutoCloseable {
    static final String VERSION = "3.9.1";
    private final Path log;
    private final int port;
    private final Process process;
    private final Thread killOnExit;

    private ApacheKafka39Broker(Path workDir, String zookeeperConnect, Map<String, String> settings) throws IOException {
        Path lib = fetchJars();
        Files.createDirectories(workDir);
        this.log = workDir.resolve("kafka.log");
        this.port = freePort();
        List<String> lines = new ArrayList<>(List.of(
                "broker.id=0",
                "listeners=PLAINTEXT://127.0.0.1:" + port,
                "log.dirs=" + workDir.resolve("data").toAbsolutePath(),
                "zookeeper.connect=" + zookeeperConnect));
        settings.forEach((k, v) -> lines.add(k + "=" + v));
        Path properties = workDir.resolve("server.properties");
        Files.writeString(properties, String.join("\n", lines) + "\n");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // A small heap: the machine is shared. Kafka's own start script would give 1 GB.
        process = new ProcessBuilder(javaBin, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", lib.toAbsolutePath() + "/*", "kafka.Kafka", properties.toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        killOnExit = new Thread(process::destroyForcibly, "apache-kafka-39-kill-on-exit");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    static ApacheKafka39Broker start(Path workDir, String zookeeperConnect, Map<String, String> settings)
            throws IOException {
        return new ApacheKafka39Broker(workDir, zookeeperConnect, settings);
    }

    int port() {
        return port;
    }

    boolean alive() {
        return process.isAlive();
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyExiting) {
            // The hook is running or ran: nothing left to undo.
        }
    }

    /** Fetches kafka_2.13 3.9.1 with its dependencies (once) and returns the lib directory. */
    private static synchronized Path fetchJars() throws IOException {
        String basedir = System.getProperty("basedir");
        Path home = Path.of(basedir != null ? basedir : "").toAbsolutePath().resolve("target")
                .resolve("apache-kafka-" + VERSION + "-zk");
        Path lib = home.resolve("lib");
        if (Files.isDirectory(lib)) return lib;
        Files.createDirectories(home);
        Path pom = home.resolve("fetch-pom.xml");
        Files.writeString(pom, """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Written by ApacheResponseDifferentialTest: fetches Apache Kafka 3.9's broker to compare with. -->
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>io.tandem.compat</groupId>
                  <artifactId>apache-kafka-39-fetch</artifactId>
                  <version>1</version>
                  <dependencies>
                    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>%s</version></dependency>
                    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
                  </dependencies>
                </project>
                """.formatted(VERSION));
        Path partial = home.resolve("lib.partial");
        if (Files.exists(partial)) {
            try (Stream<Path> paths = Files.walk(partial)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        Path fetchLog = home.resolve("fetch.log");
        String mavenHome = System.getProperty("maven.home");
        String mvn = mavenHome != null && Files.isExecutable(Path.of(mavenHome, "bin", "mvn"))
                ? Path.of(mavenHome, "bin", "mvn").toString() : "mvn";
        Process fetch = new ProcessBuilder(mvn, "-q", "-B", "-f", pom.toString(), "dependency:copy-dependencies",
                "-DoutputDirectory=" + partial).redirectOutput(fetchLog.toFile()).redirectErrorStream(true).start();
        try {
            if (!fetch.waitFor(10, TimeUnit.MINUTES) || fetch.exitValue() != 0) {
                fetch.destroyForcibly();
                throw new IOException("fetching Apache Kafka " + VERSION + " failed: " + Files.readString(fetchLog));
            }
        } catch (InterruptedException e) {
            fetch.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching Apache Kafka " + VERSION, e);
        }
        // Renamed only when complete, so an interrupted fetch is redone rather than half-used.
        Files.move(partial, lib, StandardCopyOption.ATOMIC_MOVE);
        return lib;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
