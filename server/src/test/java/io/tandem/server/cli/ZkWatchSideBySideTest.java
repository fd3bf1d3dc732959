package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code tandem zk watch} against Apache ZooKeeper 3.9 (in-process) and against Tandem: the same changes, made by the
 * official client one at a time (each after the previous event was printed), must print the same events, the node's
 * deletion and re-creation included.
 */
class ZkWatchSideBySideTest {
    @TempDir
    Path dir;

    @Test
    void shouldPrintTheSameEventsAsAgainstApacheZooKeeper() throws Exception {
        ZkSideBySide.Results<String> results = ZkSideBySide.run(dir, ZkWatchSideBySideTest::watchChanges);
        String fromApache = results.apache();
        String fromTandem = results.tandem();
        assertEquals(fromApache, fromTandem);
        assertEquals("exit 0\nNodeDataChanged /w\nNodeChildrenChanged /w\nNodeChildrenChanged /w\nNodeDeleted /w\n"
                + "NodeCreated /w\n", fromTandem);
    }

    /** Runs {@code zk watch /w --count 5} while making five changes, each once the one before was printed. */
    private static String watchChanges(String server) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        try (ZooKeeper zk = ZkSideBySide.officialClient(server)) {
            zk.create("/w", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            CompletableFuture<Integer> watching = CompletableFuture.supplyAsync(() -> commandLine.execute("zk",
                    "watch", "/w", "--count", "5", "--timeout-ms", "20000", "--server", server));
            awaitText(err, "watching /w", 1);
            zk.setData("/w", "1".getBytes(StandardCharsets.UTF_8), -1);
            awaitText(out, "\n", 1);
            zk.create("/w/kid", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            awaitText(out, "\n", 2);
            zk.delete("/w/kid", -1);
            awaitText(out, "\n", 3);
            zk.delete("/w", -1);
            awaitText(out, "\n", 4);
            zk.create("/w", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            int exitCode = watching.get(30, TimeUnit.SECONDS);
            return "exit " + exitCode + "\n" + out;
        }
    }

    /**
     * Waits until {@code text} occurs {@code times} times in {@code writer}, then a little longer: the command sets
     * its one-shot watches again after printing, and a change made before that would not be seen (as with any
     * one-shot watcher).
     */
    private static void awaitText(StringWriter writer, String text, int times) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (writer.toString().split(text, -1).length - 1 < times) {
            assertTrue(System.nanoTime() - deadline < 0, "waited for " + text + " in " + writer);
            Thread.sleep(20);
        }
        Thread.sleep(300);
    }
}
