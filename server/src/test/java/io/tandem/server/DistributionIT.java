package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
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
    @TempDir
    Path dir;

    @Test
    void shouldUnpackToARunnableNodeWithExampleConfigsAndLicences() throws Exception {
        Path home = Distribution.unpack(dir);
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

        int zookeeperPort = Distribution.freePort();
        int kafkaPort = Distribution.freePort();
        Path data = dir.resolve("data");
        Process node = Distribution.start(Distribution.launcher(home, dir, "start",
                "-c", home.resolve("config/zoo.cfg").toString(), "-c", home.resolve("config/server.properties").toString(),
                "--zk-port", Integer.toString(zookeeperPort), "--kafka-port", Integer.toString(kafkaPort),
                "--set", "dataDir=" + data.resolve("zookeeper"), "--set", "log.dirs=" + data.resolve("kafka-logs")))
                .process();
        try {
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
}
