package io.tandem.compat.kafka;

import io.tandem.server.TestPorts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * How the tests that run a real Apache Kafka broker in its own JVM start it (the suite's {@code ApacheKafkaTarget},
 * the differential tests' {@code ApacheBroker}): Apache's jars cannot share the test class path, so they are fetched
 * once per version into this module's {@code target} with {@code mvn dependency:copy-dependencies} of a pom written
 * there (nothing of Apache's is committed, and later runs start without the network), and run with a java command
 * over them; a KRaft combined-mode broker gets its listeners and its storage formatted first.
 */
public final class ApacheKafkaLauncher {
    /** Lines of a failure's log shown with it. */
    private static final int TAIL_LINES = 40;

    /** This module's folder (Maven's basedir, or the working directory outside Maven). */
    public static Path moduleDir() {
        String basedir = System.getProperty("basedir");
        return Path.of(basedir != null ? basedir : "").toAbsolutePath();
    }

    /** The kafka-clients version on the class path, from the properties file its jar carries. */
    public static String clientsVersion() throws IOException {
        try (InputStream in = ApacheKafkaLauncher.class.getClassLoader()
                .getResourceAsStream("kafka/kafka-version.properties")) {
            if (in == null) {
                throw new IOException("kafka/kafka-version.properties not found on the class path");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version").trim();
        }
    }

    /**
     * The lib folder of {@code target/FOLDER}, holding {@code artifacts} ({@code groupId:artifactId:version}) with
     * their dependencies: fetched on first use, then reused.
     */
    public static synchronized Path fetchJars(String folder, List<String> artifacts) throws IOException {
        Path home = moduleDir().resolve("target").resolve(folder);
        Path lib = home.resolve("lib");
        if (Files.isDirectory(lib)) {
            return lib;
        }
        Files.createDirectories(home);
        // Another test JVM of this build (surefire forks) may be fetching the same folder: the first to take the
        // lock fetches, the other waits for it and then finds lib complete. synchronized covers this JVM's threads
        // (a second lock of one file in one JVM throws).
        try (FileChannel lockFile = FileChannel.open(home.resolve("fetch.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
            if (Files.isDirectory(lib)) {
                return lib;
            }
            return fetch(home, lib, artifacts);
        }
    }

    private static Path fetch(Path home, Path lib, List<String> artifacts) throws IOException {
        Path pom = home.resolve("fetch-pom.xml");
        String dependencies = artifacts.stream().map(artifact -> artifact.split(":")).map(gav ->
                "    <dependency><groupId>" + gav[0] + "</groupId><artifactId>" + gav[1] + "</artifactId><version>"
                        + gav[2] + "</version></dependency>\n").collect(Collectors.joining());
        Files.writeString(pom, """
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Written by the compatibility tests: fetches Apache Kafka's broker to run beside Tandem. -->
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>io.tandem.compat</groupId>
                  <artifactId>apache-kafka-fetch</artifactId>
                  <version>1</version>
                  <dependencies>
                %s  </dependencies>
                </project>
                """.formatted(dependencies));
        Path partial = home.resolve("lib.partial");
        deleteTree(partial);
        Path fetchLog = home.resolve("fetch.log");
        Process mvn = new ProcessBuilder(mavenExecutable(), "-q", "-B", "-f", pom.toString(),
                "dependency:copy-dependencies", "-DoutputDirectory=" + partial)
                .redirectOutput(fetchLog.toFile()).redirectErrorStream(true).start();
        waitFor(mvn, "mvn dependency:copy-dependencies of " + artifacts, fetchLog);
        // Renamed only when complete, so an interrupted fetch is redone rather than half-used.
        Files.move(partial, lib, StandardCopyOption.ATOMIC_MOVE);
        return lib;
    }

    /** A {@code java} of this JDK over the jars of {@code lib}, with {@code args} (JVM options, main class, ...). */
    public static ProcessBuilder java(Path lib, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", lib.toAbsolutePath() + "/*"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    /** The settings of a KRaft combined-mode (broker and controller) single node on 127.0.0.1. */
    public static List<String> kraftCombined(int nodeId, int port, int controllerPort) {
        return List.of("process.roles=broker,controller", "node.id=" + nodeId,
                "controller.quorum.voters=" + nodeId + "@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port, "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    }

    /** Formats a KRaft node's storage ({@code kafka-storage format}) before its first start; output to {@code log}. */
    public static void formatStorage(Path lib, String clusterId, Path properties, Path log) throws IOException {
        Process format = java(lib, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", properties.toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        waitFor(format, "StorageTool format", log);
    }

    /** Waits up to 10 minutes for a tool to end, and fails with its output's tail unless it ended with 0. */
    public static void waitFor(Process process, String what, Path output) throws IOException {
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

    /**
     * Stops a broker as its operators would (SIGTERM: Kafka's controlled shutdown, so a restart finds a clean stop),
     * and kills it if it has not ended within {@code graceSeconds}.
     */
    public static void stop(Process process, int graceSeconds) {
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** The last lines of a log, for failure messages. */
    public static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /**
     * A port for a broker's listener, named before the broker binds it: the server test-jar's TestPorts, so a port
     * lies below the ephemeral range in this surefire fork's own share, where neither the other fork's servers nor
     * anyone's outgoing connection lands while the broker's JVM starts.
     */
    public static int freePort() throws IOException {
        return TestPorts.freePort();
    }

    private static String mavenExecutable() {
        String mavenHome = System.getProperty("maven.home");
        if (mavenHome != null && Files.isExecutable(Path.of(mavenHome, "bin", "mvn"))) {
            return Path.of(mavenHome, "bin", "mvn").toString();
        }
        return "mvn";
    }

    /** Deletes what an interrupted fetch left, children before their folders. */
    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir).sorted(Comparator.reverseOrder())) {
                for (Path p : paths.toList()) Files.delete(p);
            }
        }
    }

    private ApacheKafkaLauncher() {
    }
}
