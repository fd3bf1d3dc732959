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
 * A real Apache Kafka broker run as a separate JVM: Apache's jars (Scala, ZooKeeper 3.8, kafka-clients of its own
 * version) cannot share the test class path with the kafka-clients 4.x the tests decode with. Either 3.9.1 in
 * ZooKeeper mode (broker id 0, on a ZooKeeper the caller runs) or 4.x in KRaft combined mode (node id 0, storage
 * formatted first). The jars are fetched once per version into {@code target/apache-kafka-VERSION-MODE/lib} with
 * {@code mvn dependency:copy-dependencies} of a pom written there, so nothing of Apache's is committed and later
 * runs start without the network.
 */
final class ApacheBroker implements AutoCloseable {
    static final String ZOOKEEPER_MODE_VERSION = "3.9.1";
    private final String version;
    private final Path log;
    private final int port;
    private final Process process;
    private final Thread killOnExit;

    private ApacheBroker(String version, Path workDir, String zookeeperConnect, Map<String, String> settings)
            throws IOException {
        this.version = version;
        boolean kraft = zookeeperConnect == null;
        Path lib = fetchJars(version, kraft);
        Files.createDirectories(workDir);
        this.log = workDir.resolve("kafka.log");
        this.port = freePort();
        List<String> lines = new ArrayList<>(List.of("log.dirs=" + workDir.resolve("data").toAbsolutePath()));
        if (kraft) {
            int controllerPort = freePort();
            lines.addAll(List.of("process.roles=broker,controller", "node.id=0",
                    "controller.quorum.voters=0@127.0.0.1:" + controllerPort,
                    "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                    "advertised.listeners=PLAINTEXT://127.0.0.1:" + port, "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"));
        } else {
            lines.addAll(List.of("broker.id=0", "listeners=PLAINTEXT://127.0.0.1:" + port,
                    "zookeeper.connect=" + zookeeperConnect));
        }
        settings.forEach((k, v) -> lines.add(k + "=" + v));
        Path properties = workDir.resolve("server.properties");
        Files.writeString(properties, String.join("\n", lines) + "\n");
        if (kraft) {
            Process format = java(lib, "kafka.tools.StorageTool", "format", "-t", "MkU3OEVBNTcwNTJENDM2Qg",
                    "-c", properties.toString()).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectErrorStream(true).start();
            await(format, "StorageTool format of Apache Kafka " + version, log);
        }
        // A small heap: the machine is shared. Kafka's own start script would give 1 GB.
        process = java(lib, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "kafka.Kafka",
                properties.toString()).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true).start();
        killOnExit = new Thread(process::destroyForcibly, "apache-kafka-kill-on-exit");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** Apache Kafka 3.9.1 in ZooKeeper mode on the given ZooKeeper. */
    static ApacheBroker zookeeperMode(Path workDir, String zookeeperConnect, Map<String, String> settings)
            throws IOException {
        return new ApacheBroker(ZOOKEEPER_MODE_VERSION, workDir, zookeeperConnect, settings);
    }

    /** Apache Kafka of the given 4.x version in KRaft combined mode (a fixed cluster id). */
    static ApacheBroker kraftMode(String version, Path workDir, Map<String, String> settings) throws IOException {
        return new ApacheBroker(version, workDir, null, settings);
    }

    String version() {
        return version;
    }

    private static ProcessBuilder java(Path lib, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", lib.toAbsolutePath() + "/*"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    private static void await(Process process, String what, Path output) throws IOException {
        try {
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IOException(what + " failed:\n" + Files.readString(output));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(what + " interrupted", e);
        }
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

    /** Fetches kafka_2.13 (and for KRaft kafka-tools) of a version with dependencies, once; returns the lib dir. */
    private static synchronized Path fetchJars(String version, boolean kraft) throws IOException {
        String basedir = System.getProperty("basedir");
        Path home = Path.of(basedir != null ? basedir : "").toAbsolutePath().resolve("target")
                .resolve("apache-kafka-" + version + (kraft ? "-kraft" : "-zk"));
        Path lib = home.resolve("lib");
        if (Files.isDirectory(lib)) return lib;
        Files.createDirectories(home);
        Path pom = home.resolve("fetch-pom.xml");
        String tools = kraft ? "<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>"
                + "<version>" + version + "</version></dependency>" : "";
        Files.writeString(pom, """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Written by the differential tests: fetches Apache Kafka's broker to compare with. -->
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>io.tandem.compat</groupId>
                  <artifactId>apache-kafka-fetch</artifactId>
                  <version>1</version>
                  <dependencies>
                    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>%s</version></dependency>
                    %s
                    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
                  </dependencies>
                </project>
                """.formatted(version, tools));
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
        await(fetch, "fetching Apache Kafka " + version, fetchLog);
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
