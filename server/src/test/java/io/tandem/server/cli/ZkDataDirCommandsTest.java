package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.persistence.FileSnap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZkDataDirCommandsTest {
    @TempDir
    Path dir;

    @Test
    void importShouldFailWithOneErrorLineWhenTheDirectoryHoldsNoApacheData() {
        Cli.Result result = Cli.run("zk", "import", "--from", dir.toString(), "--data-dir",
                dir.resolve("tandem").toString());
        assertEquals(ExitCodes.ERROR, result.exitCode(), result::toString);
        assertTrue(result.err().startsWith("error: no Apache ZooKeeper data in " + dir), result::toString);
    }

    @Test
    void missingDirectoriesShouldBeAUsageError() {
        assertEquals(ExitCodes.USAGE, Cli.run("zk", "import", "--from", dir.toString()).exitCode());
        assertEquals(ExitCodes.USAGE, Cli.run("zk", "export", "--to", dir.toString()).exitCode());
    }

    @Test
    void exportShouldRefuseADirectoryWithoutTandemData() {
        Cli.Result result = Cli.run("zk", "export", "--data-dir", dir.resolve("typo").toString(), "--to",
                dir.resolve("apache").toString());
        assertEquals(ExitCodes.ERROR, result.exitCode(), result::toString);
        assertTrue(result.err().startsWith("error: no Tandem ZooKeeper data in "), result::toString);
        assertTrue(!Files.exists(dir.resolve("apache")), "nothing was written");
    }

    @Test
    void importThenExportShouldPrintWhatMovedAndWriteASnapshotApacheReads() throws Exception {
        Path apacheIn = dir.resolve("apache-in");
        Path versionIn = Files.createDirectories(apacheIn.resolve("version-2"));
        DataTree original = new DataTree();
        original.createNode("/a", new byte[] {7}, Ids.OPEN_ACL_UNSAFE, 0, -1, 1, 1);
        original.lastProcessedZxid = 1;
        new FileSnap(versionIn.toFile()).serialize(original, new HashMap<>(Map.of(5L, 6000)),
                versionIn.resolve("snapshot.1").toFile(), true);

        Path tandem = dir.resolve("tandem");
        Cli.Result imported = Cli.run("zk", "import", "--from", apacheIn.toString(), "--data-dir", tandem.toString());
        assertEquals(ExitCodes.OK, imported.exitCode(), imported::toString);
        // Node counts are mntr's zk_znode_count, which counts the root twice ("" and "/"), as Apache's does.
        assertEquals("imported 6 znodes and 1 sessions at zxid 0x1 (snapshot snapshot.1, 0 transactions replayed) "
                + "into " + tandem + "\n", imported.out());

        Path apacheOut = dir.resolve("apache-out");
        Cli.Result exported = Cli.run("zk", "export", "--data-dir", tandem.toString(), "--to", apacheOut.toString());
        assertEquals(ExitCodes.OK, exported.exitCode(), exported::toString);
        Path snapshot = apacheOut.resolve("version-2").resolve("snapshot.1");
        assertEquals("exported 6 znodes and 1 sessions at zxid 0x1 to " + snapshot + "\n", exported.out());
        DataTree tree = new DataTree();
        Map<Long, Integer> sessions = new HashMap<>();
        assertEquals(1, new FileSnap(snapshot.getParent().toFile()).deserialize(tree, sessions));
        assertEquals(Map.of(5L, 6000), sessions);
        assertEquals(6, tree.getNodeCount());
        assertEquals(7, tree.getData("/a", new Stat(), null)[0]);
    }
}
