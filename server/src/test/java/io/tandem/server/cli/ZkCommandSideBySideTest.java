package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same {@code tandem zk} session script against Apache ZooKeeper 3.9 (in-process) and against Tandem: every
 * command must give the same exit code, stdout and stderr on both (the commands chosen print nothing that depends on
 * zxids or times).
 */
class ZkCommandSideBySideTest {
    private static final List<List<String>> SCRIPT = List.of(
            List.of("create", "/side", "root"),
            List.of("create", "/side/a", "1"),
            List.of("create", "/side/b"),
            List.of("create", "-s", "/side/seq-", "x"),
            List.of("create", "-c", "/side/container"),
            List.of("create", "-t", "60000", "/side/ttl"),
            List.of("create", "-e", "/side/eph"),
            List.of("create", "/side"),
            List.of("create", "/missing/child"),
            List.of("ls", "/side"),
            List.of("ls", "-R", "/side"),
            List.of("get", "/side/a"),
            List.of("get", "/side/b"),
            List.of("get", "/nope"),
            List.of("set", "/side/a", "2"),
            List.of("set", "-v", "7", "/side/a", "3"),
            List.of("get", "/side/a"),
            List.of("getAcl", "/side"),
            List.of("setAcl", "/side/b", "world:anyone:r"),
            List.of("getAcl", "/side/b"),
            List.of("set", "/side/b", "denied"),
            List.of("delete", "/side"),
            List.of("delete", "-v", "5", "/side/a"),
            List.of("delete", "/side/a"),
            List.of("delete", "-r", "/side"),
            List.of("ls", "/side"));

    @TempDir
    Path dir;

    @Test
    void shouldAnswerEveryCommandAsAgainstApacheZooKeeper() throws Exception {
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        // Apache's srvr line, read while its server is up, shows the side-by-side runs a standalone server.
        ZkSideBySide.Results<List<Cli.Result>> results = ZkSideBySide.run(dir, server -> {
            List<Cli.Result> answers = runScript(server);
            answers.add(Cli.run("cluster", "--zookeeper", server));
            return answers;
        });
        List<Cli.Result> fromApache = results.apache();
        List<Cli.Result> fromTandem = results.tandem();
        Cli.Result srvr = fromApache.get(SCRIPT.size());
        assertEquals(0, srvr.exitCode(), srvr.toString());
        assertTrue(srvr.out().lines().skip(1).findFirst().orElseThrow().contains(" standalone "), srvr.out());
        for (int i = 0; i < SCRIPT.size(); i++) {
            assertEquals(fromApache.get(i).toString(), fromTandem.get(i).toString(), "zk " + SCRIPT.get(i));
        }
        assertEquals(ExitCodes.OK, fromApache.get(0).exitCode());
        assertEquals(ExitCodes.ERROR, fromApache.get(7).exitCode(), "the script does exercise failures");
    }

    /**
     * {@code tandem perf zk} against Apache ZooKeeper as against Tandem: every phase answers all its operations over
     * several pipelining sessions, and the run's znodes are gone afterwards, on both (the speed is not compared).
     */
    @Test
    void shouldRunThePerfLoadAgainstApacheZooKeeperAsAgainstTandem() throws Exception {
        ZkSideBySide.Results<List<Cli.Result>> results = ZkSideBySide.run(dir, server -> List.of(
                Cli.run("perf", "zk", "--server", server, "--ops", "200", "--sessions", "2", "--in-flight", "8",
                        "--data-size", "16", "--output", "json"),
                Cli.run("zk", "ls", "--server", server, "/tandem-perf")));
        for (List<Cli.Result> run : List.of(results.apache(), results.tandem())) {
            assertEquals(ExitCodes.OK, run.get(0).exitCode(), run.get(0).toString());
            com.fasterxml.jackson.databind.JsonNode phases = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(run.get(0).out()).get("phases");
            for (String phase : List.of("create", "set", "get", "delete")) {
                assertEquals(200, phases.get(phase).get("ops").asLong(), phase + ": " + run.get(0).out());
            }
        }
        assertEquals(ExitCodes.OK, results.apache().get(1).exitCode(), results.apache().get(1).toString());
        assertEquals("", results.apache().get(1).out(), "the run's parent is removed on Apache's server");
        assertEquals(results.apache().get(1).toString(), results.tandem().get(1).toString());
    }

    private static List<Cli.Result> runScript(String server) {
        List<Cli.Result> results = new ArrayList<>();
        for (List<String> command : SCRIPT) {
            List<String> args = new ArrayList<>(List.of("zk", command.get(0), "--server", server));
            args.addAll(command.subList(1, command.size()));
            results.add(Cli.run(args.toArray(String[]::new)));
        }
        return results;
    }
}
