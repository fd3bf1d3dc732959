package io.tandem.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
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
    void exportOfAnEmptyTandemDirectoryShouldBeASnapshotApacheReads() throws Exception {
        Path apache = dir.resolve("apache");
        Cli.Result result = Cli.run("zk", "export", "--data-dir", dir.resolve("tandem").toString(), "--to",
                apache.toString());
        assertEquals(ExitCodes.OK, result.exitCode(), result::toString);
        assertTrue(result.out().startsWith("exported 5 znodes and 0 sessions at zxid 0x0 to "), result::toString);
        assertTrue(Files.exists(apache.resolve("version-2").resolve("snapshot.0")));
        DataTree tree = new DataTree();
        Map<Long, Integer> sessions = new HashMap<>();
        assertEquals(0, new FileSnap(apache.resolve("version-2").toFile()).deserialize(tree, sessions));
        // /, /zookeeper, /zookeeper/quota, /zookeeper/config; both count the root twice ("" and "/"), as mntr's
        // zk_znode_count does.
        assertEquals(5, tree.getNodeCount());
        assertTrue(tree.getNode("/zookeeper/config") != null);
    }
}
