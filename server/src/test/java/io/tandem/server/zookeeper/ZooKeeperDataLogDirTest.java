package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import io.tandem.server.http.AdminHttp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.TxnHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zoo.cfg's dataLogDir, as Apache's FileTxnSnapLog(dataLogDir, dataDir) keeps it: the transaction log there, snapshots
 * in dataDir, both read back on restart.
 */
class ZooKeeperDataLogDirTest {
    private static final int WRITES = 30;

    @TempDir
    Path dir;

    private TandemConfig config(Path dataDir, Path dataLogDir) {
        TandemConfig config = TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("dataDir", dataDir.toString()).set("4lw.commands.whitelist", "*");
        return dataLogDir == null ? config : config.set("dataLogDir", dataLogDir.toString());
    }

    @Test
    void shouldWriteTheLogUnderDataLogDirAndRecoverEveryWriteOnRestart() throws Exception {
        Path dataDir = dir.resolve("data");
        Path dataLogDir = dir.resolve("txnlog-disk").resolve("zk");
        try (Tandem tandem = Tandem.start(config(dataDir, dataLogDir).set("admin.serverPort", "0"));
             ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            for (int i = 0; i < WRITES; i++) {
                zk.create("/n" + i, new byte[] {(byte) i}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            JsonNode configuration = AdminHttp.command(tandem.adminPort(), "configuration");
            assertEquals(dataDir.toString(), configuration.get("data_dir").asText());
            assertEquals(dataLogDir.toString(), configuration.get("data_log_dir").asText());
            String conf = fourLetterWord(tandem.zookeeperPort(), "conf");
            assertTrue(conf.contains("dataDir=" + dataDir + "\n"), conf);
            assertTrue(conf.contains("dataLogDir=" + dataLogDir + "\n"), conf);
            // Apache's dirs word: the log's bytes are logdir_size once it has its own directory.
            String dirs = fourLetterWord(tandem.zookeeperPort(), "dirs");
            long logBytes = Long.parseLong(dirs.replaceAll("(?s).*logdir_size: (\\d+).*", "$1"));
            assertTrue(logBytes > 0, dirs);
            assertFalse(files(dataLogDir.resolve("log")).isEmpty(), "the log is written under dataLogDir");
            assertEquals(List.of(), files(dataDir.resolve("log")), "no log under dataDir");
        }
        assertEquals(List.of(), files(dataDir.resolve("log")), "no log under dataDir after the shutdown snapshot");
        assertTrue(Files.isDirectory(dataDir.resolve("snapshots")), "snapshots stay in dataDir");
        try (Tandem tandem = Tandem.start(config(dataDir, dataLogDir));
             ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            for (int i = 0; i < WRITES; i++) {
                assertEquals(i, zk.getData("/n" + i, false, null)[0], "/n" + i + " survives the restart");
            }
        }
    }

    @Test
    void shouldRecoverFromTheLogInDataLogDirWithoutTheShutdownSnapshot() throws Exception {
        // The snapshots are moved away after a clean stop: only the log in dataLogDir can bring the writes back.
        Path dataDir = dir.resolve("data");
        Path dataLogDir = dir.resolve("txnlog");
        try (Tandem tandem = Tandem.start(config(dataDir, dataLogDir));
             ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            for (int i = 0; i < WRITES; i++) {
                zk.create("/n" + i, new byte[] {(byte) i}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        Files.move(dataDir.resolve("snapshots"), dir.resolve("snapshots-aside"));
        try (Tandem tandem = Tandem.start(config(dataDir, dataLogDir));
             ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            for (int i = 0; i < WRITES; i++) {
                assertEquals(i, zk.getData("/n" + i, false, null)[0], "/n" + i + " replayed from dataLogDir's log");
            }
        }
    }

    @Test
    void shouldWriteAnEnsembleMembersLogUnderDataLogDirInTandemsProtocol() throws Exception {
        verifyEnsembleMember("tandem", "zab");
    }

    @Test
    void shouldWriteAnEnsembleMembersLogUnderDataLogDirInApachesProtocol() throws Exception {
        verifyEnsembleMember("apache", ZooKeeperRole.APACHE_QUORUM_DIR);
    }

    /** A single-voter ensemble: its member's log goes to the same folder under dataLogDir it has under dataDir. */
    private void verifyEnsembleMember(String protocol, String memberDir) throws Exception {
        Path dataDir = dir.resolve("data");
        Path dataLogDir = dir.resolve("txnlog");
        String serverLine = "127.0.0.1:" + TestPorts.freePort() + ":" + TestPorts.freePort();
        for (int run = 0; run < 2; run++) {
            TandemConfig config = config(dataDir, dataLogDir).set("server.1", serverLine).set("myid", "1")
                    .set("tickTime", "200").set(ZkServerConfig.QUORUM_PROTOCOL, protocol);
            try (Tandem tandem = Tandem.start(config);
                 ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect())) {
                for (int i = 0; i < WRITES; i++) {
                    if (run == 0) {
                        zk.create("/n" + i, new byte[] {(byte) i}, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                    } else {
                        assertEquals(i, zk.getData("/n" + i, false, null)[0], "/n" + i + " survives the restart");
                    }
                }
                assertFalse(files(dataLogDir.resolve(memberDir).resolve("log")).isEmpty(),
                        "the member's log is under dataLogDir");
                assertEquals(List.of(), files(dataDir.resolve(memberDir).resolve("log")), "no log under dataDir");
            }
        }
    }

    @Test
    void shouldRefuseToStartWhenDataDirStillHoldsTheLogOfAnEarlierRun() throws Exception {
        // Apache's "Snapshot directory has log files": starting on an empty dataLogDir would drop these writes.
        Path dataDir = dir.resolve("data");
        try (Tandem tandem = Tandem.start(config(dataDir, null));
             ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect())) {
            zk.create("/kept", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Exception e = assertThrows(Exception.class,
                () -> Tandem.start(config(dataDir, dir.resolve("txnlog"))).close());
        assertTrue(String.valueOf(e.getMessage()).contains("Snapshot directory has log files"), e.toString());
    }

    /**
     * Apache's FileTxnSnapLog checks (ZOOKEEPER-2967) on files Apache's own FileTxnSnapLog wrote into one directory
     * (a server without dataLogDir): an ensemble member in either quorum protocol started with that directory as
     * dataDir and a dataLogDir apart ("Snapshot directory has log files"), or as dataLogDir ("Log directory has
     * snapshot files"), is refused with Apache's message before anything is read or written.
     */
    @Test
    void shouldRefuseApacheFilesInTheWrongDirectoryForAnEnsembleMemberAsApacheDoes() throws Exception {
        Path apacheDir = dir.resolve("apache");
        FileTxnSnapLog apache = new FileTxnSnapLog(apacheDir.toFile(), apacheDir.toFile());
        try {
            // Apache's classes by full name: this package has its own DataTree and Request.
            apache.save(new org.apache.zookeeper.server.DataTree(), new ConcurrentHashMap<>(), false);
            TxnHeader header = new TxnHeader(1, 1, 1, 1, ZooDefs.OpCode.create);
            apache.append(new org.apache.zookeeper.server.Request(1, 1, ZooDefs.OpCode.create, header,
                    new CreateTxn("/a", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, false, 1), 1));
            apache.commit();
        } finally {
            apache.close();
        }
        String serverLine = "127.0.0.1:" + TestPorts.freePort() + ":" + TestPorts.freePort();
        for (String protocol : List.of("tandem", "apache")) {
            Exception logs = assertThrows(Exception.class, () -> Tandem.start(config(apacheDir,
                    dir.resolve("logs-" + protocol)).set("server.1", serverLine).set("myid", "1")
                    .set(ZkServerConfig.QUORUM_PROTOCOL, protocol)).close());
            assertTrue(String.valueOf(logs.getMessage()).contains("Snapshot directory has log files. Check if "
                    + "dataLogDir and dataDir configuration is correct."), protocol + ": " + logs);
            Exception snapshots = assertThrows(Exception.class, () -> Tandem.start(config(dir.resolve("data-"
                    + protocol), apacheDir).set("server.1", serverLine).set("myid", "1")
                    .set(ZkServerConfig.QUORUM_PROTOCOL, protocol)).close());
            assertTrue(String.valueOf(snapshots.getMessage()).contains("Log directory has snapshot files. Check if "
                    + "dataLogDir and dataDir configuration is correct."), protocol + ": " + snapshots);
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    private static String fourLetterWord(int port, String word) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
