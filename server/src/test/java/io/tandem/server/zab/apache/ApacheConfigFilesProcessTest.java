package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ReconfigChecks.assertSameConfig;
import static io.tandem.server.zab.apache.ReconfigChecks.text;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.ApacheQuorumProcess.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, the configuration files Apache's QuorumPeer keeps beside zoo.cfg, kept by a Tandem member started on a
 * zoo.cfg in Apache mode with {@code reconfigEnabled}: on each activation {@code zoo.cfg.dynamic.<version>} and zoo.cfg
 * rewritten to point at it (as Apache's own editStaticConfig rewrites it, compared byte for byte), and, when a reconfig
 * is logged and not committed, {@code zoo.cfg.dynamic.next} (byte for byte the file the Apache leader wrote), which a
 * restart reads as Apache's does. The zoo.cfg and data directory Tandem leaves go to an Apache 3.9.5 server as they
 * are.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheConfigFilesProcessTest {
    @TempDir
    Path temp;

    /**
     * Tandem (sid 3) with Apache members 1 and 2: the first activation (NEWLEADER's version) rewrites Tandem's
     * zoo.cfg as Apache's editStaticConfig does; a reconfig removing member 2 writes the new dynamic file and points
     * zoo.cfg at it. Tandem is then replaced by Apache's QuorumPeerMain on the same zoo.cfg and data directory: it
     * joins with the reconfigured members and version, and serves.
     */
    @Test
    void anApacheServerTakesTheZooCfgAndDataDirectoryTandemLeftAfterAReconfig() throws Exception {
        List<String> shared = ReconfigAdmin.settings();
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, shared);
        Path zooCfg = writeZooCfg(ensemble, shared);
        Path original = Files.copy(zooCfg, temp.resolve("zoo.cfg.as-written"));
        Path log = temp.resolve("tandem.log");
        Process tandem = startTandem(zooCfg, log);
        try (ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess two = ensemble.startApache(2);
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().matches("leader|follower")
                    && (one.mode() + two.mode()).matches("(leader|follower){2}"), ZkClients.TIMEOUT_MS),
                    () -> "Tandem " + ensemble.tandemMode() + "\n" + ApacheQuorumProcess.tail(log, 60));
            ZooKeeper onOne = clients.connect(ensemble.ports(1));
            ZooKeeper onTandem = clients.connect(ensemble.tandem);
            String established = assertSameConfig(onTandem, onOne);
            Path firstDynamic = dynamicFile(zooCfg, established);
            assertTrue(ApacheQuorumProcess.await(() -> Files.exists(firstDynamic)
                    && ApacheQuorumProcess.readLog(zooCfg).contains("dynamicConfigFile="), ZkClients.TIMEOUT_MS),
                    () -> "Tandem never rewrote its zoo.cfg:\n" + ApacheQuorumProcess.readLog(zooCfg));
            // Apache's own rewrite of the zoo.cfg as written, pointing at the same file: the same bytes.
            QuorumPeerConfig.editStaticConfig(original.toString(), firstDynamic.toString(), false);
            assertEquals(Files.readString(original), Files.readString(zooCfg), "zoo.cfg as editStaticConfig writes it");
            assertEquals(Files.readString(dynamicFile(temp.resolve("1").resolve("zoo.cfg"), established)),
                    Files.readString(firstDynamic), "the dynamic file as Apache member 1 wrote it");

            ZooKeeperAdmin admin = ReconfigAdmin.connect(ensemble.ports(1));
            String withoutTwo;
            try {
                withoutTwo = text(admin.reconfigure((String) null, "2", null, -1, null));
            } finally {
                admin.close();
            }
            Path reconfigured = dynamicFile(zooCfg, withoutTwo);
            String pointer = "dynamicConfigFile=" + reconfigured.toFile().getCanonicalPath();
            assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.readLog(zooCfg).contains(pointer),
                    ZkClients.TIMEOUT_MS),
                    () -> "zoo.cfg never named " + reconfigured + ":\n" + ApacheQuorumProcess.readLog(zooCfg));
            assertFalse(Files.readString(reconfigured).contains("server.2="), Files.readString(reconfigured));
            onOne.create("/before-handover", bytes("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            try (ApacheQuorumProcess three = ApacheQuorumProcess.startOn(zooCfg, temp.resolve("apache-3.log"),
                    ensemble.tandem)) {
                assertTrue(ApacheQuorumProcess.await(() -> three.mode().matches("leader|follower"),
                        ZkClients.TIMEOUT_MS), () -> "Apache on Tandem's files is " + three.mode() + ":\n"
                        + ApacheQuorumProcess.tail(three.log, 80));
                ZooKeeper onThree = clients.connect(ensemble.tandem);
                sync(onThree, "/");
                assertEquals(withoutTwo, text(onThree.getConfig(false, null)), "the reconfigured members and version");
                assertArrayEquals(bytes("t"), onThree.getData("/before-handover", false, null));
                ZkClients.retryOnConnectionLoss(() -> onThree.create("/after-handover", null, Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT));
                sync(onOne, "/after-handover");
                assertTrue(onOne.exists("/after-handover", false) != null);
            }
        } finally {
            tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A reconfig logged and not committed when the leader changes. Apache 3 leads Apache 2 and Tandem (sid 1); with
     * member 2 stopped (still counted as synced for syncLimit), a reconfig adding a member 4 that never runs is
     * proposed: Tandem and the leader log it, but the new configuration has no quorum, so it cannot commit and the
     * leader steps down. Tandem wrote {@code zoo.cfg.dynamic.next} byte for byte as the Apache leader did. Both are
     * restarted: each reads its next file as its last seen configuration and deletes it, as Apache's start-up does;
     * with member 2 back, a leader is elected with a quorum of both configurations and completes the reconfig, which
     * every member then runs, Tandem's zoo.cfg pointing at the new dynamic file.
     */
    @Test
    void aReconfigLoggedButNotCommittedIsTheLastSeenConfigurationAfterARestart() throws Exception {
        List<String> shared = ReconfigAdmin.settings();
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 1, shared);
        Path zooCfg = writeZooCfg(ensemble, shared);
        Path tandemNext = Path.of(zooCfg + ".dynamic.next");
        Path apacheZooCfg = temp.resolve("3").resolve("zoo.cfg");
        Path apacheNext = Path.of(apacheZooCfg + ".dynamic.next");
        Path log = temp.resolve("tandem.log");
        Process tandem = null;
        ApacheQuorumProcess three = null;
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ZkClients clients = new ZkClients()) {
            three = ensemble.startApache(3);
            ApacheQuorumProcess leader = three;
            assertTrue(ApacheQuorumProcess.await(() -> leader.mode().equals("leader"), ZkClients.TIMEOUT_MS),
                    () -> ApacheQuorumProcess.tail(leader.log, 60));
            tandem = startTandem(zooCfg, log);
            assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower"),
                    ZkClients.TIMEOUT_MS), () -> ApacheQuorumProcess.tail(log, 60));
            ZooKeeper onTandem = clients.connect(ensemble.tandem);
            onTandem.create("/before", bytes("b"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

            Ports four = Ports.fresh(4);
            String joining = "server.4=127.0.0.1:" + four.quorumPort() + ":" + four.electionPort()
                    + ":participant;127.0.0.1:" + four.clientPort();
            ZooKeeperAdmin admin = ReconfigAdmin.connect(three.ports);
            try {
                two.stop();
                admin.reconfigure(joining, null, null, -1, (rc, path, ctx, data, stat) -> { }, null);
                assertTrue(ApacheQuorumProcess.await(() -> Files.exists(tandemNext) && Files.exists(apacheNext),
                        ZkClients.TIMEOUT_MS), () -> "no next file: Tandem " + Files.exists(tandemNext)
                        + ", Apache " + Files.exists(apacheNext) + "\n" + ApacheQuorumProcess.tail(log, 60));
                assertEquals(Files.readString(apacheNext), Files.readString(tandemNext),
                        "the next file as the Apache leader wrote it");
                assertTrue(Files.readString(tandemNext).contains(joining), Files.readString(tandemNext));
                assertTrue(ApacheQuorumProcess.await(() -> !leader.mode().equals("leader"), ZkClients.TIMEOUT_MS),
                        () -> "the leader never stepped down:\n" + ApacheQuorumProcess.tail(leader.log, 40));
            } finally {
                admin.close();
            }
            String pending = Files.readString(tandemNext);

            tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            three.kill();
            assertTrue(Files.exists(tandemNext) && Files.exists(apacheNext), "nothing activated the next files");
            three = ApacheQuorumProcess.startOn(apacheZooCfg, temp.resolve("3").resolve("apache.log"), three.ports);
            tandem = startTandem(zooCfg, log);
            assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.readLog(log).contains(
                    "Last seen configuration from " + tandemNext), ZkClients.TIMEOUT_MS),
                    () -> ApacheQuorumProcess.tail(log, 60));
            assertFalse(Files.exists(tandemNext), "read and deleted at start-up, as Apache's first setQuorumVerifier");
            assertTrue(ApacheQuorumProcess.await(() -> !Files.exists(apacheNext), ZkClients.TIMEOUT_MS),
                    "Apache deletes its own at start-up");
            two.resume();
            ApacheQuorumProcess restarted = three;
            assertTrue(ApacheQuorumProcess.await(() -> (ensemble.tandemMode() + two.mode() + restarted.mode())
                    .matches("(leader|follower){3}"), ZkClients.TIMEOUT_MS), () -> "Tandem " + ensemble.tandemMode()
                    + ", 2 " + two.mode() + ", 3 " + restarted.mode() + "\n" + ApacheQuorumProcess.tail(log, 60));
            ZooKeeper again = clients.connect(ensemble.tandem);
            ZooKeeper onTwo = clients.connect(two.ports);
            ZooKeeper onThree = clients.connect(restarted.ports);
            String completed = assertSameConfig(again, onTwo, onThree);
            assertTrue(completed.contains(joining), completed);
            String version = pending.substring(pending.indexOf("version=") + "version=".length()).trim();
            assertTrue(completed.endsWith("version=" + version), "the pending reconfig completed: " + completed);
            String pointer = "dynamicConfigFile=" + dynamicFile(zooCfg, completed).toFile().getCanonicalPath();
            assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.readLog(zooCfg).contains(pointer),
                    ZkClients.TIMEOUT_MS), () -> ApacheQuorumProcess.readLog(zooCfg));
            assertArrayEquals(bytes("b"), again.getData("/before", false, null));
        } finally {
            if (tandem != null) tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            if (three != null) three.kill();
        }
    }

    /** Tandem's zoo.cfg: the lines an Apache member's has, its dataDir with myid, the three members. */
    static Path writeZooCfg(MixedEnsemble ensemble, List<String> settings) throws Exception {
        Path dir = Files.createDirectories(ensemble.tandemDir());
        Path dataDir = Files.createDirectories(dir.resolve("data"));
        Files.writeString(dataDir.resolve("myid"), Long.toString(ensemble.tandem.sid()));
        List<String> cfg = new ArrayList<>(List.of("tickTime=" + ApacheQuorumProcess.TICK_TIME_MS, "initLimit=20",
                "syncLimit=5", "dataDir=" + dataDir, "clientPort=" + ensemble.tandem.clientPort(),
                "clientPortAddress=127.0.0.1", "4lw.commands.whitelist=srvr", "admin.enableServer=false",
                "maxSessionTimeout=" + TandemApacheModeProcess.SESSION_TIMEOUT_MS));
        cfg.addAll(settings);
        for (long sid = 1; sid <= 3; sid++) {
            Ports p = ensemble.ports(sid);
            cfg.add("server." + sid + "=127.0.0.1:" + p.quorumPort() + ":" + p.electionPort());
        }
        return Files.write(dir.resolve("zoo.cfg"), cfg);
    }

    /** Tandem on that zoo.cfg alone, in Apache mode. */
    static Process startTandem(Path zooCfg, Path log) throws Exception {
        return startTandem(zooCfg, log, List.of());
    }

    /** As {@link #startTandem(Path, Path)}, with further JVM options (system properties) before the main class. */
    static Process startTandem(Path zooCfg, Path log, List<String> jvmOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.tandem.server.Main", "start",
                "--roles", "zookeeper", "--data-dir", zooCfg.resolveSibling("tandem-data").toString(), "--config",
                zooCfg.toString(), "--set", "tandem.quorumProtocol=apache"));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** {@code <zoo.cfg>.dynamic.<version>} of a configuration text. */
    static Path dynamicFile(Path zooCfg, String config) {
        String version = config.substring(config.lastIndexOf("version=") + "version=".length()).trim();
        return Path.of(zooCfg + ".dynamic." + version);
    }
}
