package io.tandem.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.jute.BinaryInputArchive;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.admin.JettyAdminServer;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.apache.zookeeper.server.util.SerializeUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AdminServer's snapshot and restore, and the state commands beside them, side by side with Apache ZooKeeper
 * 3.9.5's own AdminServer (JettyAdminServer over a standalone ZooKeeperServer) over real HTTP: the same statuses,
 * error JSON, headers and JSON shapes; a snapshot restored into a fresh Tandem gives the same tree, also after a
 * restart; Apache's snapshot restores into Tandem; Tandem's hash is Apache's digest of the same tree.
 *
 * <p>Apache's rate limiters are static (one per JVM): its restore allows one call per 5 minutes, so only
 * {@link #shouldRefuseAsApacheDoes} restores on Apache, and its snapshot limiter's 0.3 s window is waited out before
 * each Apache snapshot ({@link #APACHE_SNAPSHOT_WINDOW_MS}).
 */
class AdminSnapshotRestoreTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Apache 3.9.5's snapshot limiter: the 300000 default read as microseconds (see AdminSnapshots). */
    private static final long APACHE_SNAPSHOT_WINDOW_MS = 400;
    private static final String ADMIN = "digest admin:secret";

    @TempDir
    Path dir;

    /** An HTTP answer: status, content type, the two snapshot headers, body. */
    record Answer(int status, String contentType, String lastZxid, String snapshotSize, byte[] body) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    @Test
    void shouldAnswerTheStateCommandsWithApachesShapes() throws Exception {
        try (ApacheServer apache = new ApacheServer(dir.resolve("apache"));
             Tandem tandem = tandem(dir.resolve("tandem"), Map.of())) {
            // 130 writes: Apache logs a digest at every 128th zxid, so its hash answer has an entry to compare.
            fill(apache.connect());
            fill(tandem.zookeeperConnect());
            for (String command : List.of("hash", "initial_configuration", "icfg", "last_snapshot", "lsnp",
                    "observers", "obsr", "observer_connection_stat_reset", "orst", "zabstate")) {
                Answer theirs = get(apache.adminPort, command, null);
                Answer ours = get(tandem.adminPort(), command, null);
                assertEquals(theirs.status(), ours.status(), command);
                List<String> differences = new ArrayList<>();
                JsonShapes.compare("", theirs.json(), ours.json(), differences);
                assertTrue(differences.isEmpty(), command + " differs from Apache's: " + differences + "\nApache: "
                        + theirs.json() + "\nTandem: " + ours.json());
            }
            // The digest log: one entry, at zxid 128, the same as Apache's after the same transactions.
            JsonNode hash = get(tandem.adminPort(), "hash", null).json().get("digests");
            assertEquals(1, hash.size(), hash.toString());
            assertEquals(128, hash.get(0).get("zxid").asLong(), hash.toString());
            assertEquals("", get(tandem.adminPort(), "icfg", null).json().get("initial_configuration").asText());
            JsonNode zab = get(tandem.adminPort(), "zabstate", null).json();
            assertEquals("", zab.get("zabstate").asText());
            assertTrue(zab.get("error").isNull());
        }
    }

    @Test
    void shouldRefuseAsApacheDoes() throws Exception {
        // A long window, so Tandem's 429s below do not depend on how fast the machine answers.
        try (ApacheServer apache = new ApacheServer(dir.resolve("apache"));
             Tandem tandem = tandem(dir.resolve("tandem"), Map.of("admin.rateLimiterIntervalInMS", "2000000000"))) {
            // Before any ACL: every way of failing authentication, and a GET of restore (Apache fails it after auth).
            String[][] cases = {{"GET", "snapshot", null}, {"GET", "snapshot", "bogus x"}, {"GET", "snapshot", "digest"},
                    {"GET", "snapshot", "x509"}, {"GET", "snap", "digest a b"}, {"POST", "restore", null},
                    {"GET", "restore", "bogus x"}, {"POST", "rest", "x509"}};
            for (String[] c : cases) sameRefusal(apache, tandem, c[0], c[1], c[2], 401);
            assertEquals(500, send(apache.adminPort, "GET", "restore", "digest u:p", null).status());
            assertEquals(500, send(tandem.adminPort(), "GET", "restore", "digest u:p", null).status());
            assertEquals(500, send(apache.adminPort, "POST", "ruok", null, new byte[1]).status());
            assertEquals(500, send(tandem.adminPort(), "POST", "ruok", null, new byte[1]).status());

            // The root's ACL grants only admin: anyone else authenticated is not authorized (403).
            lockRoot(apache.connect());
            lockRoot(tandem.zookeeperConnect());
            for (String auth : List.of("digest other:secret", "ip")) {
                sameRefusal(apache, tandem, "GET", "snapshot", auth, 403);
                sameRefusal(apache, tandem, "POST", "restore", auth, 403);
            }
            sameRefusal(apache, tandem, "GET", "snap", "digest other:secret", 403);

            // Admin passes: the metadata-only snapshot answers its zxid and size in headers and Apache's JSON.
            Thread.sleep(APACHE_SNAPSHOT_WINDOW_MS);
            Answer theirs = send(apache.adminPort, "GET", "snapshot?streaming=false", ADMIN, null);
            Answer ours = send(tandem.adminPort(), "GET", "snapshot?streaming=false", ADMIN, null);
            assertEquals(200, theirs.status(), new String(theirs.body()));
            assertEquals(200, ours.status());
            assertEquals(theirs.json(), ours.json());
            assertTrue(ours.lastZxid().matches("0x[0-9a-f]+"), ours.lastZxid());
            assertTrue(Long.parseLong(ours.snapshotSize()) > 0);
            // Tandem's limiter is Apache's: a second snapshot within the window is 429.
            Answer limited = send(tandem.adminPort(), "GET", "snapshot?streaming=false", ADMIN, null);
            assertEquals(429, limited.status());
            assertEquals(JSON.readTree("{\"command\":\"snapshot\",\"error\":null}"), limited.json());

            // Restore of a damaged body: 500 with a null error; the next restore within the window: 429.
            byte[] damaged = "not a snapshot".getBytes(StandardCharsets.US_ASCII);
            for (int expected : new int[] {500, 429}) {
                Answer apacheRestore = send(apache.adminPort, "POST", "restore", ADMIN, damaged);
                Answer tandemRestore = send(tandem.adminPort(), "POST", "restore", ADMIN, damaged);
                assertEquals(expected, apacheRestore.status());
                assertEquals(expected, tandemRestore.status());
                assertEquals(apacheRestore.json(), tandemRestore.json());
            }
            try (ZooKeeper zk = client(tandem.zookeeperConnect())) {
                assertEquals(130, zk.getChildren("/fill", false).size(), "the damaged restore changed nothing");
            }
        }

        // Switched off (zoo.cfg keys here, Apache's zookeeper.admin.* system properties there): 503.
        try (ApacheServer apache = new ApacheServer(dir.resolve("apache-off"));
             Tandem tandem = tandem(dir.resolve("tandem-off"), Map.of("admin.snapshot.enabled", "false",
                     "admin.restore.enabled", "false"))) {
            System.setProperty("zookeeper.admin.snapshot.enabled", "false");
            System.setProperty("zookeeper.admin.restore.enabled", "false");
            for (String[] c : new String[][] {{"GET", "snapshot"}, {"POST", "restore"}}) {
                Answer theirs = send(apache.adminPort, c[0], c[1], ADMIN, c[0].equals("POST") ? new byte[1] : null);
                Answer ours = send(tandem.adminPort(), c[0], c[1], ADMIN, c[0].equals("POST") ? new byte[1] : null);
                assertEquals(503, theirs.status());
                assertEquals(503, ours.status());
                assertEquals(theirs.json(), ours.json());
            }
        } finally {
            System.clearProperty("zookeeper.admin.snapshot.enabled");
            System.clearProperty("zookeeper.admin.restore.enabled");
        }
    }

    @Test
    void shouldRestoreASnapshotIntoAFreshServerWithTheSameTree() throws Exception {
        Path restoredDir = dir.resolve("restored");
        try (Tandem source = tandem(dir.resolve("source"), Map.of());
             ZooKeeper writer = client(source.zookeeperConnect())) {
            writer.addAuthInfo("digest", "u:p".getBytes(StandardCharsets.UTF_8));
            writer.create("/app", "config".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            writer.create("/app/private", new byte[] {1, 2, 3}, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
            String first = writer.create("/app/seq-", new byte[0], ZooDefs.Ids.READ_ACL_UNSAFE,
                    CreateMode.PERSISTENT_SEQUENTIAL);
            writer.create("/app/eph", new byte[] {9}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            writer.create("/big", new byte[100_000], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            writer.setData("/app", "config-2".getBytes(StandardCharsets.UTF_8), -1);
            writer.delete(first, -1);
            String last = writer.create("/app/seq-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_SEQUENTIAL);
            // Up to the next 128th zxid, so the digest log's newest entry is the digest of the tree snapshotted.
            while (writer.exists(last, false).getMzxid() % 128 != 0) {
                last = writer.create("/pad-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT_SEQUENTIAL);
            }
            Map<String, String> tree = tree(writer);

            Answer snapshot = send(source.adminPort(), "GET", "snapshot", "digest u:p", null);
            assertEquals(200, snapshot.status());
            assertEquals("application/octet-stream", snapshot.contentType());
            assertEquals(Long.parseLong(snapshot.snapshotSize()), snapshot.body().length);
            long zxid = Long.decode(snapshot.lastZxid());
            assertEquals(zxid, writer.exists(last, false).getMzxid());

            // Apache reads the stream as its own snapshot, and its digest of the tree is Tandem's hash.
            DataTree apacheTree = new DataTree();
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot.body()));
            in.skipNBytes(16); // FileHeader: magic, version, dbid
            SerializeUtils.deserializeSnapshot(apacheTree, BinaryInputArchive.getArchive(in), new HashMap<>());
            assertEquals("config-2", new String(apacheTree.getNode("/app").getData(), StandardCharsets.UTF_8));
            JsonNode digests = get(source.adminPort(), "hash", null).json().get("digests");
            JsonNode hash = digests.get(digests.size() - 1);
            assertEquals(zxid, hash.get("zxid").asLong());
            assertEquals(apacheTree.getTreeDigest(), hash.get("digest").asLong());

            try (Tandem fresh = tandem(restoredDir, Map.of());
                 ZooKeeper before = client(fresh.zookeeperConnect())) {
                Answer restored = send(fresh.adminPort(), "POST", "restore", "digest u:p", snapshot.body());
                assertEquals(200, restored.status(), new String(restored.body()));
                // A session the snapshot does not hold is gone, as in Apache: its connection is closed.
                assertThrows(org.apache.zookeeper.KeeperException.class, () -> before.exists("/", false));
                ZooKeeper reader = client(fresh.zookeeperConnect());
                reader.addAuthInfo("digest", "u:p".getBytes(StandardCharsets.UTF_8));
                assertEquals(JSON.readTree("{\"last_zxid\":" + zxid + ",\"command\":\"restore\",\"error\":null}"),
                        restored.json());
                assertEquals(tree, tree(reader));
                assertEquals(Long.toHexString(zxid), get(fresh.adminPort(), "lsnp", null).json().get("zxid")
                        .asText(), "the restored tree is the newest snapshot");
                // A restored tree starts a new digest log, as Apache's new DataTree does.
                assertEquals(0, get(fresh.adminPort(), "hash", null).json().get("digests").size());
                // zxids go on after the restored one.
                reader.create("/after", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertTrue(reader.exists("/after", false).getCzxid() > zxid);
                reader.delete("/after", -1);
                reader.close();
            }
            // After a restart the restored tree is still there (the ephemeral too: its session was in the snapshot
            // and has not expired yet).
            try (Tandem again = tandem(restoredDir, Map.of());
                 ZooKeeper reader = client(again.zookeeperConnect())) {
                reader.addAuthInfo("digest", "u:p".getBytes(StandardCharsets.UTF_8));
                Map<String, String> afterRestart = tree(reader);
                assertEquals(tree.keySet(), afterRestart.keySet());
                assertEquals(tree.get("/big"), afterRestart.get("/big"));
            }
        }

        // A server with a longer history takes the older snapshot too (restoring a backup): the tree is the
        // snapshot's, zxids go on from the server's own, and a restart keeps the restored tree.
        Path olderDir = dir.resolve("older");
        Answer backup;
        try (Tandem source = tandem(dir.resolve("backup-source"), Map.of());
             ZooKeeper writer = client(source.zookeeperConnect())) {
            writer.create("/backup", "v1".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            backup = send(source.adminPort(), "GET", "snapshot", "digest u:p", null);
            assertEquals(200, backup.status());
        }
        Map<String, String> restoredTree;
        long ownZxid;
        try (Tandem older = tandem(olderDir, Map.of())) {
            fill(older.zookeeperConnect());
            try (ZooKeeper zk = client(older.zookeeperConnect())) {
                ownZxid = zk.exists("/fill/n129", false).getCzxid();
            }
            assertTrue(ownZxid > Long.decode(backup.lastZxid()));
            Answer restored = send(older.adminPort(), "POST", "restore", "digest u:p", backup.body());
            assertEquals(200, restored.status(), new String(restored.body()));
            assertEquals(Long.decode(backup.lastZxid()), restored.json().get("last_zxid").asLong());
            try (ZooKeeper zk = client(older.zookeeperConnect())) {
                assertEquals(null, zk.exists("/fill", false));
                assertEquals("v1", new String(zk.getData("/backup", false, null), StandardCharsets.UTF_8));
                zk.create("/next", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertTrue(zk.exists("/next", false).getCzxid() > ownZxid, "zxids never go back");
                restoredTree = tree(zk);
            }
        }
        try (Tandem again = tandem(olderDir, Map.of());
             ZooKeeper zk = client(again.zookeeperConnect())) {
            assertEquals(restoredTree, tree(zk), "a restart starts from the restored tree and its later writes");
        }

        // Apache's own snapshot restores into Tandem with the same tree.
        try (ApacheServer apache = new ApacheServer(dir.resolve("apache"));
             ZooKeeper apacheClient = client(apache.connect());
             Tandem fresh = tandem(dir.resolve("from-apache"), Map.of())) {
            apacheClient.create("/from", "apache".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
            apacheClient.create("/from/child", new byte[] {7}, ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
            Thread.sleep(APACHE_SNAPSHOT_WINDOW_MS);
            Answer snapshot = send(apache.adminPort, "GET", "snapshot", "digest u:p", null);
            assertEquals(200, snapshot.status());
            Answer restored = send(fresh.adminPort(), "POST", "restore", "digest u:p", snapshot.body());
            assertEquals(200, restored.status(), new String(restored.body()));
            assertEquals(Long.decode(snapshot.lastZxid()), restored.json().get("last_zxid").asLong());
            try (ZooKeeper reader = client(fresh.zookeeperConnect())) {
                assertEquals(tree(apacheClient), tree(reader));
            }
        }
    }

    @Test
    void shouldRefuseAnOversizedBodyOnEveryOtherCommand() throws Exception {
        try (Tandem tandem = tandem(dir.resolve("big"), Map.of())) {
            Answer big = send(tandem.adminPort(), "POST", "ruok", null, new byte[HttpEndpoint.REQUEST_BODY_BYTES_MAX + 1]);
            assertEquals(413, big.status());
            // restore takes a snapshot of more than the small limit (the damaged body fails only once read).
            Answer restore = send(tandem.adminPort(), "POST", "restore", ADMIN,
                    new byte[HttpEndpoint.REQUEST_BODY_BYTES_MAX + 1]);
            assertEquals(500, restore.status());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void sameRefusal(ApacheServer apache, Tandem tandem, String method, String command, String auth,
                                    int status) throws Exception {
        Answer theirs = send(apache.adminPort, method, command, auth, method.equals("POST") ? new byte[1] : null);
        Answer ours = send(tandem.adminPort(), method, command, auth, method.equals("POST") ? new byte[1] : null);
        String what = method + " " + command + " with " + auth;
        assertEquals(status, theirs.status(), what + ": Apache " + new String(theirs.body()));
        assertEquals(status, ours.status(), what + ": Tandem " + new String(ours.body()));
        assertEquals(theirs.json(), ours.json(), what);
    }

    private static Tandem tandem(Path dir, Map<String, String> settings) throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("admin.serverPort", "0");
        settings.forEach(config::set);
        return Tandem.start(config);
    }

    private static Answer get(int port, String command, String auth) throws Exception {
        return send(port, "GET", command, auth, null);
    }

    private static Answer send(int port, String method, String command, String auth, byte[] body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/commands/"
                + command)).timeout(Duration.ofSeconds(30));
        if (auth != null) request.header("Authorization", auth);
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpResponse<byte[]> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                response.headers().firstValue("last_zxid").orElse(null),
                response.headers().firstValue("snapshot_size").orElse(null), response.body());
    }

    private static void fill(String connect) throws Exception {
        try (ZooKeeper zk = client(connect)) {
            zk.create("/fill", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int i = 0; i < 130; i++) {
                zk.create("/fill/n" + i, new byte[] {(byte) i}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
    }

    /** Sets the root's ACL to admin's digest alone, so only admin is authorized for snapshot and restore. */
    private static void lockRoot(String connect) throws Exception {
        try (ZooKeeper zk = client(connect)) {
            zk.create("/fill", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int i = 0; i < 130; i++) {
                zk.create("/fill/n" + i, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            Id admin = new Id("digest", DigestAuthenticationProvider.generateDigest("admin:secret"));
            zk.setACL("/", new ArrayList<>(List.of(new ACL(ZooDefs.Perms.ALL, admin))), -1);
        }
    }

    /** Every znode outside /zookeeper: data, ACL and the full Stat, by path. */
    private static Map<String, String> tree(ZooKeeper zk) throws Exception {
        Map<String, String> nodes = new TreeMap<>();
        List<String> pending = new ArrayList<>(List.of("/"));
        while (!pending.isEmpty()) {
            String path = pending.remove(pending.size() - 1);
            if (path.equals("/zookeeper")) continue;
            Stat stat = new Stat();
            byte[] data = zk.getData(path, false, stat);
            List<ACL> acl = zk.getACL(path, new Stat());
            nodes.put(path, java.util.Arrays.toString(data) + " " + acl + " " + stat);
            for (String child : zk.getChildren(path, false)) pending.add(path.equals("/") ? "/" + child
                    : path + "/" + child);
        }
        return nodes;
    }

    private static ZooKeeper client(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 30_000, event -> {
            if (event.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        assertTrue(connected.await(10, TimeUnit.SECONDS));
        return zk;
    }

    /** Apache ZooKeeper 3.9.5 standalone with its own Jetty AdminServer on a free port. */
    private static final class ApacheServer implements AutoCloseable {
        final ZooKeeperServer server;
        final ServerCnxnFactory factory;
        final JettyAdminServer admin;
        final int adminPort;

        ApacheServer(Path dir) throws Exception {
            server = new ZooKeeperServer(dir.resolve("snap").toFile(), dir.resolve("log").toFile(), 2000);
            factory = ServerCnxnFactory.createFactory(new InetSocketAddress("127.0.0.1", 0), 100);
            factory.startup(server);
            try (ServerSocket free = new ServerSocket(0)) {
                adminPort = free.getLocalPort();
            }
            admin = new JettyAdminServer("127.0.0.1", adminPort, 30_000, "/commands", 1, false, false, false);
            admin.setZooKeeperServer(server);
            admin.start();
        }

        String connect() {
            return "127.0.0.1:" + factory.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            admin.shutdown();
            factory.shutdown();
            server.shutdown();
        }
    }
}
