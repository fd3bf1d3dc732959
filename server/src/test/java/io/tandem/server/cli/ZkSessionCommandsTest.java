package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.zk.client.WatchedEvent;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.wire.AddWatchMode;
import io.tandem.zk.wire.EventType;
import io.tandem.zk.wire.OpCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zkCli 3.9's session and tree commands ({@code getEphemerals}, {@code getAllChildrenNumber}, {@code sync},
 * {@code whoami}, {@code deleteall}), the one-shot watches of {@code get -w}, {@code stat -w} and {@code ls -w}
 * (printed by the shell as WATCHER:: lines after the command that set them off) and its
 * persistent watches ({@code addWatch -m}): the same shell script against Apache ZooKeeper 3.9 in-process and
 * against Tandem gives the same output, and a persistent watch reports every change, also after a reconnect.
 */
class ZkSessionCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One session: its own ephemerals are what getEphemerals lists. */
    private static final String SCRIPT = String.join("\n",
            "create /info",
            "create /info/a",
            "create /info/a/b",
            "create -e /info/e1",
            "create -e /info/a/e2",
            "getAllChildrenNumber /info",
            "getAllChildrenNumber /info/a/b",
            "getEphemerals",
            "getEphemerals /info/a",
            "getEphemerals /nothing-here",
            "sync /info",
            "get -w /info/e1",
            "set /info/e1 changed",
            "stat -w /info/later",
            "ls -w /info",
            "create /info/later",
            "whoami",
            "deleteall /info/a -b 10",
            "getAllChildrenNumber /info",
            "getAllChildrenNumber -o json /info",
            "getAllChildrenNumber /info/missing") + "\n";

    @TempDir
    Path dir;

    @Test
    void shouldAnswerTheSessionCommandsAsAgainstApacheZooKeeper() throws Exception {
        System.setProperty("zookeeper.extendedTypesEnabled", "true");
        ZkSideBySide.Results<Cli.Result> results =
                ZkSideBySide.run(dir, server -> ZkSideBySide.shell(server, SCRIPT));
        Cli.Result fromApache = results.apache();
        Cli.Result fromTandem = results.tandem();
        assertEquals(fromApache.toString(), fromTandem.toString());
        // The script's own checks, so that it cannot pass by failing alike on both.
        List<String> lines = fromTandem.out().lines().toList();
        assertEquals(List.of("Created /info", "Created /info/a", "Created /info/a/b", "Created /info/e1",
                "Created /info/a/e2", "4", "0", "[/info/a/e2, /info/e1]", "[/info/a/e2]", "[]", "Sync is OK",
                "null", "WATCHER:: NodeDataChanged /info/e1", "a", "e1", "Created /info/later",
                "WATCHER:: NodeCreated /info/later", "WATCHER:: NodeChildrenChanged /info",
                "Auth scheme: User", "ip: 127.0.0.1", "2"), lines.subList(0, 21));
        assertEquals(2, JSON.readTree(String.join("\n", lines.subList(21, lines.size())))
                .get("allChildrenNumber").asInt());
        assertEquals(ExitCodes.ERROR, fromTandem.exitCode(), "the last command names a missing node");
        assertEquals("error: Node does not exist: /info/later\nerror: Node does not exist: /info/missing\n",
                fromTandem.err());
    }

    @Test
    void shouldPrintEveryChangeBelowAPersistentRecursiveWatchAndOnlyTheNodesOwnForAPersistentOne()
            throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("watch"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeper apache = ZkSideBySide.officialClient(tandem.zookeeperConnect())) {
            apache.create("/pw", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Cli.Running recursive = Cli.start("zk", "addWatch", "--server", tandem.zookeeperConnect(), "/pw",
                    "--count", "4", "--timeout-ms", "20000");
            Cli.Running persistent = Cli.start("zk", "addWatch", "--server", tandem.zookeeperConnect(), "-m",
                    "persistent", "/pw", "--count", "2", "--timeout-ms", "20000", "-o", "json");
            // Each prints "watching" once the server has acknowledged its watch (a fixed 1.5 s before: too short on
            // a loaded machine, and the first events were missed).
            recursive.awaitErr("watching /pw", 20_000);
            persistent.awaitErr("watching /pw", 20_000);
            // No pause between the changes: a persistent watch is not consumed, so none may be lost.
            apache.create("/pw/a", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            apache.create("/pw/a/b", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            apache.setData("/pw/a/b", "1".getBytes(StandardCharsets.UTF_8), -1);
            apache.delete("/pw/a/b", -1);
            apache.setData("/pw", "2".getBytes(StandardCharsets.UTF_8), -1);
            Cli.Result recursiveResult = recursive.get(30_000);
            assertEquals(0, recursiveResult.exitCode(), recursiveResult.toString());
            assertEquals("NodeCreated /pw/a\nNodeCreated /pw/a/b\nNodeDataChanged /pw/a/b\nNodeDeleted /pw/a/b\n",
                    recursiveResult.out());
            Cli.Result persistentResult = persistent.get(30_000);
            assertEquals(0, persistentResult.exitCode(), persistentResult.toString());
            assertEquals("{\"type\":\"NodeChildrenChanged\",\"path\":\"/pw\"}\n"
                    + "{\"type\":\"NodeDataChanged\",\"path\":\"/pw\"}\n", persistentResult.out());

            Cli.Result badMode = Cli.run("zk", "addWatch", "--server", tandem.zookeeperConnect(), "-m", "once",
                    "/pw");
            assertEquals(ExitCodes.USAGE, badMode.exitCode(), badMode.toString());
        }
    }

    @Test
    void shouldSetPersistentWatchesAgainWhenTheClientReconnects() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir.resolve("reconnect"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeper apache = ZkSideBySide.officialClient(tandem.zookeeperConnect())) {
            BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
            try (ZkClient client = ZkClient.connect(tandem.zookeeperConnect(), Duration.ofSeconds(30), events::add)) {
                client.connected().get(10, TimeUnit.SECONDS);
                assertEquals("None SYNC_CONNECTED", next(events));
                client.addWatch("/again", AddWatchMode.PERSISTENT_RECURSIVE).get(10, TimeUnit.SECONDS);
                apache.create("/again", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertEquals("NodeCreated /again", next(events));

                // The connection drops: the server forgets its watches, the client must set them again.
                tandem.faults().zookeeper(OpCode.GET_DATA).times(1).drop();
                try {
                    client.getData("/again", false).get(10, TimeUnit.SECONDS);
                } catch (ExecutionException expected) {
                    // CONNECTION_LOSS: the request was on the dropped connection.
                }
                assertEquals("None DISCONNECTED", next(events));
                assertEquals("None SYNC_CONNECTED", next(events));
                client.getData("/again", false).get(10, TimeUnit.SECONDS);

                apache.create("/again/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                apache.setData("/again", "x".getBytes(StandardCharsets.UTF_8), -1);
                assertEquals("NodeCreated /again/child", next(events));
                assertEquals("NodeDataChanged /again", next(events));
            }
        }
    }

    private static String next(BlockingQueue<WatchedEvent> events) throws InterruptedException {
        WatchedEvent event = events.poll(10, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no event within 10 s");
        }
        return event.type() == EventType.NONE ? "None " + event.state()
                : ZkEventPrinter.eventName(event.type()) + " " + event.path();
    }
}
