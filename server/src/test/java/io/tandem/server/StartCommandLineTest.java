package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code tandem start}'s own reader (no picocli on the start path) reads every plain command line exactly as picocli
 * does, and gives up on everything else, so picocli answers help, version and errors as before.
 */
class StartCommandLineTest {
    private static String[] start(String... flags) {
        String[] args = new String[flags.length + 1];
        args[0] = "start";
        System.arraycopy(flags, 0, args, 1, flags.length);
        return args;
    }

    /** What picocli makes of the same flags, as the fields both readers fill. */
    private static List<Object> picocli(String... args) {
        Main.Start start = new Main.Start();
        new CommandLine(start).parseArgs(java.util.Arrays.copyOfRange(args, 1, args.length));
        return fields(start);
    }

    private static List<Object> fields(StartOptions options) {
        return List.of(options.configFiles, options.roles, String.valueOf(options.dataDir),
                String.valueOf(options.zookeeperPort), String.valueOf(options.kafkaPort),
                String.valueOf(options.consolePort), options.settings, String.valueOf(options.logLevel),
                String.valueOf(options.logFormat));
    }

    @Test
    void shouldReadPlainCommandLinesExactlyAsPicocliDoes() {
        List<String[]> plain = List.of(
                start(),
                start("--data-dir", "/tmp/x", "--kafka-port", "9092", "--zk-port", "2181"),
                start("--data-dir=data", "--kafka-port=0", "--zk-port=0", "--console-port=8080"),
                start("-c", "zoo.cfg", "--config", "server.properties", "--config=more.cfg"),
                start("--roles", "zookeeper", "--roles", "KAFKA"),
                start("--roles", "zookeeper,kafka"),
                start("--roles=kafka", "--set", "zookeeper.connect=a:2181,b:2181/chroot"),
                start("--set", "listeners=PLAINTEXT://:9092", "--set=tickTime=500", "--set", "tickTime=700"),
                start("--set", "a=b=c", "--set", "ssl.keystore.location=/k s/store.p12"),
                start("--log-level", "debug", "--log-format", "json"),
                start("--log-level=WARN", "--log-format=text", "--zk-port", "65535"),
                start("--data-dir", "dir with spaces/data", "--zk-port", "123456789"));
        for (String[] args : plain) {
            StartOptions options = StartCommandLine.parse(args);
            assertNotNull(options, "read without picocli: " + String.join(" ", args));
            assertEquals(picocli(args), fields(options), String.join(" ", args));
        }
    }

    @Test
    void shouldLeaveHelpVersionAndEveryDoubtfulCommandLineToPicocli() {
        List<String[]> doubtful = List.of(
                new String[0], new String[] {"topics", "--list"}, new String[] {"--help"},
                start("--help"), start("-h"), start("--version"), start("-V"), start("-hV"),
                start("--data-dir", "x", "--help"),
                start("--bogus"), start("--bogus=1"), start("extra"), start("--", "--zk-port", "1"),
                start("--zk-port"), start("--zk-port="), start("--zk-port", "abc"), start("--zk-port", "-1"),
                start("--zk-port", "010"), start("--zk-port", "0x10"), start("--zk-port", "+5"),
                start("--zk-port", "1234567890"), start("--zk-port", "1", "--zk-port", "2"),
                start("--data-dir", "a", "--data-dir", "b"), start("--kafka-port", "1", "--kafka-port=2"),
                start("--console-port", "1", "--console-port", "1"), start("--log-level", "info", "--log-level", "info"),
                start("--log-format", "text", "--log-format", "json"),
                start("--log-level", "loud"), start("--log-format", "xml"), start("--roles", "nosuch"),
                start("--roles", "zookeeper,,kafka"), start("--roles", ",kafka"), start("--roles", "kafka,"),
                start("--set", "novalue"), start("--set", "=value"), start("--set", "key="),
                start("--set", "\"quoted=value\""), start("--set", "k='v'"), start("--roles", "\"kafka,zookeeper\""),
                start("@args.txt"), start("--data-dir", "@dir"), start("--data-dir", "-dir"),
                start("-c=zoo.cfg"), start("-czoo.cfg"), start("--data-dir", ""), start("--data-dir", "a\0b"),
                start("--DATA-DIR", "x"), start("--data", "x"));
        for (String[] args : doubtful) {
            assertNull(StartCommandLine.parse(args), "left to picocli: " + String.join(" ", args));
        }
    }
}
