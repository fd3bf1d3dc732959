package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive {@code mvn package} writes: unpacked, it holds bin/tandem, lib/, the example configs and
 * the licences, and {@code bin/tandem start} with the example configs serves real clients with nothing on the PATH
 * but a JDK (no Maven, no checkout). Runs after package (failsafe), on the archive of this build.
 */
class DistributionIT {
    private static final long START_SECONDS_MAX = 120;

    @TempDir
    Path dir;

    @Test
    void shouldUnpackToARunnableNodeWithExampleConfigsAndLicences() throws Exception {
        Path archive = Path.of(System.getProperty("tandem.distribution", "target/tandem-0.1.0-SNAPSHOT.tar.gz"));
        assertTrue(Files.isRegularFile(archive), "the archive exists: " + archive);
        run(dir, "tar", "xzf", archive.toAbsolutePath().toString());
        Path home;
        try (Stream<Path> top = Files.list(dir)) {
            home = top.filter(p -> p.getFileName().toString().startsWith("tandem-")).findFirst().orElseThrow();
        }
        Path launcher = home.resolve("bin/tandem");
        assertTrue(Files.getPosixFilePermissions(launcher).contains(PosixFilePermission.OWNER_EXECUTE),
                "bin/tandem is executable");
        assertTrue(Files.isRegularFile(home.resolve("config/zoo.cfg")));
        assertTrue(Files.isRegularFile(home.resolve("config/server.properties")));
        assertTrue(Files.readString(home.resolve("licences/Apache-2.0.txt")).contains("TERMS AND CONDITIONS"));
        String thirdParty = Files.readString(home.resolve("licences/THIRD-PARTY.txt"));
        try (Stream<Path> libs = Files.list(home.resolve("lib"))) {
            List<String> jars = libs.map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(jars.stream().anyMatch(j -> j.startsWith("tandem-server-")), jars.toString());
            assertTrue(jars.stream().anyMatch(j -> j.startsWith("netty-common-")), jars.toString());
            assertFalse(jars.stream().anyMatch(j -> j.startsWith("junit-")), "JUnit is not shipped: " + jars);
            for (String jar : jars) {
                if (jar.startsWith("tandem-")) continue;
                String artifact = jar.replaceFirst("-\\d.*$", "");
                assertTrue(thirdParty.contains(":" + artifact + ":"), "THIRD-PARTY.txt names " + artifact);
            }
        }

        int zookeeperPort = freePort();
        int kafkaPort = freePort();
        Path data = dir.resolve("data");
        ProcessBuilder start = new ProcessBuilder(launcher.toString(), "start",
                "-c", home.resolve("config/zoo.cfg").toString(), "-c", home.resolve("config/server.properties").toString(),
                "--zk-port", Integer.toString(zookeeperPort), "--kafka-port", Integer.toString(kafkaPort),
                "--set", "dataDir=" + data.resolve("zookeeper"), "--set", "log.dirs=" + data.resolve("kafka-logs"))
                .directory(dir.toFile()).redirectErrorStream(true);
        onlyAJdk(start.environment());
        Process node = start.start();
        try {
            CompletableFuture<String> started = new CompletableFuture<>();
            StringBuilder output = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        synchronized (output) {
                            output.append(line).append('\n');
                        }
                        if (line.startsWith("Tandem started")) started.complete(line);
                    }
                    started.completeExceptionally(new AssertionError("exited before starting"));
                } catch (IOException e) {
                    started.completeExceptionally(e);
                }
            });
            reader.setDaemon(true);
            reader.start();
            try {
                started.get(START_SECONDS_MAX, TimeUnit.SECONDS);
            } catch (Exception e) {
                synchronized (output) {
                    throw new AssertionError("bin/tandem start did not start:\n" + output, e);
                }
            }
            CountDownLatch connected = new CountDownLatch(1);
            try (ZooKeeper zk = new ZooKeeper("127.0.0.1:" + zookeeperPort, 10_000, event -> {
                if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
            })) {
                assertTrue(connected.await(30, TimeUnit.SECONDS), "a ZooKeeper session");
                assertTrue(zk.exists("/zookeeper", false) != null);
            }
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + kafkaPort))) {
                admin.createTopics(List.of(new NewTopic("from-the-archive", 1, (short) 1))).all()
                        .get(60, TimeUnit.SECONDS);
                assertTrue(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains("from-the-archive"));
            }
            assertTrue(Files.isDirectory(data.resolve("kafka-logs").resolve("from-the-archive-0")),
                    "the example server.properties' log.dirs (overridden here) holds the logs");
            node.destroy(); // SIGTERM: the graceful shutdown
            assertTrue(node.waitFor(60, TimeUnit.SECONDS), "stopped by SIGTERM");
        } finally {
            if (node.isAlive()) node.destroyForcibly();
        }
    }

    /** A PATH with the running JDK's bin and the basic system tools only: no Maven, no other Java. */
    private static void onlyAJdk(Map<String, String> environment) {
        String javaHome = System.getProperty("java.home");
        environment.clear();
        environment.put("PATH", javaHome + "/bin:/usr/bin:/bin");
        environment.put("HOME", System.getProperty("java.io.tmpdir"));
    }

    private static void run(Path workDir, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).inheritIO().start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), String.join(" ", command));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
