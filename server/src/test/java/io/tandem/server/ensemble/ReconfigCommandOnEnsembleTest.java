package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Main;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code tandem zk shell} reconfiguring a real three-member ensemble (reconfigEnabled, a super user, as Apache
 * requires): zkCli's {@code reconfig -remove} takes a follower out, {@code reconfig -file} with a dynamic configuration
 * file puts it back (refused first with {@code -v} naming a stale version), and {@code config} shows each version,
 * which every member then holds.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReconfigCommandOnEnsembleTest {
    @TempDir
    Path dir;

    @Test
    void shouldRemoveAFollowerAndAddItBackFromAFileShowingEachVersion() throws Exception {
        try (ReconfigFixture fixture = new ReconfigFixture(new TestEnsemble(dir.resolve("ensemble")))) {
            TestEnsemble ensemble = fixture.ensemble;
            ensemble.startAll();
            int leader = ensemble.awaitServing(30_000);
            int removed = leader % TestEnsemble.SIZE + 1;
            StringBuilder all = new StringBuilder();
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                all.append("server.").append(id).append('=').append(ensemble.serverLine(id)).append(":participant\n");
            }
            Path file = dir.resolve("zoo.cfg.dynamic.next");
            Files.writeString(file, "# the three members again\n" + all);
            Path badFile = dir.resolve("zoo.cfg.dynamic.bad");
            Files.writeString(badFile, all + "clientPort=2181\n");

            String script = String.join("\n",
                    "addauth digest " + ReconfigFixture.SUPER,
                    "config",
                    "reconfig -remove " + removed,
                    "config",
                    "reconfig -v 1 -file " + file,
                    "reconfig -file " + badFile,
                    "reconfig -file " + file + " -s",
                    "config -c") + "\n";
            Result result = shell(ensemble.connect(leader), script);

            List<String> out = result.out.lines().toList();
            int at = 0;
            // config: the static membership, then its version (the leader's first zxid of its epoch).
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                assertEquals("server." + id + "=" + ensemble.serverLine(id) + ":participant", out.get(at++),
                        result.toString());
            }
            String first = out.get(at++);
            assertTrue(first.startsWith("version="), result.toString());
            // reconfig -remove: zkCli's heading and the committed configuration without the removed member.
            assertEquals("Committed new configuration:", out.get(at++), result.toString());
            StringBuilder withoutRemoved = new StringBuilder();
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                if (id != removed) {
                    String line = "server." + id + "=" + ensemble.serverLine(id) + ":participant";
                    assertEquals(line, out.get(at++), result.toString());
                    withoutRemoved.append(line).append('\n');
                }
            }
            String second = out.get(at++);
            assertTrue(second.startsWith("version="), result.toString());
            assertNotEquals(first, second, "a reconfig makes a new version");
            // config: the same as the reconfig answered.
            assertEquals(withoutRemoved + second, String.join("\n", out.subList(at, at + TestEnsemble.SIZE)),
                    result.toString());
            at += TestEnsemble.SIZE;
            // reconfig -v 1 fails (stale version, nothing printed); the bad file fails before asking the server;
            // reconfig -file puts the three members back, with -s its stat.
            assertEquals("Committed new configuration:", out.get(at++), result.toString());
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                assertEquals("server." + id + "=" + ensemble.serverLine(id) + ":participant", out.get(at++),
                        result.toString());
            }
            String third = out.get(at++);
            assertTrue(third.startsWith("version="), result.toString());
            assertNotEquals(second, third);
            long thirdVersion = Long.parseLong(third.substring("version=".length()), 16);
            assertEquals("cZxid = 0x0", out.get(at++), "the stat of -s");
            at++; // ctime
            assertEquals("mZxid = 0x" + Long.toHexString(thirdVersion), out.get(at++),
                    "the version is the reconfig's zxid");
            at += 8;
            // config -c: the version and no client addresses (the static lines name none).
            assertEquals(third.substring("version=".length()) + " ", out.get(at++), result.toString());
            assertEquals(at, out.size(), result.toString());

            String err = result.err;
            assertTrue(err.contains("error: version No is not valid: /zookeeper/config\n"), "-v, stale: " + err);
            assertTrue(err.contains("error: Error processing " + badFile + ": Unrecognised parameter: clientPort"),
                    err);
            assertEquals(0, result.exitCode, result.toString());

            // Every member holds the last configuration, the removed one included (it votes again).
            String last = all + third;
            for (int id = 1; id <= TestEnsemble.SIZE; id++) {
                ZooKeeper zk = fixture.client(id);
                zk.sync("/zookeeper/config");
                assertEquals(last, new String(zk.getConfig(false, null), StandardCharsets.UTF_8), "member " + id);
            }
        }
    }

    private record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static Result shell(String server, String script) {
        InputStream original = System.in;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        try {
            System.setIn(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)));
            CommandLine commandLine = new CommandLine(new Main());
            commandLine.setOut(new PrintWriter(out, true));
            commandLine.setErr(new PrintWriter(err, true));
            int exitCode = commandLine.execute("zk", "shell", "--server", server);
            return new Result(exitCode, out.toString(), err.toString());
        } finally {
            System.setIn(original);
        }
    }
}
