package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, migration with Apache's own files: three Apache ZooKeeper 3.9.5 members run with
 * {@code reconfigEnabled=true}, so Apache moves the member lines out of zoo.cfg into {@code zoo.cfg.dynamic.<version>}
 * and points {@code dynamicConfigFile} at it. Member 3 is then stopped and Tandem started in its place on that
 * zoo.cfg, unchanged but for the quorum protocol: Tandem reads the dynamic file, joins with the ensemble's members and
 * version, and serves the same tree and {@code /zookeeper/config}. After a reconfig, which it writes beside zoo.cfg
 * and points zoo.cfg at as Apache does, restarted on that zoo.cfg it runs the reconfigured members; restarted once
 * more with no other member up, it elects with them (its vote carries the reconfigured configuration) although its
 * last snapshot predates the reconfig.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheDynamicConfigFileProcessTest {
    @TempDir
    Path temp;

    @Test
    void tandemReplacesAnApacheMemberOnTheZooCfgAndDynamicFileApacheWrote() throws Exception {
        MixedEnsemble ensemble = MixedEnsemble.withApacheSettings(temp, 3, ReconfigAdmin.settings());
        Path zooCfg = temp.resolve("3").resolve("zoo.cfg");
        try (ApacheQuorumProcess one = ensemble.startApache(1);
             ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             ZkClients clients = new ZkClients()) {
            assertTrue(ApacheQuorumProcess.await(() -> ApacheQuorumProcess.readLog(zooCfg).contains(
                    "dynamicConfigFile="), ZkClients.TIMEOUT_MS), () -> "Apache never wrote its dynamic file:\n"
                    + ApacheQuorumProcess.readLog(zooCfg) + "\n" + three.logTail());
            String written = Files.readString(zooCfg);
            assertFalse(written.contains("server."), "Apache moved the member lines out of zoo.cfg:\n" + written);
            ZooKeeper onOne = clients.connect(ensemble.ports(1));
            onOne.create("/migrated", bytes("apache"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            byte[] apacheConfig = onOne.getConfig(false, null);
            assertFalse(new String(apacheConfig, StandardCharsets.UTF_8).endsWith("version=0"),
                    new String(apacheConfig, StandardCharsets.UTF_8));

            three.kill();
            // Members 1 and 2 settle before Tandem starts on member 3's files: were member 3 the leader, Tandem with
            // the highest sid and the same last zxid could otherwise be elected by a member still looking.
            assertTrue(ApacheQuorumProcess.await(() -> (one.mode() + two.mode()).matches(
                    "leaderfollower|followerleader"), ZkClients.TIMEOUT_MS),
                    () -> "1 " + one.mode() + ", 2 " + two.mode() + "\n" + one.logTail());
            Path tandemDir = Files.createDirectories(temp.resolve("tandem"));
            Path log = tandemDir.resolve("tandem.log");
            // Apache's zoo.cfg as it is: its dataDir (with member 3's myid) becomes Tandem's ZooKeeper directory.
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                    System.getProperty("java.class.path"), "io.tandem.server.Main", "start", "--roles", "zookeeper",
                    "--data-dir", tandemDir.resolve("data").toString(), "--config", zooCfg.toString(),
                    "--set", "tandem.quorumProtocol=apache");
            Process tandem = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try {
                assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().equals("follower"),
                        ZkClients.TIMEOUT_MS), () -> "Tandem is " + ensemble.tandemMode() + ":\n"
                        + ApacheQuorumProcess.tail(log, 60));
                ZooKeeper onTandem = clients.connect(ensemble.tandem);
                sync(onTandem, "/");
                assertArrayEquals(bytes("apache"), onTandem.getData("/migrated", false, null));
                assertEquals(new String(apacheConfig, StandardCharsets.UTF_8),
                        new String(onTandem.getConfig(false, null), StandardCharsets.UTF_8),
                        "Tandem's members and version are the dynamic file's");
                onTandem.create("/migrated/through-tandem", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                ZooKeeper onTwo = clients.connect(ensemble.ports(2));
                sync(onTwo, "/migrated");
                assertEquals(List.of("through-tandem"), onTwo.getChildren("/migrated", false));

                // A reconfig (the Apache member that does not lead leaves) gives a new version, which Tandem writes
                // beside zoo.cfg, rewritten to name it; restarted on that zoo.cfg, it elects with the new members.
                boolean oneLeads = one.mode().equals("leader");
                ApacheQuorumProcess leader = oneLeads ? one : two;
                long leaving = oneLeads ? 2 : 1;
                ZooKeeperAdmin admin = ReconfigAdmin.connect(leader.ports);
                try {
                    String next = new String(admin.reconfigure((String) null, Long.toString(leaving), null, -1, null),
                            StandardCharsets.UTF_8);
                    String version = next.substring(next.lastIndexOf("version=") + "version=".length()).trim();
                    // Started on that one zoo.cfg, Tandem writes the new file beside it and points zoo.cfg at it,
                    // as Apache's setQuorumVerifier does (ApacheConfigFiles).
                    Path own = Path.of(zooCfg + ".dynamic." + version);
                    String pointer = "dynamicConfigFile=" + own.toFile().getCanonicalPath();
                    assertTrue(ApacheQuorumProcess.await(() -> Files.exists(own)
                            && ApacheQuorumProcess.readLog(zooCfg).contains(pointer), ZkClients.TIMEOUT_MS),
                            () -> "Tandem never wrote " + own + ":\n" + ApacheQuorumProcess.tail(log, 60));
                    tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    tandem = new ProcessBuilder(command).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                    // With the highest sid and the newest zxid it may lead the other voter now.
                    assertTrue(ApacheQuorumProcess.await(() -> ensemble.tandemMode().matches("leader|follower"),
                            ZkClients.TIMEOUT_MS), () -> "Tandem is " + ensemble.tandemMode() + " after its restart:\n"
                            + ApacheQuorumProcess.tail(log, 60));
                    ZooKeeper again = clients.connect(ensemble.tandem);
                    sync(again, "/zookeeper/config");
                    assertEquals(next, new String(again.getConfig(false, null), StandardCharsets.UTF_8));

                    // Its last snapshot is still the leader's SNAP from before the reconfig (members write their own
                    // only every snapCount commits), the reconfig only in its log. Restarted with nobody to sync from,
                    // it must elect with the configuration it committed, as Apache's peer elects with its dynamic
                    // file's, not with its snapshot's: its vote to the remaining voter carries that configuration.
                    tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    ApacheQuorumProcess.killAll(one, two);
                    tandem = null;
                    ApacheElection.Member remaining = ensemble.members().get(oneLeads ? 1L : 2L);
                    try (ServerSocket election = new ServerSocket()) {
                        election.setReuseAddress(true);
                        election.bind(new InetSocketAddress(remaining.host(), remaining.electionPort()));
                        election.setSoTimeout((int) ZkClients.TIMEOUT_MS);
                        tandem = new ProcessBuilder(command).redirectErrorStream(true)
                                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                        ElectionWire.Notification vote = firstVote(election);
                        ApacheConfig expected = ApacheConfig.parse(next.getBytes(StandardCharsets.UTF_8));
                        ApacheConfig voted = ApacheConfig.parse(vote.config());
                        assertEquals(expected.version(), voted.version(), () -> "Tandem's vote after its restart "
                                + "carries version " + Long.toHexString(voted.version()) + ":\n"
                                + new String(vote.config(), StandardCharsets.UTF_8) + "\n"
                                + ApacheQuorumProcess.tail(log, 60));
                        assertEquals(expected.members().keySet(), voted.members().keySet());
                    }
                } finally {
                    admin.close();
                }
            } finally {
                if (tandem != null) tandem.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Accepts the restarted member's election connection on a stopped member's election port (Apache's dialler
     * introduces itself first) and returns the first notification it sends there.
     */
    private static ElectionWire.Notification firstVote(ServerSocket election) throws IOException {
        try (Socket connection = election.accept()) {
            connection.setSoTimeout((int) ZkClients.TIMEOUT_MS);
            DataInputStream in = new DataInputStream(connection.getInputStream());
            long protocolVersion = in.readLong();
            long sid = in.readLong();
            byte[] address = new byte[in.readInt()];
            in.readFully(address);
            ElectionWire.parseInitialMessage(protocolVersion, sid, address);
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            return ElectionWire.decode(frame);
        }
    }
}
