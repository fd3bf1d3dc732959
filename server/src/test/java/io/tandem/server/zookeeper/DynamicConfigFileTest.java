package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zoo.cfg's {@code dynamicConfigFile} as Apache 3.9's QuorumPeerConfig reads it: the members and the version of the
 * file it names, and the files and zoo.cfgs Apache refuses, refused at start-up with Apache's reason.
 */
class DynamicConfigFileTest {
    @TempDir
    Path dir;

    private static final String APACHE_WRITTEN = """
            server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181
            server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182
            server.3=127.0.0.1:2890:3890:observer;127.0.0.1:2183""";

    @Test
    void shouldTakeTheMembersAndTheVersionOfTheFileZooCfgNames() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.100000000"), APACHE_WRITTEN);
        TandemConfig config = TandemConfig.forTests(dir).set("tickTime", "2000")
                .set(DynamicConfigFile.KEY, file.toString());
        TandemConfig expanded = DynamicConfigFile.expand(config);
        assertEquals("127.0.0.1:2889:3889:participant;127.0.0.1:2182", expanded.get("server.2"));
        assertEquals("2000", expanded.get("tickTime"));
        assertEquals(config.zookeeperPort(), expanded.zookeeperPort());
        assertFalse(config.settings().containsKey("server.1"), "the caller's configuration is left as it was");
        EnsembleConfig ensemble = EnsembleConfig.fromSettings(expanded.settings());
        assertEquals(0x1_0000_0000L, ensemble.version(), "the version is the file name's hex suffix");
        assertEquals(3, ensemble.members().size());
        assertEquals(1, ensemble.members().values().stream().filter(s -> s.contains(":observer")).count());
        TandemConfig plain = TandemConfig.forTests(dir);
        assertSame(plain, DynamicConfigFile.expand(plain), "without the key the configuration is used as it is");
    }

    @Test
    void shouldReadAVersionOnlyFromAHexSuffixAsApacheDoes() {
        assertEquals(0, DynamicConfigFile.version(Map.of(DynamicConfigFile.KEY, "/etc/zookeeper/zoo.cfg.dynamic")));
        assertEquals(0x2_0000_0003L,
                DynamicConfigFile.version(Map.of(DynamicConfigFile.KEY, "conf/zoo.cfg.dynamic.200000003")));
        assertEquals(0, DynamicConfigFile.version(Map.of()));
    }

    @Test
    void shouldRefuseAServerLineLeftInZooCfg() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.1"), APACHE_WRITTEN);
        assertRefused(Map.of(DynamicConfigFile.KEY, file.toString(), "server.1", "127.0.0.1:2888:3888"),
                "parameter: server.1 must be in a separate dynamic config file");
    }

    @Test
    void shouldRefuseAVersionLineInsideTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.1"), APACHE_WRITTEN + "\nversion=1\n");
        assertRefused(Map.of(DynamicConfigFile.KEY, file.toString()), "dynamic file shouldn't have version inside");
    }

    @Test
    void shouldRefuseAnyOtherKeyInsideTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.1"), APACHE_WRITTEN + "\nclientPort=2181\n");
        assertRefused(Map.of(DynamicConfigFile.KEY, file.toString()), "Unrecognised parameter: clientPort");
    }

    @Test
    void shouldRefuseAMissingFileNamingIt() {
        String missing = dir.resolve("zoo.cfg.dynamic.7").toString();
        assertRefused(Map.of(DynamicConfigFile.KEY, missing), "Error processing " + missing);
    }

    @Test
    void shouldRefuseAVoterWithoutAnElectionPort() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.1"),
                "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889\n");
        assertRefused(Map.of(DynamicConfigFile.KEY, file.toString()), "Missing election port for server: 2");
    }

    @Test
    void shouldRefuseObserversWithoutAQuorum() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.1"),
                "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889:observer\n");
        assertRefused(Map.of(DynamicConfigFile.KEY, file.toString()),
                "Observers w/o quorum is an invalid configuration");
    }

    @Test
    void shouldRefuseABadFileAtStartUpBeforeWritingAnything() throws Exception {
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.1"), APACHE_WRITTEN + "\nversion=1\n");
        Path data = dir.resolve("data");
        TandemConfig config = TandemConfig.forTests(data).set(DynamicConfigFile.KEY, file.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertTrue(e.getMessage().contains("'dynamicConfigFile'"), e.getMessage());
        assertTrue(e.getMessage().contains("dynamic file shouldn't have version inside"), e.getMessage());
        assertFalse(Files.exists(data), "nothing was started or written");
    }

    @Test
    void shouldPreferTheMembersThisMemberAppliedLaterOverTheFileZooCfgNames() throws Exception {
        Path named = Files.writeString(dir.resolve("zoo.cfg.dynamic.100000000"), APACHE_WRITTEN);
        Path data = Files.createDirectories(dir.resolve("data"));
        Map<String, String> settings = new TreeMap<>(DynamicConfigFile.read(Map.of(), named.toString()));
        settings.put(DynamicConfigFile.KEY, named.toString());

        // Older than the named file (a Tandem run before the user brought Apache's newer files): the named one wins.
        Reconfig.writeDynamicFile(data, EnsembleConfig.parse("server.1=127.0.0.1:2888:3888:participant\nversion=5"
                .getBytes()));
        assertEquals(settings, Reconfig.withDynamicFile(settings, data, 1));

        // Newer: written by this member when it activated a reconfig; a restart takes it, and its version.
        Reconfig.writeDynamicFile(data, EnsembleConfig.parse(("server.1=127.0.0.1:2888:3888:participant\n"
                + "server.2=127.0.0.1:2889:3889:participant\nversion=100000004").getBytes()));
        Map<String, String> restarted = Reconfig.withDynamicFile(settings, data, 1);
        assertFalse(restarted.containsKey("server.3"), restarted.toString());
        assertEquals(data.resolve("zoo.cfg.dynamic.100000004").toString(), restarted.get(DynamicConfigFile.KEY));
        assertEquals(0x1_0000_0004L, EnsembleConfig.fromSettings(restarted).version());
    }

    @Test
    void shouldRefuseAClientPortThatContradictsTheMembersLineInTheFileWithApachesText() throws Exception {
        int clientPort = TestPorts.freePort();
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.100000000"), """
                server.1=127.0.0.1:%d:%d:participant;127.0.0.1:%d
                server.2=127.0.0.1:%d:%d:participant;127.0.0.1:%d
                """.formatted(TestPorts.freePort(), TestPorts.freePort(), clientPort + 1, TestPorts.freePort(),
                TestPorts.freePort(), TestPorts.freePort()));
        Path data = dir.resolve("data");
        TandemConfig config = TandemConfig.forTests(data).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("myid", "1").set("tickTime", "200").set("admin.enableServer", "false")
                .set("clientPort", Integer.toString(clientPort)).set(DynamicConfigFile.KEY, file.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        // QuorumPeerConfig.setupClientPort's text: zoo.cfg's clientPortAddress (here 127.0.0.1) and the line's.
        assertTrue(e.getMessage().contains("client address for this server (id = 1) in static config file is"
                + " /127.0.0.1:" + clientPort + " is different from client address found in dynamic file: /127.0.0.1:"
                + (clientPort + 1)), e.getMessage());
    }

    @Test
    void shouldRunALoneParticipantOfTheFileStandaloneOnItsClientAddressAsApacheDoes() throws Exception {
        int clientPort = TestPorts.freePort();
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.100000000"), "server.1=127.0.0.1:"
                + TestPorts.freePort() + ":" + TestPorts.freePort() + ":participant;127.0.0.1:" + clientPort + "\n");
        TandemConfig config = TandemConfig.defaults().dataDir(dir.resolve("data"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).set("myid", "1").set("tickTime", "200")
                .set("admin.enableServer", "false").set(DynamicConfigFile.KEY, file.toString());
        assertTrue(DynamicConfigFile.lone(DynamicConfigFile.expand(config).settings()));
        try (Tandem tandem = Tandem.start(config)) {
            assertEquals(clientPort, tandem.zookeeperPort(), "the line's client address, as Apache's standalone");
            assertTrue(srvr(clientPort).contains("Mode: standalone"), "QuorumPeerMain ran ZooKeeperServerMain");
        }
        assertFalse(DynamicConfigFile.lone(DynamicConfigFile.expand(TandemConfig.forTests(dir)
                .set(DynamicConfigFile.KEY, Files.writeString(dir.resolve("zoo.cfg.dynamic.2"), APACHE_WRITTEN)
                        .toString())).settings()));
    }

    @Test
    void shouldRefuseAReconfigApacheLeftProposedInTheNextFileAndLeaveAnOlderOne() throws Exception {
        // Apache wrote zoo.cfg.dynamic.100000000, then saw the reconfig 0x100000003 proposed: zoo.cfg.dynamic.next.
        Path file = Files.writeString(dir.resolve("zoo.cfg.dynamic.100000000"), """
                server.1=127.0.0.1:%d:%d:participant;127.0.0.1:%d
                server.2=127.0.0.1:%d:%d:participant;127.0.0.1:%d
                """.formatted(TestPorts.freePort(), TestPorts.freePort(), TestPorts.freePort(), TestPorts.freePort(),
                TestPorts.freePort(), TestPorts.freePort()));
        Path next = Files.writeString(dir.resolve("zoo.cfg.dynamic.next"), APACHE_WRITTEN + "\nversion=100000003");
        assertEquals(next, DynamicConfigFile.nextFile(Map.of(DynamicConfigFile.KEY, file.toString())));
        Path data = dir.resolve("data");
        TandemConfig config = TandemConfig.defaults().dataDir(data).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("myid", "1").set("tickTime", "200").set("admin.enableServer", "false")
                .set("reconfigEnabled", "true").set(DynamicConfigFile.KEY, file.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> Tandem.start(config).close());
        assertTrue(e.getMessage().contains(next + " holds configuration version 100000003"), e.getMessage());

        // Apache's start-up leaves these alone: reconfig disabled, or the proposal committed since (same version).
        Map<String, String> disabled = Map.of(DynamicConfigFile.KEY, file.toString());
        DynamicConfigFile.checkNext(disabled, 0x1_0000_0000L);
        Map<String, String> enabled = Map.of(DynamicConfigFile.KEY, file.toString(), "reconfigEnabled", "true");
        DynamicConfigFile.checkNext(enabled, 0x1_0000_0003L);
        DynamicConfigFile.checkNext(enabled, 0x1_0000_0005L);
        assertEquals(null, DynamicConfigFile.nextFile(Map.of(DynamicConfigFile.KEY, "/etc/zookeeper/members.txt")));
        assertEquals(Path.of("/etc/zookeeper/zoo.cfg.dynamic.next"),
                DynamicConfigFile.nextFile(Map.of(DynamicConfigFile.KEY, "/etc/zookeeper/zoo.cfg.dynamic")));
    }

    private static String srvr(int port) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static void assertRefused(Map<String, String> settings, String reason) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> DynamicConfigFile.read(settings, settings.get(DynamicConfigFile.KEY)));
        assertEquals(1, e.refusals().size());
        assertTrue(e.refusals().get(0).startsWith("Configuration key 'dynamicConfigFile'"), e.getMessage());
        assertTrue(e.refusals().get(0).contains(reason), e.getMessage());
    }
}
