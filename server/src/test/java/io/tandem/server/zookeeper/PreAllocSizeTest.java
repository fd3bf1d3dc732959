package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigException;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.TestPorts;
import io.tandem.server.zab.SnapshotData;
import io.tandem.server.zab.ZabServer;
import io.tandem.storage.zk.TxnLog;
import io.tandem.zk.wire.Acls;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.RequestHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zoo.cfg's {@code preAllocSize} as Apache reads it (QuorumPeerConfig turns it into the system property
 * {@code zookeeper.preAllocSize}, which FilePadding reads as KiB): the transaction log of a standalone server and of an
 * ensemble member grows in blocks of that many KiB, 0 turns preallocation off, the file's value wins over the
 * property, and a value that is not a number refuses to start.
 */
class PreAllocSizeTest {
    @TempDir
    Path dir;

    private static ZkServerConfig config(Map<String, String> settings) {
        return ZkServerConfig.from("127.0.0.1", 0, Path.of("unused"), settings::get);
    }

    @Test
    void shouldReadPreAllocSizeInKibibytesAndTurnPreallocationOffAtZeroOrBelow() {
        assertEquals(128 * 1024L, config(Map.of("preAllocSize", "128")).preAllocBytes());
        assertEquals(0, config(Map.of("preAllocSize", "0")).preAllocBytes());
        assertEquals(0, config(Map.of("preAllocSize", "-4")).preAllocBytes());
        assertEquals(TxnLog.configuredPreAllocBytes(), config(Map.of()).preAllocBytes());
    }

    @Test
    void shouldLetZooCfgWinOverTheSystemPropertyAsApacheDoes() {
        String before = System.getProperty(TxnLog.PREALLOC_PROPERTY);
        System.setProperty(TxnLog.PREALLOC_PROPERTY, "512");
        try {
            assertEquals(512 * 1024L, config(Map.of()).preAllocBytes());
            assertEquals(256 * 1024L, config(Map.of("preAllocSize", "256")).preAllocBytes());
        } finally {
            if (before == null) {
                System.clearProperty(TxnLog.PREALLOC_PROPERTY);
            } else {
                System.setProperty(TxnLog.PREALLOC_PROPERTY, before);
            }
        }
    }

    @Test
    void shouldRefuseAPreAllocSizeThatIsNotANumberNamingTheKey() {
        ConfigException refused = assertThrows(ConfigException.class,
                () -> config(Map.of("preAllocSize", "64M")));
        assertTrue(refused.getMessage().contains("preAllocSize"), refused.getMessage());
        assertThrows(ConfigException.class, () -> config(Map.of("preAllocSize", Long.toString(Long.MAX_VALUE))));
    }

    @Test
    void shouldPreallocateTheStandaloneLogInBlocksOfPreAllocSize() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER))
                .set("preAllocSize", "128");
        try (Tandem tandem = Tandem.start(config); RawZkClient client = new RawZkClient(tandem.zookeeperPort())) {
            client.connect(0, new byte[16], 30_000, 0, false);
            client.sendFrame(new RequestHeader(1, OpCode.CREATE),
                    new CreateRequest("/a", new byte[100], Acls.OPEN_ACL_UNSAFE, 0));
            client.readFrame(); // the create is answered once its log record is synced
            // Open, the file is padded to one block of 128 KiB (the default would be 64 MiB).
            assertEquals(128 * 1024L, Files.size(onlyLogFile(dir.resolve("zookeeper").resolve("log"))));
        }
    }

    @Test
    void shouldPreallocateAnEnsembleMembersLogInBlocksOfPreAllocSize() throws Exception {
        Map<String, String> settings = new HashMap<>();
        settings.put("server.1", "127.0.0.1:" + TestPorts.freePort() + ":0");
        settings.put("tickTime", "100");
        settings.put("preAllocSize", "256");
        Path zab = dir.resolve("zab");
        Committed committed = new Committed();
        try (ZabServer server = ZabServer.start(1, settings, zab, committed)) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (committed.count == 0 && System.nanoTime() < deadline) {
                server.submit(new byte[] {1, 2, 3}); // refused until the single voter leads; one commit is enough
                synchronized (committed) {
                    committed.wait(100);
                }
            }
            assertTrue(committed.count > 0, "nothing committed within 30 s");
            assertEquals(256 * 1024L, Files.size(onlyLogFile(zab.resolve("log"))));
        }
    }

    /** Counts commits (the Zab thread calls it). */
    private static final class Committed implements ZabServer.Application {
        volatile int count;

        @Override
        public void onCommit(long zxid, byte[] txn) {
            synchronized (this) {
                count++;
                notifyAll();
            }
        }

        @Override
        public void onSnapshot(long zxid, SnapshotData snapshot) {
        }
    }

    private static Path onlyLogFile(Path logDir) throws IOException {
        try (Stream<Path> files = Files.list(logDir)) {
            List<Path> logs = files.filter(file -> file.getFileName().toString().startsWith("log.")).toList();
            assertEquals(1, logs.size(), "log files: " + logs);
            return logs.get(0);
        }
    }
}
