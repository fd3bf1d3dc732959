package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI turns zoo.cfg files, --set and flags into a TandemConfig, most specific first, warning on unknown keys. */
class MainTest {
    @TempDir
    Path dir;

    private static TandemConfig parse(String... args) throws Exception {
        Main.Start start = new Main.Start();
        new CommandLine(start).parseArgs(args);
        return start.toConfig();
    }

    @Test
    void shouldReadZooCfgAndLetFlagsAndSetOverrideIt() throws Exception {
        Path zooCfg = dir.resolve("zoo.cfg");
        Files.writeString(zooCfg, "tickTime=500\nclientPort=2888\ninitLimit=5\n4lw.commands.whitelist=ruok,srvr\n");
        TandemConfig config = parse("--config", zooCfg.toString(), "--set", "tickTime=300", "--roles", "zookeeper",
                "--data-dir", dir.toString());
        assertEquals("300", config.get("tickTime"));
        assertEquals(2888, config.zookeeperPort());
        assertEquals("ruok,srvr", config.get("4lw.commands.whitelist"));
        assertEquals(EnumSet.of(TandemConfig.Role.ZOOKEEPER), config.roles());
        assertEquals(dir, config.dataDir());
        assertEquals(7, parse("--config", zooCfg.toString(), "--zk-port", "7").zookeeperPort());
    }

    @Test
    void shouldWarnAboutUnknownKeysButKeepThem() throws Exception {
        // The warnings are logged when the node starts (Tandem.start), for the CLI and the embedding API alike.
        TandemConfig config = parse("--set", "tickTme=100", "--set", "log.retention.hours=1", "--set",
                "server.1=localhost:2888:3888");
        assertEquals("100", config.get("tickTme"));
        List<String> warnings = ConfigKeys.check(config.settings()).warnings();
        assertTrue(warnings.stream().anyMatch(w -> w.contains("tickTme")), warnings.toString());
        assertFalse(warnings.stream().anyMatch(w -> w.contains("log.retention.hours")), warnings.toString());
        assertFalse(warnings.stream().anyMatch(w -> w.contains("server.1")), warnings.toString());
    }

    @Test
    void shouldBindAllInterfacesAsApacheDoesForTandemStart() throws Exception {
        TandemConfig config = parse("--data-dir", dir.toString(), "--zk-port", "0", "--kafka-port", "0");
        try (Tandem tandem = Tandem.start(config)) {
            // 127.0.0.2 reaches a socket bound to all interfaces, never one bound to 127.0.0.1 only.
            for (int port : new int[] {tandem.zookeeperPort(), tandem.kafkaPort()}) {
                try (java.net.Socket socket = new java.net.Socket()) {
                    socket.connect(new java.net.InetSocketAddress("127.0.0.2", port), 5_000);
                    assertTrue(socket.isConnected());
                }
            }
        }
    }

    @Test
    void shouldTakeTheKafkaPortFromListenersUnlessTheFlagSaysOtherwise() throws Exception {
        Path properties = dir.resolve("server.properties");
        Files.writeString(properties, "listeners=PLAINTEXT://:9093\nroles=kafka\n");
        TandemConfig config = parse("--config", properties.toString());
        assertEquals(9093, config.kafkaPort());
        assertEquals(EnumSet.of(TandemConfig.Role.KAFKA), config.roles());
        TandemConfig flagged = parse("--config", properties.toString(), "--kafka-port", "0");
        assertEquals(0, flagged.kafkaPort());
        assertEquals("PLAINTEXT://:0", flagged.get("listeners"), "the listener reported is the one bound");
    }

    @Test
    void shouldRefuseTheKafkaPortFlagWithSeveralListeners() throws Exception {
        Path properties = dir.resolve("server.properties");
        Files.writeString(properties, "listeners=PLAINTEXT://:9093,SASL_PLAINTEXT://:9094\n");
        assertEquals(-1, parse("--config", properties.toString()).get("listeners").indexOf("9092"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse("--config", properties.toString(), "--kafka-port", "0"));
        assertTrue(e.getMessage().contains("--kafka-port applies to a single Kafka listener"), e.getMessage());
    }

    @Test
    void shouldTurnTheConsolePortFlagIntoConsolePortOverridingSet() throws Exception {
        assertEquals(null, parse("--data-dir", dir.toString()).get("console.port"), "off unless asked for");
        assertEquals("8088", parse("--console-port", "8088").get("console.port"));
        assertEquals("0", parse("--set", "console.port=9000", "--console-port", "0").get("console.port"));
    }

    @Test
    void shouldRejectUnknownRole() {
        assertTrue(new CommandLine(new Main()).execute("start", "--roles", "nosuch") != 0);
    }
}
