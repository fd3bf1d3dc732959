package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem start} as a real process: what it prints (ports, data directories), its log lines (text and JSON),
 * and a clean stop on SIGTERM (the broker's ZooKeeper session is closed, so its registration goes at once rather
 * than after the session timeout; the ZooKeeper server writes its snapshot).
 */
class TandemStartProcessTest {
    /** What a line of the text format looks like (LogLineFormatterTest checks the parts). */
    private static final String TEXT_LINE =
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (ERROR|WARN |INFO |DEBUG|TRACE) "
                    + "\\[[^\\]]+] [\\w$]+: .*";
    /** SIGTERM's exit status: 128 + 15. */
    private static final int SIGTERM_EXIT = 143;

    @TempDir
    Path dir;

    @Test
    void shouldPrintPortsAndDataAndLogOneJsonObjectPerLineAndLeaveZooKeeperOnSigterm() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            Process broker = start(dir.resolve("broker"), "--roles", "kafka", "--kafka-port", "0",
                    "--set", "listeners=PLAINTEXT://127.0.0.1:0", "--set", "zookeeper.connect="
                            + zookeeper.zookeeperConnect(), "--set", "metrics.port=0", "--log-format", "json");
            try (ZooKeeper zk = zkClient(zookeeper.zookeeperConnect())) {
                List<String> out = awaitLine(broker, dir.resolve("broker.out"), "  Kafka logs");
                assertTrue(out.stream().anyMatch(l -> l.matches("  Kafka +127\\.0\\.0\\.1:\\d+ .*")), out.toString());
                assertTrue(out.stream().anyMatch(l -> l.matches("  Metrics +http://127\\.0\\.0\\.1:\\d+/metrics")),
                        out.toString());
                assertTrue(out.stream().anyMatch(l -> l.endsWith(dir.resolve("broker").resolve("kafka-logs")
                        .toAbsolutePath().toString())), out.toString());
                assertNotNull(zk.exists("/brokers/ids/0", false), "registered");

                broker.destroy(); // SIGTERM
                assertTrue(broker.waitFor(30, TimeUnit.SECONDS));
                assertEquals(SIGTERM_EXIT, broker.exitValue());
                // The session was closed, not abandoned: the ephemeral is gone now, well before the 18 s timeout.
                assertNull(zk.exists("/brokers/ids/0", false), "the broker's registration left with it");
            }
            List<String> log = Files.readAllLines(dir.resolve("broker.err"));
            ObjectMapper json = new ObjectMapper();
            for (String line : log) {
                JsonNode record = json.readTree(line);
                for (String field : List.of("time", "level", "thread", "logger", "message")) {
                    assertTrue(record.hasNonNull(field), field + " in " + line);
                }
            }
            assertTrue(log.get(log.size() - 1).contains("Tandem stopped in"), log.get(log.size() - 1));
        }
    }

    @Test
    void shouldLogOneTextLinePerRecordAndSnapshotOnSigterm() throws Exception {
        Path data = dir.resolve("node");
        Process node = start(data, "--zk-port", "0", "--kafka-port", "0", "--set", "clientPortAddress=127.0.0.1",
                "--set", "listeners=PLAINTEXT://127.0.0.1:0", "--log-level", "debug");
        List<String> out = awaitLine(node, dir.resolve("node.out"), "  Kafka logs");
        assertTrue(out.stream().anyMatch(l -> l.matches("  ZooKeeper +127\\.0\\.0\\.1:\\d+ .*")), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.matches("  ZooKeeper data +" + java.util.regex.Pattern.quote(
                data.resolve("zookeeper").toAbsolutePath().toString()))), out.toString());
        node.destroy();
        assertTrue(node.waitFor(30, TimeUnit.SECONDS));
        assertEquals(SIGTERM_EXIT, node.exitValue());
        List<String> log = Files.readAllLines(dir.resolve("node.err"));
        assertTrue(log.stream().anyMatch(l -> l.contains(" DEBUG ")), "--log-level debug lets DEBUG through");
        for (String line : log) {
            assertTrue(line.matches(TEXT_LINE) || line.startsWith("\t"), "not a log line: " + line);
        }
        assertTrue(log.get(log.size() - 1).contains("Main: Tandem stopped in"), log.get(log.size() - 1));
        try (Stream<Path> snapshots = Files.list(data.resolve("zookeeper").resolve("snapshots"))) {
            assertTrue(snapshots.findAny().isPresent(), "the clean stop wrote a snapshot");
        }
    }

    @Test
    void shouldRefuseAnUnknownLogLevel() throws Exception {
        Process node = start(dir.resolve("bad"), "--log-level", "loud");
        assertTrue(node.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, node.exitValue(), "picocli's usage error");
        assertTrue(Files.readString(dir.resolve("bad.err")).contains("unknown log level 'loud'"));
    }

    @Test
    void shouldStartAPlainCommandLineWithoutLoadingPicocli() throws Exception {
        // The class loading log of the JVM itself: picocli costs more than a hundred classes outside the launcher's
        // class-data archive, and its model of the command, before any role starts.
        Path classes = dir.resolve("classes.log");
        Process node = start(List.of("-Xlog:class+load=info:file=" + classes), dir.resolve("plain"), "--zk-port", "0",
                "--kafka-port=0", "--set", "clientPortAddress=127.0.0.1", "--set", "listeners=PLAINTEXT://127.0.0.1:0");
        List<String> out = awaitLine(node, dir.resolve("plain.out"), "  Kafka logs");
        assertTrue(out.stream().anyMatch(l -> l.matches("  Kafka +127\\.0\\.0\\.1:\\d+ .*")), out.toString());
        node.destroy();
        assertTrue(node.waitFor(30, TimeUnit.SECONDS));
        assertEquals(SIGTERM_EXIT, node.exitValue());
        List<String> loaded = Files.readAllLines(classes);
        assertTrue(loaded.stream().anyMatch(l -> l.contains("io.tandem.server.kafka.KafkaBroker ")), "the log is read");
        List<String> picocli = loaded.stream().filter(l -> l.contains(" picocli.")).toList();
        assertEquals(0, picocli.size(), "picocli classes loaded, the first: " + picocli.stream().limit(3).toList());
    }

    @Test
    void shouldAnswerStartHelpAndBadFlagsWithPicocliAsBefore() throws Exception {
        java.io.StringWriter usage = new java.io.StringWriter();
        new picocli.CommandLine(new Main.Start()).usage(new java.io.PrintWriter(usage));
        Process help = start(List.of(), dir.resolve("help"), "--help");
        assertTrue(help.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, help.exitValue());
        String printed = Files.readString(dir.resolve("help.out"));
        assertTrue(printed.startsWith("Usage: tandem start [-hV] [--console-port=PORT] [--data-dir=DIR]"), printed);
        assertEquals(usage.toString().lines().dropWhile(l -> !l.equals("Start a Tandem node.")).toList(),
                printed.lines().dropWhile(l -> !l.equals("Start a Tandem node.")).toList(),
                "the options as picocli lists them");

        Process bad = start(List.of(), dir.resolve("bad-flag"), "--zk-port", "0", "--zk-port", "1");
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, bad.exitValue(), "picocli's usage error");
        assertTrue(Files.readString(dir.resolve("bad-flag.err")).startsWith(
                "option '--zk-port' (PORT) should be specified only once"), Files.readString(dir.resolve("bad-flag.err")));
    }

    private Process start(Path data, String... flags) throws IOException {
        return start(List.of(), data, flags);
    }

    private Process start(List<String> jvmOptions, Path data, String... flags) throws IOException {
        // The server's own class path: the test scope's SLF4J (Apache ZooKeeper's) would print its own warnings.
        String classPath = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !entry.contains("slf4j")).collect(java.util.stream.Collectors.joining(
                        java.io.File.pathSeparator));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classPath, "io.tandem.server.Main", "start", "--data-dir", data.toString()));
        command.addAll(List.of(flags));
        String name = data.getFileName().toString();
        return new ProcessBuilder(command).redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile()).start();
    }

    /** Waits until the process printed a line starting with {@code prefix} on stdout; returns its output so far. */
    private List<String> awaitLine(Process process, Path out, String prefix) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            List<String> lines = Files.readAllLines(out);
            if (lines.stream().anyMatch(l -> l.startsWith(prefix))) return lines;
            if (!process.isAlive()) throw new AssertionError("the process ended with " + process.exitValue());
            Thread.sleep(50);
        }
        throw new AssertionError("no line " + prefix + " in " + Files.readAllLines(out));
    }

    private static ZooKeeper zkClient(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 30_000, event -> {
            if (event.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
        return zk;
    }
}
