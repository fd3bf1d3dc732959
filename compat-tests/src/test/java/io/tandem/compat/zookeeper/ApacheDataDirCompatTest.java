package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Main;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Moving one data directory from Apache ZooKeeper 3.9.5 to Tandem and back (issue 14 section 5). A real Apache server
 * writes its snapshots and logs; Tandem is started on the same dataDir (it imports them) and must show the same tree,
 * every Stat field, ACLs, the live session with its ephemeral and the last zxid; then `tandem zk export` writes
 * Tandem's state back as an Apache snapshot, and Apache started on it must show Tandem's tree the same way.
 */
class ApacheDataDirCompatTest {
    private static final int SESSION_TIMEOUT_MS = 30_000;

    @TempDir
    Path temp;

    @Test
    void tandemStartedOnApacheDataDirAndApacheStartedOnTheExportShowTheSameTreeSessionsAndZxid() throws Exception {
        Path dataDir = temp.resolve("zk");
        Files.createDirectories(dataDir);
        Zk.EventRecorder events = new Zk.EventRecorder();

        // 1. Apache writes a tree; a restart in the middle makes it snapshot the first half, so both snapshot and
        // log are read.
        ApacheServer apache = ApacheServer.start(dataDir, 0);
        int port = apache.port;
        String connect = "127.0.0.1:" + port;
        ZooKeeper client = Zk.connect(connect, SESSION_TIMEOUT_MS, events);
        Map<String, String> onApache;
        long apacheZxid;
        try {
            client.addAuthInfo("digest", "alice:secret".getBytes(StandardCharsets.UTF_8));
            client.create("/app", Zk.utf8("v0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/app/null-data", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int i = 0; i < 3; i++) {
                client.create("/app/seq-", Zk.utf8("s" + i), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            }
            apache.stop();
            apache = ApacheServer.start(dataDir, port);
            events.awaitState(KeeperState.SyncConnected);
            client.setData("/app", Zk.utf8("v1"), 0);
            client.setData("/app", Zk.utf8("v2"), 1);
            client.create("/app/gone", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.delete("/app/gone", 0);
            client.create("/secure", Zk.utf8("only alice"), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            client.create("/readonly", Zk.utf8("r"), Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/mixed", null, new ArrayList<>(List.of(new ACL(Perms.READ | Perms.WRITE,
                    new Id("ip", "127.0.0.1")), new ACL(Perms.ALL, new Id("world", "anyone")))), CreateMode.PERSISTENT);
            client.setACL("/mixed", Ids.OPEN_ACL_UNSAFE, 0);
            client.create("/app/eph", Zk.utf8("live"), Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            client.create("/app/eph-seq-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
            onApache = tree(client);
            assertEquals(14, onApache.size(), () -> "the walk saw every node: " + onApache.keySet());
            apacheZxid = zxid(port);
        } finally {
            apache.stop();
        }
        List<String> apacheFiles = names(dataDir.resolve("version-2"));
        assertTrue(apacheFiles.stream().anyMatch(n -> n.startsWith("snapshot.") && !n.equals("snapshot.0")),
                "Apache wrote a snapshot with nodes in it: " + apacheFiles);
        assertTrue(apacheFiles.stream().anyMatch(n -> n.startsWith("log.")), "Apache wrote a log: " + apacheFiles);

        // 2. Tandem on the same dataDir and port: the client's session carries on.
        long session = client.getSessionId();
        Map<String, String> onTandem;
        long tandemZxid;
        ZooKeeper second;
        try (Tandem tandem = startTandem(dataDir, port)) {
            events.awaitState(KeeperState.SyncConnected);
            assertEquals(session, client.getSessionId());
            assertEquals(onApache, tree(client));
            assertEquals(apacheZxid, zxid(port), "Tandem goes on from Apache's last zxid");
            assertEquals(session, client.exists("/app/eph", false).getEphemeralOwner());

            // Tandem's own writes: numbered on from Apache's zxid and sequence counter (Apache numbers by the
            // parent's child creations: 7 under /app so far).
            Stat created = new Stat();
            assertEquals("/app/seq-0000000007",
                    client.create("/app/seq-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, created));
            assertEquals(apacheZxid + 1, created.getCzxid());
            client.setData("/app", Zk.utf8("v3 from tandem"), 2);
            client.setACL("/mixed", Ids.READ_ACL_UNSAFE, 1);
            client.delete("/app/null-data", 0);
            second = Zk.connect(connect, SESSION_TIMEOUT_MS, new Zk.EventRecorder());
            second.create("/tandem-eph", Zk.utf8("second"), Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            onTandem = tree(client);
            tandemZxid = zxid(port);
        }

        // 3. Back to Apache: export Tandem's state into the same dataDir, start Apache on it.
        CommandLine cli = new CommandLine(new Main());
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute("zk", "export", "--data-dir", dataDir.toString(), "--to", dataDir.toString()),
                out::toString);
        assertTrue(Files.exists(dataDir.resolve("version-2").resolve("snapshot." + Long.toHexString(tandemZxid))),
                () -> names(dataDir.resolve("version-2")).toString());
        apache = ApacheServer.start(dataDir, port);
        try {
            events.awaitState(KeeperState.SyncConnected);
            assertEquals(session, client.getSessionId());
            assertEquals(onTandem, tree(client));
            assertEquals(tandemZxid, zxid(port), "Apache goes on from Tandem's last zxid");
            assertEquals(second.getSessionId(), client.exists("/tandem-eph", false).getEphemeralOwner());
            Stat created = new Stat();
            client.create("/after", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, created);
            assertEquals(tandemZxid + 1, created.getCzxid());
            // The sessions Tandem had are Apache's now: closing one removes its ephemeral.
            second.close();
            assertFalse(client.exists("/tandem-eph", false) != null, "the closed session's ephemeral is gone");
            client.close();
        } finally {
            apache.stop();
        }

        // 4. Apache wrote after the export: Tandem refuses its own older data rather than drop Apache's writes, and
        // imports Apache's once Tandem's is moved aside.
        IOException refused = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> startTandem(dataDir, port).close());
        assertTrue(String.valueOf(refused.getMessage()).contains("is newer"), refused::toString);
        Path aside = Files.createDirectories(temp.resolve("tandem-before"));
        Files.move(dataDir.resolve("log"), aside.resolve("log"));
        Files.move(dataDir.resolve("snapshots"), aside.resolve("snapshots"));
        try (Tandem tandem = startTandem(dataDir, port);
             ZooKeeper fresh = Zk.connect(connect)) {
            assertTrue(fresh.exists("/after", false) != null, "Apache's last write came back");
            assertEquals("v3 from tandem", new String(fresh.getData("/app", false, null), StandardCharsets.UTF_8));
        }
    }

    @Test
    void importCommandReadsApacheLogsFromASeparateDataLogDirAndRefusesATandemDirWithData() throws Exception {
        Path apacheData = temp.resolve("apache-data");
        Path apacheLogs = temp.resolve("apache-logs");
        ApacheServer apache = ApacheServer.start(apacheData, apacheLogs, 0);
        Map<String, String> onApache;
        long apacheZxid;
        try (ZooKeeper client = Zk.connect("127.0.0.1:" + apache.port)) {
            client.create("/a", Zk.utf8("x"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/a/b", Zk.utf8("y"), Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.setData("/a", Zk.utf8("z"), 0);
            onApache = tree(client);
        }
        try {
            apacheZxid = zxid(apache.port); // after the client's closeSession
        } finally {
            apache.stop();
        }
        assertTrue(names(apacheLogs.resolve("version-2")).stream().anyMatch(n -> n.startsWith("log.")));

        Path tandemDir = temp.resolve("tandem");
        CommandLine cli = new CommandLine(new Main());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        assertEquals(0, cli.execute("zk", "import", "--from", apacheData.toString(), "--from-log",
                apacheLogs.toString(), "--data-dir", tandemDir.toString()), err::toString);
        assertTrue(out.toString().contains("zxid 0x" + Long.toHexString(apacheZxid)), out::toString);
        assertEquals(1, cli.execute("zk", "import", "--from", apacheData.toString(), "--from-log",
                apacheLogs.toString(), "--data-dir", tandemDir.toString()), "a second import is refused");
        assertTrue(err.toString().contains("already holds Tandem ZooKeeper data"), err::toString);

        try (Tandem tandem = startTandem(tandemDir, 0)) {
            assertEquals(apacheZxid, zxid(tandem.zookeeperPort()));
            try (ZooKeeper client = Zk.connect("127.0.0.1:" + tandem.zookeeperPort())) {
                assertEquals(onApache, tree(client));
            }
        }
    }

    /**
     * Apache run with dataDir and dataLogDir apart (snapshots in one, logs in the other), then Tandem started on the
     * same two directories: it imports both and serves the same tree with every Stat field, the same last zxid and
     * the live session with its ephemeral; its own writes go to dataLogDir and survive a restart.
     */
    @Test
    void tandemStartedOnApacheDataDirAndDataLogDirServesTheSameTreeStatsAndZxid() throws Exception {
        Path dataDir = temp.resolve("snapshots-disk").resolve("zk");
        Path dataLogDir = temp.resolve("txnlog-disk").resolve("zk");
        Zk.EventRecorder events = new Zk.EventRecorder();
        ApacheServer apache = ApacheServer.start(dataDir, dataLogDir, 0);
        int port = apache.port;
        String connect = "127.0.0.1:" + port;
        ZooKeeper client = Zk.connect(connect, SESSION_TIMEOUT_MS, events);
        Map<String, String> onApache;
        long apacheZxid;
        try {
            client.create("/app", Zk.utf8("v0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/app/seq-", Zk.utf8("s"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            // A restart snapshots what is there: the snapshot in dataDir, the rest only in dataLogDir's log.
            apache.stop();
            apache = ApacheServer.start(dataDir, dataLogDir, port);
            events.awaitState(KeeperState.SyncConnected);
            client.setData("/app", Zk.utf8("v1"), 0);
            client.create("/app/gone", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.delete("/app/gone", 0);
            client.create("/readonly", Zk.utf8("r"), Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            client.create("/app/eph", Zk.utf8("live"), Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            onApache = tree(client);
            apacheZxid = zxid(port);
        } finally {
            apache.stop();
        }
        List<String> snapshotFiles = names(dataDir.resolve("version-2"));
        List<String> logFiles = names(dataLogDir.resolve("version-2"));
        assertTrue(snapshotFiles.stream().anyMatch(n -> n.startsWith("snapshot.") && !n.equals("snapshot.0")),
                "Apache snapshotted into dataDir: " + snapshotFiles);
        assertFalse(snapshotFiles.stream().anyMatch(n -> n.startsWith("log.")), "no log in dataDir: " + snapshotFiles);
        assertTrue(logFiles.stream().anyMatch(n -> n.startsWith("log.")), "Apache logged into dataLogDir: " + logFiles);
        assertFalse(logFiles.stream().anyMatch(n -> n.startsWith("snapshot.")), "no snapshot there: " + logFiles);

        long session = client.getSessionId();
        Map<String, String> onTandem;
        try (Tandem tandem = startTandem(dataDir, dataLogDir, port)) {
            events.awaitState(KeeperState.SyncConnected);
            assertEquals(session, client.getSessionId());
            assertEquals(onApache, tree(client), "the same nodes, data, Stats and ACLs as Apache served");
            assertEquals(apacheZxid, zxid(port), "Tandem goes on from Apache's last zxid");
            assertEquals(session, client.exists("/app/eph", false).getEphemeralOwner());
            Stat created = new Stat();
            client.create("/from-tandem", Zk.utf8("t"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, created);
            assertEquals(apacheZxid + 1, created.getCzxid());
            onTandem = tree(client);
        }
        assertFalse(names(dataLogDir.resolve("log")).isEmpty(), "Tandem's own log is under dataLogDir");
        assertFalse(Files.exists(dataDir.resolve("log")), "and not under dataDir");
        try (Tandem tandem = startTandem(dataDir, dataLogDir, port)) {
            events.awaitState(KeeperState.SyncConnected);
            assertEquals(onTandem, tree(client), "a restart keeps Tandem's own writes");
        } finally {
            client.close();
        }
    }

    /**
     * Apache's FileTxnSnapLog checks with dataLogDir set apart (ZOOKEEPER-2967), on files a real Apache server wrote:
     * its logs left in dataDir ("Snapshot directory has log files") and its snapshots in the directory now named
     * dataLogDir ("Log directory has snapshot files") are refused by Apache and by Tandem with the same message,
     * where starting would have passed over every write in those logs.
     */
    @Test
    void apacheFilesInTheWrongDirectoryAreRefusedAsApacheRefusesThem() throws Exception {
        Path together = temp.resolve("together");
        ApacheServer apache = ApacheServer.start(together, 0);
        try (ZooKeeper client = Zk.connect("127.0.0.1:" + apache.port)) {
            client.create("/only-in-the-log", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        } finally {
            apache.stop();
        }
        List<String> written = names(together.resolve("version-2"));
        assertTrue(written.stream().anyMatch(n -> n.startsWith("log.")), written::toString);
        assertTrue(written.stream().anyMatch(n -> n.startsWith("snapshot.")), written::toString);

        // dataDir holds Apache's logs, dataLogDir is somewhere new.
        Path newLogDir = temp.resolve("new-log-dir");
        String apacheSays = refusedByApache(together, newLogDir);
        assertEquals("Snapshot directory has log files. Check if dataLogDir and dataDir configuration is correct.",
                apacheSays);
        Exception tandemSays = assertThrows(Exception.class, () -> startTandem(together, newLogDir, 0).close());
        assertTrue(String.valueOf(tandemSays.getMessage()).contains(apacheSays), tandemSays::toString);

        // dataLogDir holds Apache's snapshots (it was Apache's only directory), dataDir is somewhere new.
        Path newDataDir = temp.resolve("new-data-dir");
        apacheSays = refusedByApache(newDataDir, together);
        assertEquals("Log directory has snapshot files. Check if dataLogDir and dataDir configuration is correct.",
                apacheSays);
        tandemSays = assertThrows(Exception.class, () -> startTandem(newDataDir, together, 0).close());
        assertTrue(String.valueOf(tandemSays.getMessage()).contains(apacheSays), tandemSays::toString);
        assertEquals(written, names(together.resolve("version-2")), "Apache's files are left as they were");
    }

    /** The message Apache's FileTxnSnapLog(dataLogDir, dataDir) refuses the two directories with. */
    private static String refusedByApache(Path dataDir, Path dataLogDir) {
        IOException e = assertThrows(IOException.class,
                () -> new FileTxnSnapLog(dataLogDir.toFile(), dataDir.toFile()).close());
        return e.getMessage();
    }

    private static Tandem startTandem(Path zkDataDir, int port) throws IOException {
        return startTandem(zkDataDir, null, port);
    }

    /** Tandem's ZooKeeper on zoo.cfg's dataDir and, unless null, dataLogDir. */
    private static Tandem startTandem(Path zkDataDir, Path dataLogDir, int port) throws IOException {
        TandemConfig config = TandemConfig.forTests(zkDataDir.resolveSibling(zkDataDir.getFileName() + "-node"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)).zookeeperPort(port)
                .set("tickTime", Integer.toString(ZkTarget.TICK_TIME_MS))
                .set("dataDir", zkDataDir.toString());
        if (dataLogDir != null) config.set("dataLogDir", dataLogDir.toString());
        return Tandem.start(config);
    }

    /** Every node below "/" with its data, full Stat and ACL, as the Java client reads them. */
    private static Map<String, String> tree(ZooKeeper client) throws Exception {
        Map<String, String> nodes = new TreeMap<>();
        List<String> pending = new ArrayList<>(List.of("/"));
        while (!pending.isEmpty()) {
            String path = pending.remove(pending.size() - 1);
            Stat stat = new Stat();
            byte[] data = client.getData(path, false, stat);
            List<ACL> acl = client.getACL(path, new Stat());
            nodes.put(path, "data=" + (data == null ? "null" : Base64.getEncoder().encodeToString(data))
                    + " stat=" + stat.toString().trim() + " acl=" + acl);
            for (String child : client.getChildren(path, false)) {
                pending.add(path.equals("/") ? "/" + child : path + "/" + child);
            }
        }
        return nodes;
    }

    /** The server's last zxid, from the {@code srvr} four-letter word (in Apache's default whitelist). */
    private static long zxid(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            for (String line : answer.split("\n")) {
                if (line.startsWith("Zxid: 0x")) {
                    return Long.parseLong(line.substring("Zxid: 0x".length()).trim(), 16);
                }
            }
            throw new AssertionError("no Zxid line in srvr's answer: " + answer);
        }
    }

    private static List<String> names(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Apache ZooKeeper 3.9.5 standalone, in-process from the test-scope jar, on a given dataDir (and dataLogDir). */
    private static final class ApacheServer {
        final ZooKeeperServer server;
        final ServerCnxnFactory connections;
        final int port;

        private ApacheServer(ZooKeeperServer server, ServerCnxnFactory connections) {
            this.server = server;
            this.connections = connections;
            this.port = connections.getLocalPort();
        }

        static ApacheServer start(Path dataDir, int port) throws Exception {
            return start(dataDir, dataDir, port);
        }

        static ApacheServer start(Path dataDir, Path dataLogDir, int port) throws Exception {
            // As ZooKeeperServerMain builds it: FileTxnSnapLog(dataLogDir, dataDir).
            ZooKeeperServer server = new ZooKeeperServer(new FileTxnSnapLog(dataLogDir.toFile(), dataDir.toFile()),
                    ZkTarget.TICK_TIME_MS, "");
            ServerCnxnFactory connections = null;
            for (int attempt = 0; ; attempt++) {
                try {
                    connections = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", port), 100);
                    break;
                } catch (java.net.BindException e) {
                    if (attempt == 50) throw e;
                    Thread.sleep(100); // the previous server on this port is still letting go of it
                }
            }
            connections.startup(server);
            return new ApacheServer(server, connections);
        }

        void stop() {
            connections.shutdown();
            server.shutdown();
        }
    }
}
