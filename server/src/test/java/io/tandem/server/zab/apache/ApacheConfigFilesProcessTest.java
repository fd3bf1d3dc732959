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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
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
    private static final String SUPER = "super:secret";

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
        String digest = DigestAuthenticationProvider.generateDigest(SUPER);
        List<String> shared = List.of("reconfigEnabled=true", "DigestAuthenticationProvider.superDigest=" + digest);
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

            ZooKeeperAdmin admin = admin(ensemble.ports(1));
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
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), "io.tandem.server.Main", "start", "--roles", "zookeeper",
                "--data-dir", zooCfg.resolveSibling("tandem-data").toString(), "--config", zooCfg.toString(),
                "--set", "tandem.quorumProtocol=apache");
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** {@code <zoo.cfg>.dynamic.<version>} of a configuration text. */
    static Path dynamicFile(Path zooCfg, String config) {
        String version = config.substring(config.lastIndexOf("version=") + "version=".length()).trim();
        return Path.of(zooCfg + ".dynamic." + version);
    }

    static ZooKeeperAdmin admin(Ports member) throws Exception {
        ZooKeeperAdmin admin = new ZooKeeperAdmin("127.0.0.1:" + member.clientPort(),
                TandemApacheModeProcess.SESSION_TIMEOUT_MS, e -> { });
        ZkClients.awaitConnected(admin);
        admin.addAuthInfo("digest", SUPER.getBytes(StandardCharsets.UTF_8));
        return admin;
    }
}
