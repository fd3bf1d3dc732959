package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.EphemeralType;
import org.apache.zookeeper.server.persistence.FileSnap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache's own DataTree and FileSnap (3.9.5, test scope) against ApacheDataDir: a snapshot Apache wrote is imported
 * into Tandem's store, exported again, and read back by Apache's FileSnap into a tree equal to the original node for
 * node (data, every persisted Stat field including container and TTL owners, ACLs) with the same sessions and zxid.
 */
class ApacheDataDirTest {
    @TempDir
    Path dir;

    @Test
    void shouldCarryApachesSnapshotThroughTandemAndBackUnchanged() throws Exception {
        DataTree original = new DataTree();
        long zxid = 0;
        List<ACL> mixed = new ArrayList<>(List.of(new ACL(Perms.READ, new Id("ip", "10.0.0.0/8")),
                new ACL(Perms.ALL, new Id("digest", "alice:Qz2l1cHrz8b7wRJ0ZWOT7qzCK5M="))));
        original.createNode("/app", "v0".getBytes(StandardCharsets.UTF_8), Ids.OPEN_ACL_UNSAFE, 0, -1, ++zxid, 1000);
        original.createNode("/app/null", null, Ids.READ_ACL_UNSAFE, 0, -1, ++zxid, 1001);
        original.createNode("/app/mixed", new byte[] {0, 1, 2}, mixed, 0, -1, ++zxid, 1002);
        original.createNode("/app/eph", null, Ids.OPEN_ACL_UNSAFE, 0x1234L, -1, ++zxid, 1003);
        original.createNode("/container", null, Ids.OPEN_ACL_UNSAFE, EphemeralType.CONTAINER_EPHEMERAL_OWNER, -1,
                ++zxid, 1004);
        original.createNode("/ttl", null, Ids.OPEN_ACL_UNSAFE, EphemeralType.TTL.toEphemeralOwner(60_000), -1, ++zxid,
                1005);
        original.createNode("/app/gone", null, Ids.OPEN_ACL_UNSAFE, 0, -1, ++zxid, 1006);
        original.deleteNode("/app/gone", ++zxid);
        original.setData("/app", "v1".getBytes(StandardCharsets.UTF_8), 1, ++zxid, 1007);
        original.setACL("/app/mixed", Ids.CREATOR_ALL_ACL, 1);
        original.lastProcessedZxid = zxid;
        Map<Long, Integer> sessions = new HashMap<>(Map.of(0x1234L, 30_000, 0x5678L, 4_000));
        Path apacheIn = dir.resolve("apache-in");
        Path versionIn = Files.createDirectories(apacheIn.resolve("version-2"));
        new FileSnap(versionIn.toFile()).serialize(original, sessions,
                versionIn.resolve("snapshot." + Long.toHexString(zxid)).toFile(), true);

        Path tandem = dir.resolve("tandem");
        ApacheDataDir.Result imported = ApacheDataDir.importFrom(apacheIn, apacheIn, tandem);
        assertEquals(zxid, imported.zxid());
        assertEquals(2, imported.sessions());
        Path apacheOut = dir.resolve("apache-out");
        ApacheDataDir.Result exported = ApacheDataDir.exportTo(tandem, apacheOut);
        assertEquals(zxid, exported.zxid());

        DataTree loaded = new DataTree();
        Map<Long, Integer> loadedSessions = new HashMap<>();
        long loadedZxid = new FileSnap(apacheOut.resolve("version-2").toFile()).deserialize(loaded, loadedSessions);
        assertEquals(zxid, loadedZxid);
        assertEquals(zxid, loaded.lastProcessedZxid);
        assertEquals(sessions, loadedSessions);
        Map<String, String> before = nodes(original);
        assertEquals(10, before.size(), before.keySet()::toString);
        assertEquals(before, nodes(loaded));
        assertEquals(original.getEphemerals(0x1234L), loaded.getEphemerals(0x1234L));
        assertEquals(original.getContainers(), loaded.getContainers());
        assertEquals(original.getTtls(), loaded.getTtls());
    }

    @Test
    void shouldRefuseToImportOverTandemData() throws Exception {
        Path apacheIn = dir.resolve("apache-in");
        Path versionIn = Files.createDirectories(apacheIn.resolve("version-2"));
        DataTree tree = new DataTree();
        tree.createNode("/a", null, Ids.OPEN_ACL_UNSAFE, 0, -1, 1, 1);
        tree.lastProcessedZxid = 1;
        new FileSnap(versionIn.toFile()).serialize(tree, new HashMap<>(), versionIn.resolve("snapshot.1").toFile(),
                true);
        Path tandem = dir.resolve("tandem");
        ApacheDataDir.importFrom(apacheIn, apacheIn, tandem);
        IOException e = assertThrows(IOException.class, () -> ApacheDataDir.importFrom(apacheIn, apacheIn, tandem));
        assertTrue(e.getMessage().contains("already holds Tandem ZooKeeper data"), e.getMessage());
    }

    @Test
    void shouldRefuseADirectoryWithoutApacheData() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> ApacheDataDir.importFrom(dir, dir, dir.resolve("tandem")));
        assertTrue(e.getMessage().contains("no Apache ZooKeeper data"), e.getMessage());
    }

    /** Every node with its data, raw persisted Stat (owners included) and ACL, walking Apache's tree. */
    private static Map<String, String> nodes(DataTree tree) throws Exception {
        Map<String, String> nodes = new TreeMap<>();
        List<String> pending = new ArrayList<>(List.of("/"));
        while (!pending.isEmpty()) {
            String path = pending.remove(pending.size() - 1);
            byte[] data = tree.getData(path, new Stat(), null);
            nodes.put(path, Arrays.toString(data) + " " + tree.getNode(path).stat + " "
                    + tree.getACL(path, new Stat()));
            for (String child : tree.getChildren(path, new Stat(), null)) {
                pending.add(path.equals("/") ? "/" + child : path + "/" + child);
            }
        }
        return nodes;
    }
}
