package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.jute.BinaryInputArchive;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.util.SerializeUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AdminServer's snapshot is fuzzy and off the commit thread, as Apache's: writes go on committing while the walk
 * is held half way, the {@code last_zxid} header is the zxid the walk started from, and the streamed file restores
 * (Tandem's and Apache's readers alike) to a whole tree whose zxid covers the writes the walk may have seen. A restore
 * drops the watches set before it, as Apache's new DataTree does.
 */
class AdminSnapshotFuzzyTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AUTH = "digest u:p";
    private static final int CHILDREN = 300;

    @TempDir
    Path dir;

    @AfterEach
    void clearHook() {
        ApacheTreeFormat.fuzzyNodeWritten = () -> { };
    }

    @Test
    void shouldKeepCommittingWritesWhileTheSnapshotIsWalkedAndRestoreTheStreamedFile() throws Exception {
        try (Tandem source = tandem(dir.resolve("source"));
             ZooKeeper zk = client(source.zookeeperConnect())) {
            zk.create("/data", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            for (int i = 0; i < CHILDREN; i++) {
                zk.create("/data/n" + i, new byte[4096], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            long before = zk.exists("/data/n" + (CHILDREN - 1), false).getMzxid();
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<String> walkThreads = Collections.synchronizedList(new ArrayList<>());
            ApacheTreeFormat.fuzzyNodeWritten = () -> {
                walkThreads.add(Thread.currentThread().getName());
                reached.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            CompletableFuture<HttpResponse<byte[]>> snapshot = HTTP.sendAsync(request(source.adminPort(), "snapshot")
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertTrue(reached.await(20, TimeUnit.SECONDS), "the snapshot walk never started");

            // The walk is held after its first node: writes commit meanwhile (the commit thread is not walking).
            long during;
            try (ZooKeeper writer = client(source.zookeeperConnect())) {
                CompletableFuture<Stat> set = new CompletableFuture<>();
                writer.setData("/data/n0", "during".getBytes(StandardCharsets.UTF_8), -1,
                        (rc, path, ctx, stat) -> set.complete(rc == 0 ? stat : null), null);
                Stat stat = set.get(10, TimeUnit.SECONDS);
                assertTrue(stat != null, "setData failed");
                CompletableFuture<String> created = new CompletableFuture<>();
                writer.create("/during", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                        (rc, path, ctx, name) -> created.complete(rc == 0 ? name : null), null);
                assertEquals("/during", created.get(10, TimeUnit.SECONDS));
                during = writer.exists("/during", false).getCzxid();
            }
            assertTrue(!snapshot.isDone(), "the snapshot answered while its walk was held");
            ApacheTreeFormat.fuzzyNodeWritten = () -> { };
            release.countDown();

            HttpResponse<byte[]> answer = snapshot.get(30, TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode());
            assertEquals("zk-admin-snapshot", walkThreads.get(0), "walked on the snapshot thread");
            assertEquals(before, Long.decode(answer.headers().firstValue("last_zxid").orElseThrow()),
                    "last_zxid is the tree's zxid when the walk began, as Apache names a fuzzy snapshot");
            byte[] body = answer.body();
            assertEquals(Long.parseLong(answer.headers().firstValue("snapshot_size").orElseThrow()), body.length);

            // Apache's reader takes the file: every node the walk was sure to reach is there.
            org.apache.zookeeper.server.DataTree apacheTree = new org.apache.zookeeper.server.DataTree();
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
            in.skipNBytes(16); // FileHeader: magic, version, dbid
            SerializeUtils.deserializeSnapshot(apacheTree, BinaryInputArchive.getArchive(in), new HashMap<>());
            assertEquals(CHILDREN, apacheTree.getNode("/data").getChildren().size());

            // Tandem restores it; its zxid is the tree's after the walk, which covers the writes made during it.
            try (Tandem fresh = tandem(dir.resolve("fresh"))) {
                HttpResponse<byte[]> restored = HTTP.send(request(fresh.adminPort(), "restore")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, restored.statusCode(), new String(restored.body(), StandardCharsets.UTF_8));
                long restoredZxid = JSON.readTree(restored.body()).get("last_zxid").asLong();
                assertTrue(restoredZxid >= during, restoredZxid + " < " + during);
                try (ZooKeeper reader = client(fresh.zookeeperConnect())) {
                    List<String> children = reader.getChildren("/data", false);
                    assertEquals(CHILDREN, children.size());
                    for (int i = 1; i < CHILDREN; i++) {
                        assertEquals(4096, reader.getData("/data/n" + i, false, null).length);
                    }
                    reader.create("/after", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    assertTrue(reader.exists("/after", false).getCzxid() > restoredZxid);
                }
            }
        }
    }

    @Test
    void shouldDropTheWatchesSetBeforeARestore() throws Exception {
        List<WatchedEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (Tandem tandem = tandem(dir.resolve("watches"));
             ZooKeeper watcher = client(tandem.zookeeperConnect())) {
            watcher.create("/w", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            watcher.getData("/w", events::add, null);
            watcher.getChildren("/w", events::add);
            watcher.exists("/absent", events::add);
            watcher.addWatch("/w", events::add, AddWatchMode.PERSISTENT_RECURSIVE);
            assertTrue(watches(tandem).get("num_total_watches").asInt() >= 3);

            // The snapshot holds the watcher's session, so its connection outlives the restore.
            HttpResponse<byte[]> snapshot = HTTP.send(request(tandem.adminPort(), "snapshot").GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, snapshot.statusCode());
            HttpResponse<byte[]> restored = HTTP.send(request(tandem.adminPort(), "restore")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(snapshot.body())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, restored.statusCode(), new String(restored.body(), StandardCharsets.UTF_8));
            assertEquals(0, watches(tandem).get("num_total_watches").asInt(), "Apache's restored tree has no watches");

            try (ZooKeeper writer = client(tandem.zookeeperConnect())) {
                writer.setData("/w", new byte[] {1}, -1);
                writer.create("/w/child", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                writer.create("/absent", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            // The watcher's own later read comes after any notification the writes would have sent it.
            assertEquals(1, watcher.getData("/w", false, null)[0]);
            assertEquals(List.of(), events);
        }
    }

    private static JsonNode watches(Tandem tandem) throws Exception {
        HttpResponse<byte[]> answer = HTTP.send(request(tandem.adminPort(), "wchs").GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return JSON.readTree(answer.body());
    }

    private static HttpRequest.Builder request(int port, String command) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/commands/" + command))
                .timeout(Duration.ofSeconds(60)).header("Authorization", AUTH);
    }

    private static Tandem tandem(Path dir) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("admin.serverPort", "0"));
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
}
