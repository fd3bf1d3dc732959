package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.TandemConfig;
import io.tandem.server.junit.TandemExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.jline.reader.Candidate;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;
import picocli.shell.jline3.PicocliJLineCompleter;

/** {@code tandem zk} against a real embedded ZooKeeper server, cross-checked with Apache's own client. */
class ZkCommandTest {
    @RegisterExtension
    static TandemExtension tandem = TandemExtension.configured(c -> c.roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));

    private static final ObjectMapper JSON = new ObjectMapper();

    private ZooKeeper apache;

    @BeforeEach
    void connect() throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        apache = new ZooKeeper(tandem.tandem().zookeeperConnect(), 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
    }

    @AfterEach
    void close() throws Exception {
        apache.close();
    }

    private static Cli.Result zk(String... args) {
        List<String> full = new ArrayList<>(List.of("zk", args[0], "--server", tandem.tandem().zookeeperConnect()));
        full.addAll(List.of(args).subList(1, args.length));
        return Cli.run(full.toArray(String[]::new));
    }

    private static void ok(Cli.Result result) {
        assertEquals(0, result.exitCode(), result.toString());
    }

    @Test
    void shouldCreateGetAndSetDataWithVersionChecks() throws Exception {
        Cli.Result created = zk("create", "/app", "hello");
        ok(created);
        assertEquals("Created /app\n", created.out());
        assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), apache.getData("/app", false, null));

        assertEquals("hello\n", zk("get", "/app").out());
        Cli.Result withStat = zk("get", "-s", "/app");
        ok(withStat);
        String[] lines = withStat.out().split("\n");
        assertEquals("hello", lines[0]);
        Stat stat = apache.exists("/app", false);
        assertEquals("cZxid = 0x" + Long.toHexString(stat.getCzxid()), lines[1]);
        assertEquals("dataVersion = 0", lines[7]);
        assertEquals("dataLength = 5", lines[10]);
        assertEquals("numChildren = 0", lines[11]);

        ok(zk("set", "/app", "world"));
        Cli.Result stale = zk("set", "-v", "0", "/app", "again");
        assertEquals(ExitCodes.ERROR, stale.exitCode());
        assertEquals("error: version No is not valid: /app\n", stale.err());
        ok(zk("set", "-v", "1", "/app", "again"));
        assertEquals("again", new String(apache.getData("/app", false, null), StandardCharsets.UTF_8));

        JsonNode json = JSON.readTree(zk("get", "/app", "-o", "json").out());
        assertEquals("again", json.get("data").asText());
        assertEquals(2, json.get("stat").get("dataVersion").asInt());
        ok(zk("create", "/empty"));
        assertEquals("null\n", zk("get", "/empty").out(), "no data is shown as zkCli shows it");
    }

    @Test
    void shouldCreateEachNodeKind() throws Exception {
        ok(zk("create", "/kinds"));
        Cli.Result sequential = zk("create", "-s", "/kinds/seq-", "x");
        ok(sequential);
        assertTrue(sequential.out().matches("Created /kinds/seq-\\d{10}\n"), sequential.out());

        Cli.Result ephemeral = zk("create", "-e", "/kinds/eph");
        ok(ephemeral);
        assertTrue(ephemeral.err().contains("ephemeral"), ephemeral.err());
        assertNull(apache.exists("/kinds/eph", false), "its session ended with the command");

        ok(zk("create", "-c", "/kinds/container"));
        ok(zk("create", "-t", "60000", "/kinds/ttl"));
        Stat ttl = apache.exists("/kinds/ttl", false);
        assertNotNull(ttl);
        assertEquals(0, ttl.getEphemeralOwner(), "TTL nodes show ephemeralOwner 0 to clients");
        assertNotNull(apache.exists("/kinds/container", false));

        assertEquals(ExitCodes.USAGE, zk("create", "-c", "-e", "/kinds/bad").exitCode());
        assertEquals(ExitCodes.USAGE, zk("create", "-t", "5", "-e", "/kinds/bad").exitCode());
        Cli.Result exists = zk("create", "/kinds");
        assertEquals(ExitCodes.ERROR, exists.exitCode());
        assertEquals("error: Node already exists: /kinds\n", exists.err());
    }

    @Test
    void shouldListChildrenAndWholeTrees() throws Exception {
        apache.create("/tree", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        apache.create("/tree/b", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        apache.create("/tree/a", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        apache.create("/tree/a/x", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertEquals("a\nb\n", zk("ls", "/tree").out());
        assertEquals("/tree\n/tree/a\n/tree/a/x\n/tree/b\n", zk("ls", "-R", "/tree").out());
        JsonNode json = JSON.readTree(zk("ls", "-R", "/tree", "--output", "json").out());
        assertEquals(4, json.size());
        assertEquals("/tree/a/x", json.get(2).asText());
        Cli.Result withStat = zk("ls", "-s", "/tree");
        assertTrue(withStat.out().contains("numChildren = 2"), withStat.out());

        Cli.Result missing = zk("ls", "/nope");
        assertEquals(ExitCodes.ERROR, missing.exitCode());
        assertEquals("error: Node does not exist: /nope\n", missing.err());
        assertEquals(ExitCodes.USAGE, zk("ls", "relative/path").exitCode());
    }

    @Test
    void shouldDeleteNodesAndSubtrees() throws Exception {
        apache.create("/doomed", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        apache.create("/doomed/a", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        apache.create("/doomed/a/b", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Cli.Result notEmpty = zk("delete", "/doomed");
        assertEquals(ExitCodes.ERROR, notEmpty.exitCode());
        assertEquals("error: Node not empty: /doomed\n", notEmpty.err());
        ok(zk("delete", "/doomed/a/b"));
        assertNull(apache.exists("/doomed/a/b", false));
        apache.create("/doomed/a/c", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        ok(zk("delete", "-r", "/doomed"));
        assertNull(apache.exists("/doomed", false));
        assertEquals(ExitCodes.ERROR, zk("delete", "-r", "/doomed").exitCode());
    }

    @Test
    void shouldPrintStatLikeZkCli() throws Exception {
        apache.create("/stat", "abc".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        Stat stat = apache.exists("/stat", false);
        Cli.Result printed = zk("stat", "/stat");
        ok(printed);
        String[] lines = printed.out().split("\n");
        assertEquals(11, lines.length);
        assertEquals("mZxid = 0x" + Long.toHexString(stat.getMzxid()), lines[2]);
        assertEquals("pZxid = 0x" + Long.toHexString(stat.getPzxid()), lines[4]);
        assertEquals("ephemeralOwner = 0x0", lines[8]);
        JsonNode json = JSON.readTree(zk("stat", "/stat", "-o", "json").out());
        assertEquals(3, json.get("dataLength").asInt());
        assertEquals(stat.getCtime(), json.get("ctime").asLong());
        assertEquals(ExitCodes.ERROR, zk("stat", "/missing").exitCode());
    }

    @Test
    void shouldReadAndReplaceAcls() throws Exception {
        apache.create("/guarded", "x".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
        apache.create("/guarded/child", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        assertEquals("world:anyone:cdrwa\n", zk("getAcl", "/guarded").out());
        ok(zk("setAcl", "-R", "/guarded", "world:anyone:cdra"));
        assertEquals("world:anyone:cdra\n", zk("getAcl", "/guarded/child").out());
        assertEquals(ZooDefs.Perms.ALL & ~ZooDefs.Perms.WRITE, apache.getACL("/guarded", new Stat()).get(0).getPerms());
        Cli.Result refused = zk("set", "/guarded", "y");
        assertEquals(ExitCodes.ERROR, refused.exitCode());
        assertEquals("error: Insufficient permission: /guarded\n", refused.err());
        assertEquals(ExitCodes.USAGE, zk("setAcl", "/guarded", "world:anyone:q").exitCode());
        assertEquals(ExitCodes.USAGE, zk("setAcl", "/guarded", "nonsense").exitCode());
        JsonNode json = JSON.readTree(zk("getAcl", "/guarded", "-o", "json").out());
        assertEquals("cdra", json.get("acl").get(0).get("perms").asText());
    }

    @Test
    void shouldPrintEachChangeOfAWatchedNode() throws Exception {
        apache.create("/watched", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        CompletableFuture<Cli.Result> watcher = CompletableFuture.supplyAsync(
                () -> zk("watch", "/watched", "--count", "3", "--timeout-ms", "10000"));
        Thread.sleep(1500);
        apache.setData("/watched", "1".getBytes(StandardCharsets.UTF_8), -1);
        Thread.sleep(500);
        apache.create("/watched/kid", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Thread.sleep(500);
        apache.delete("/watched/kid", -1);
        Cli.Result result = watcher.get(20, TimeUnit.SECONDS);
        ok(result);
        assertEquals("NodeDataChanged /watched\nNodeChildrenChanged /watched\nNodeChildrenChanged /watched\n",
                result.out());
    }

    @Test
    void shouldRunAScriptOnOneSessionInTheShell() throws Exception {
        String script = "create -e /shell-eph 'two words'\n"
                + "get /shell-eph\n"
                + "# a comment\n"
                + "\n"
                + "ls -R /shell-eph\n"
                + "get /shell-missing\n"
                + "stat /shell-eph\n";
        InputStream original = System.in;
        Cli.Result result;
        try {
            System.setIn(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)));
            result = zk("shell");
        } finally {
            System.setIn(original);
        }
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.out().startsWith("Created /shell-eph\ntwo words\n/shell-eph\ncZxid = "), result.out());
        assertTrue(result.out().contains("ephemeralOwner = 0x"), result.out());
        assertEquals("error: Node does not exist: /shell-missing\n", result.err(), "no ephemeral note in the shell");
        assertNull(apache.exists("/shell-eph", false), "gone with the shell's session");

        try {
            System.setIn(new ByteArrayInputStream("get /shell-missing\n".getBytes(StandardCharsets.UTF_8)));
            assertEquals(ExitCodes.ERROR, zk("shell").exitCode(), "the last command's exit code");
            System.setIn(new ByteArrayInputStream("ls / --server 127.0.0.1:1\n".getBytes(StandardCharsets.UTF_8)));
            assertEquals(ExitCodes.USAGE, zk("shell").exitCode(), "the shell has one session");
        } finally {
            System.setIn(original);
        }
    }

    @Test
    void shouldEditKeepHistoryAndCompleteAtATerminal() throws Exception {
        Path history = Files.createTempFile("tandem-history", "");
        StringWriter out = new StringWriter();
        ZkShellCommand shell = new ZkShellCommand();
        CommandLine shellLine = new CommandLine(shell);
        shellLine.setOut(new PrintWriter(out, true));
        shellLine.setErr(new PrintWriter(new StringWriter(), true));
        shellLine.parseArgs("--server", tandem.tandem().zookeeperConnect());
        CommandLine commands = new CommandLine(new ZkShellCommand.Commands());
        commands.setOut(new PrintWriter(out, true));
        ByteArrayInputStream typed = new ByteArrayInputStream("create /typed yes\nget /typed\n"
                .getBytes(StandardCharsets.UTF_8));
        Terminal terminal = new DumbTerminal(typed, new ByteArrayOutputStream());
        int exitCode;
        try (ZkSession session = ZkSession.open(shell.zk);
             ZkShellCommand.Lines lines = ZkShellCommand.terminalLines(terminal, commands, history)) {
            ZkSession.enterShell(session);
            exitCode = shell.loop(lines, commands, "zk> ");
        } finally {
            ZkSession.leaveShell();
        }
        assertEquals(0, exitCode);
        assertEquals("Created /typed\nyes\n", out.toString());
        String saved = Files.readString(history);
        assertTrue(saved.contains("create /typed yes") && saved.contains("get /typed"), saved);

        LineReader reader = LineReaderBuilder.builder().terminal(new DumbTerminal(
                new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream())).build();
        List<Candidate> candidates = new ArrayList<>();
        new PicocliJLineCompleter(commands.getCommandSpec()).complete(reader, new DefaultParser().parse("getA", 4),
                candidates);
        // JLine narrows the candidates to the typed prefix itself; the completer offers the shell's commands.
        assertEquals(java.util.Set.of("ls", "get", "set", "create", "delete", "stat", "getAcl", "setAcl", "watch",
                "addWatch", "getEphemerals", "getAllChildrenNumber", "sync", "deleteall", "whoami", "removewatches",
                "addauth", "printwatches", "config", "reconfig", "setquota", "listquota", "delquota"),
                candidates.stream().map(Candidate::value).collect(java.util.stream.Collectors.toSet()));
        candidates.clear();
        new PicocliJLineCompleter(commands.getCommandSpec()).complete(reader,
                new DefaultParser().parse("create -", 8), candidates);
        assertTrue(candidates.stream().map(Candidate::value).toList().containsAll(List.of("-e", "-s", "-c", "-t")),
                candidates.toString());
    }

    @Test
    void shouldSplitShellLinesLikeAShell() {
        assertEquals(List.of("set", "/a", "x y", "it's", "\"q\""),
                ZkShellCommand.split("set /a 'x y' it\\'s '\"q\"'"));
        assertEquals(List.of("a", ""), ZkShellCommand.split("a \"\""));
    }

    @Test
    void shouldExitTwoWhenNoServerAnswers() throws Exception {
        Cli.Result result = Cli.run("zk", "ls", "/", "--server", "127.0.0.1:" + Cli.closedPort(),
                "--connect-timeout-ms", "1000");
        assertEquals(ExitCodes.UNREACHABLE, result.exitCode());
        assertTrue(result.err().startsWith("error: cannot reach ZooKeeper at 127.0.0.1:"), result.err());
    }
}
