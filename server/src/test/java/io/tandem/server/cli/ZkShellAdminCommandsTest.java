package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.CreateMode;
import io.tandem.zk.wire.OpCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zkCli 3.9's {@code removewatches}, {@code printwatches}, {@code addauth}, {@code config} and {@code reconfig}, and
 * the watch commands {@code stat -w} / {@code watch}-style events they act on: one {@code zk shell} script against
 * Apache ZooKeeper 3.9 in-process and against Tandem must print the same, and the script checks its own lines.
 */
class ZkShellAdminCommandsTest {
    private static final String SCRIPT = String.join("\n",
            "create /rw data",
            "get -w /rw",
            "ls -w /rw",
            "removewatches /rw -d",
            "removewatches /rw -d",
            "set /rw changed",
            "create /rw/c",
            "stat -w /rw",
            "printwatches",
            "printwatches off",
            "set /rw again",
            "printwatches",
            "printwatches on",
            "exists-is-not-a-command /rw",
            "addWatch -m PERSISTENT /rw --timeout-ms 300",
            "set /rw third",
            "removewatches /rw -p",
            "set /rw fourth",
            "config",
            "config -c -s",
            "addauth digest alice:secret",
            "setAcl /rw auth::cdrwa",
            "getAcl /rw",
            "get /rw",
            "reconfig -remove 3") + "\n";

    @TempDir
    Path dir;

    @Test
    void shouldAnswerTheScriptAsApacheZooKeeperDoes() throws Exception {
        ZkSideBySide.Results<Cli.Result> results =
                ZkSideBySide.run(dir, server -> ZkSideBySide.shell(server, SCRIPT));
        Cli.Result fromApache = results.apache();
        Cli.Result fromTandem = results.tandem();
        assertEquals(maskTimes(fromApache.toString()), maskTimes(fromTandem.toString()));

        // The script's own checks, so that it cannot pass by failing alike on both.
        List<String> out = fromTandem.out().lines().toList();
        int at = 0;
        assertEquals("Created /rw", out.get(at++));
        assertEquals("data", out.get(at++));
        // removewatches -d: the data watch goes (zkCli's DataWatchRemoved); the child watch of ls -w stays.
        assertEquals("WATCHER:: DataWatchRemoved /rw", out.get(at++));
        // set fires nothing now; the child watch fires for the create.
        assertEquals("Created /rw/c", out.get(at++));
        assertEquals("WATCHER:: NodeChildrenChanged /rw", out.get(at++));
        at += 11; // stat -w's stat block
        assertEquals("printwatches is on", out.get(at++));
        // printwatches off: the data change of stat -w's watch is not printed.
        assertEquals("printwatches is off", out.get(at++));
        assertEquals("WATCHER:: NodeDataChanged /rw", out.get(at++), "the persistent watch's event");
        assertEquals("WATCHER:: PersistentWatchRemoved /rw", out.get(at++));
        assertEquals("", out.get(at++), "a standalone server's dynamic configuration is empty");
        assertTrue(out.get(at).startsWith(" "), "config -c: no version, no servers: " + out.get(at));
        at++;
        at += 11; // config -s's stat block
        assertEquals("digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:cdrwa", out.get(at++), "the session's digest id");
        assertEquals("fourth", out.get(at++));
        String err = fromTandem.err();
        assertTrue(err.contains("error: NO_WATCHER (-121) for /rw\n"), err);
        assertTrue(err.contains("RECONFIG_DISABLED"), "a standalone server refuses reconfig: " + err);
        assertTrue(err.endsWith("error: RECONFIG_DISABLED (-123) for /zookeeper/config\n"), err);
        assertEquals(ExitCodes.ERROR, fromTandem.exitCode());
    }

    @Test
    void shouldSendTheCredentialsAgainAfterAReconnect() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("auth"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkClient client = ZkClient.connect(tandem.zookeeperConnect(), Duration.ofSeconds(30), event -> { })) {
            client.connected().get(10, TimeUnit.SECONDS);
            client.addAuthInfo("digest", "alice:secret".getBytes(StandardCharsets.UTF_8));
            client.create("/alice-only", "mine".getBytes(StandardCharsets.UTF_8), Acls.CREATOR_ALL_ACL,
                    CreateMode.PERSISTENT).get(10, TimeUnit.SECONDS);
            // The connection drops; the session goes on over a new one, whose credentials the server must get again.
            tandem.faults().zookeeper(OpCode.GET_DATA).times(1).drop();
            try {
                client.getData("/alice-only", false).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException expected) {
                // CONNECTION_LOSS: the request was on the dropped connection.
            }
            assertEquals("mine", new String(client.getData("/alice-only", false).get(10, TimeUnit.SECONDS).data(),
                    StandardCharsets.UTF_8), "read as alice on the new connection");
        }
    }

    @Test
    void shouldRemoveAnyWatchWhenNoFlagFollowsAFlaggedRemoval() throws Exception {
        // The shell reuses its command objects: a flag of one removewatches must not stick to the next.
        String script = String.join("\n", "create /rw2", "get -w /rw2", "ls -w /rw2", "removewatches /rw2 -d",
                "get -w /rw2", "removewatches /rw2") + "\n";
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("reuse"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)))) {
            Cli.Result result = ZkSideBySide.shell(tandem.zookeeperConnect(), script);
            List<String> events = result.out().lines().filter(line -> line.startsWith("WATCHER::")).sorted().toList();
            assertEquals(List.of("WATCHER:: ChildWatchRemoved /rw2", "WATCHER:: DataWatchRemoved /rw2",
                    "WATCHER:: DataWatchRemoved /rw2"), events, result.toString());
        }
    }

    /** The seconds of ctime and mtime differ between two runs; the epoch of built-in nodes does not. */
    private static String maskTimes(String text) {
        return text.replaceAll("(?m)^([cm]time = ).*\\d{2}:\\d{2}:\\d{2} .* 20\\d\\d$", "$1<time>");
    }
}
