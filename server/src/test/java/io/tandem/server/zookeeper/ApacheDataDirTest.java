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
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.apache.zookeeper.server.Request;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.txn.CloseSessionTxn;
import org.apache.zookeeper.txn.CreateContainerTxn;
import org.apache.zookeeper.txn.CreateSessionTxn;
import org.apache.zookeeper.txn.CreateTTLTxn;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.DeleteTxn;
import org.apache.zookeeper.txn.ErrorTxn;
import org.apache.zookeeper.txn.MultiTxn;
import org.apache.zookeeper.txn.SetACLTxn;
import org.apache.zookeeper.txn.SetDataTxn;
import org.apache.zookeeper.txn.Txn;
import org.apache.zookeeper.txn.TxnDigest;
import org.apache.zookeeper.txn.TxnHeader;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.ConcurrentHashMap;
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
    void shouldReplayApachesLogsOnTopOfItsSnapshotAsApachesOwnRestoreDoes() throws Exception {
        Path apacheDir = dir.resolve("apache");
        FileTxnSnapLog files = new FileTxnSnapLog(apacheDir.toFile(), apacheDir.toFile());
        ApacheLog log = new ApacheLog(files);
        long alice = 0x0100000000000001L;
        long bob = 0x0100000000000002L;
        log.append(alice, OpCode.createSession, new CreateSessionTxn(30_000));
        log.append(alice, OpCode.create, new CreateTxn("/a", new byte[] {1}, Ids.OPEN_ACL_UNSAFE, false,
                log.nextCversion("/")));
        log.append(alice, OpCode.create, new CreateTxn("/a/e", null, Ids.OPEN_ACL_UNSAFE, true,
                log.nextCversion("/a")));
        files.save(log.tree, new ConcurrentHashMap<>(log.sessions), true);
        // After the snapshot, in a second log file too: every kind of transaction a 3.9 server logs.
        log.append(alice, OpCode.setData, new SetDataTxn("/a", new byte[] {2}, 1));
        files.rollLog();
        log.append(bob, OpCode.createSession, new CreateSessionTxn(4_000));
        log.append(bob, OpCode.create2, new CreateTxn("/b", null, Ids.READ_ACL_UNSAFE, false, log.nextCversion("/")));
        log.append(bob, OpCode.createContainer, new CreateContainerTxn("/c", null, Ids.OPEN_ACL_UNSAFE,
                log.nextCversion("/")));
        log.append(bob, OpCode.createTTL, new CreateTTLTxn("/t", null, Ids.OPEN_ACL_UNSAFE, log.nextCversion("/"),
                60_000));
        log.append(bob, OpCode.setACL, new SetACLTxn("/a", Ids.READ_ACL_UNSAFE, 1));
        log.append(bob, OpCode.multi, new MultiTxn(List.of(
                txn(OpCode.create, new CreateTxn("/a/m", new byte[] {3}, Ids.OPEN_ACL_UNSAFE, false, 3)),
                txn(OpCode.setData, new SetDataTxn("/a", new byte[] {4}, 2)),
                txn(OpCode.delete, new DeleteTxn("/c")))));
        log.append(bob, OpCode.error, new ErrorTxn(-101));
        log.append(alice, OpCode.closeSession, new CloseSessionTxn(List.of("/a/e")));
        files.commit();
        files.close();

        DataTree restored = new DataTree();
        Map<Long, Integer> restoredSessions = new HashMap<>();
        long restoredZxid = new FileTxnSnapLog(apacheDir.toFile(), apacheDir.toFile())
                .restore(restored, restoredSessions, (hdr, rec, digest) -> { });

        Path tandem = dir.resolve("tandem");
        ApacheDataDir.Result imported = ApacheDataDir.importFrom(apacheDir, apacheDir, tandem);
        assertEquals(restoredZxid, imported.zxid());
        assertEquals(9, imported.txnsReplayed(), "the transactions after the snapshot, each once");
        Path out = dir.resolve("out");
        ApacheDataDir.exportTo(tandem, out);
        DataTree loaded = new DataTree();
        Map<Long, Integer> loadedSessions = new HashMap<>();
        assertEquals(restoredZxid, new FileSnap(out.resolve("version-2").toFile()).deserialize(loaded, loadedSessions));
        assertEquals(restoredSessions, loadedSessions);
        assertEquals(Map.of(bob, 4_000), loadedSessions);
        assertEquals(nodes(restored), nodes(loaded));
    }

    @Test
    void shouldSkipADamagedNewestSnapshotAndReplayFromTheOneBeforeAsApacheDoes() throws Exception {
        Path apacheDir = dir.resolve("apache");
        FileTxnSnapLog files = new FileTxnSnapLog(apacheDir.toFile(), apacheDir.toFile());
        ApacheLog log = new ApacheLog(files);
        long alice = 0x0100000000000001L;
        log.append(alice, OpCode.createSession, new CreateSessionTxn(30_000));
        log.append(alice, OpCode.create, new CreateTxn("/a", new byte[] {1}, Ids.OPEN_ACL_UNSAFE, false, 1));
        files.save(log.tree, new ConcurrentHashMap<>(log.sessions), true);
        log.append(alice, OpCode.create, new CreateTxn("/b", new byte[] {2}, Ids.OPEN_ACL_UNSAFE, false, 2));
        log.append(alice, OpCode.setData, new SetDataTxn("/a", new byte[] {3}, 1));
        files.commit();
        java.io.File newest = files.save(log.tree, new ConcurrentHashMap<>(log.sessions), true);
        log.append(alice, OpCode.create, new CreateTxn("/c", null, Ids.OPEN_ACL_UNSAFE, false, 3));
        files.commit();
        files.close();
        // A crash while Apache wrote the newest snapshot: half of it is there.
        byte[] whole = Files.readAllBytes(newest.toPath());
        Files.write(newest.toPath(), Arrays.copyOf(whole, whole.length / 2));

        DataTree restored = new DataTree();
        Map<Long, Integer> restoredSessions = new HashMap<>();
        long restoredZxid = new FileTxnSnapLog(apacheDir.toFile(), apacheDir.toFile())
                .restore(restored, restoredSessions, (hdr, rec, digest) -> { });
        ApacheDataDir.Result imported = ApacheDataDir.importFrom(apacheDir, apacheDir, dir.resolve("tandem"));
        assertEquals(restoredZxid, imported.zxid());
        assertEquals(3, imported.txnsReplayed(), "replayed from the older snapshot");
        assertTrue(imported.file().getFileName().toString().equals("snapshot.2"), imported::toString);
        Path out = dir.resolve("out");
        ApacheDataDir.exportTo(dir.resolve("tandem"), out);
        DataTree loaded = new DataTree();
        new FileSnap(out.resolve("version-2").toFile()).deserialize(loaded, new HashMap<>());
        assertEquals(nodes(restored), nodes(loaded));
    }

    private static Txn txn(int type, Record record) throws IOException {
        return new Txn(type, ApacheLog.bytes(record));
    }

    /** Applies transactions to Apache's DataTree and logs them through Apache's FileTxnSnapLog, digests included. */
    private static final class ApacheLog {
        final DataTree tree = new DataTree();
        final Map<Long, Integer> sessions = new HashMap<>();
        private final FileTxnSnapLog files;
        private long zxid;

        ApacheLog(FileTxnSnapLog files) {
            this.files = files;
        }

        int nextCversion(String parent) {
            return tree.getNode(parent).stat.getCversion() + 1;
        }

        void append(long session, int type, Record txn) throws IOException {
            TxnHeader header = new TxnHeader(session, (int) zxid, ++zxid, 1_700_000_000_000L + zxid, type);
            tree.processTxn(header, txn);
            if (type == OpCode.createSession) {
                sessions.put(session, ((CreateSessionTxn) txn).getTimeOut());
            } else if (type == OpCode.closeSession) {
                sessions.remove(session);
            }
            files.append(new Request(header, txn, new TxnDigest(2, tree.getTreeDigest())));
        }

        static byte[] bytes(Record record) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            record.serialize(BinaryOutputArchive.getArchive(bytes), "txn");
            return bytes.toByteArray();
        }
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
    void exportShouldRefuseATargetWhereApacheHasANewerHistory() throws Exception {
        Path older = dir.resolve("older");
        Path newer = dir.resolve("newer");
        for (Path apache : List.of(older, newer)) {
            Path version = Files.createDirectories(apache.resolve("version-2"));
            DataTree tree = new DataTree();
            long zxid = apache == older ? 1 : 5;
            tree.createNode("/from-" + apache.getFileName(), null, Ids.OPEN_ACL_UNSAFE, 0, -1, zxid, 1);
            tree.lastProcessedZxid = zxid;
            new FileSnap(version.toFile()).serialize(tree, new HashMap<>(),
                    version.resolve("snapshot." + zxid).toFile(), true);
        }
        Path tandem = dir.resolve("tandem");
        ApacheDataDir.importFrom(older, older, tandem);
        IOException e = assertThrows(IOException.class, () -> ApacheDataDir.exportTo(tandem, newer));
        assertTrue(e.getMessage().contains("is newer (zxid 0x5) than Tandem's (zxid 0x1)"), e.getMessage());
        assertEquals(List.of("snapshot.5"), Files.list(newer.resolve("version-2"))
                .map(p -> p.getFileName().toString()).toList(), "nothing was written");
        assertEquals(1, ApacheDataDir.exportTo(tandem, older).zxid(), "over its own older history it exports");
    }

    @Test
    void anEnsembleMembersFirstStartOnApacheDataShouldBeRefused() throws Exception {
        Path version = Files.createDirectories(dir.resolve("version-2"));
        ApacheDataDir.refuseUnimportedForEnsemble(dir, dir.resolve("zab")); // nothing of Apache's yet
        Files.write(version.resolve("log.1"), new byte[0]);
        IOException e = assertThrows(IOException.class,
                () -> ApacheDataDir.refuseUnimportedForEnsemble(dir, dir.resolve("zab")));
        assertTrue(e.getMessage().contains("an ensemble member does not import"), e.getMessage());
        Files.createDirectories(dir.resolve("zab"));
        ApacheDataDir.refuseUnimportedForEnsemble(dir, dir.resolve("zab")); // a member that already ran as Tandem
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
