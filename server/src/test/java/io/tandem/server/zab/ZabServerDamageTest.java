package io.tandem.server.zab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.storage.zk.DataDirs;
import io.tandem.storage.zk.TxnLog;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
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
 * What a Zab member does at start with damaged files on a real disk: set the history aside and recover (an ensemble
 * member), or refuse to start with advice (a single server, or a damaged acceptedEpoch, which is a promise).
 */
class ZabServerDamageTest {
    @TempDir
    Path dir;

    private final Map<String, String> settings = new HashMap<>();

    private static final class NoApplication implements ZabServer.Application {
        volatile int snapshots;

        @Override
        public void onCommit(long zxid, byte[] txn) {}

        @Override
        public void onSnapshot(long zxid, SnapshotData snapshot) {
            snapshots++;
        }
    }

    private void voters(int count) throws IOException {
        for (int id = 1; id <= count; id++) {
            settings.put("server." + id, "127.0.0.1:" + QuorumTransportTest.freePort() + ":0");
        }
        settings.put("tickTime", "100");
    }

    /** A log of {@code count} records in epoch 1, fsynced. */
    private static void writeLog(Path logDir, long... counters) throws IOException {
        try (TxnLog log = TxnLog.open(logDir)) {
            for (long counter : counters) {
                log.append(Zxid.of(1, counter), ("txn-" + counter + "-padding-padding").getBytes(StandardCharsets.UTF_8));
            }
            log.sync();
        }
    }

    private static void flipMiddleByte(Path directory) throws IOException {
        Path file;
        try (Stream<Path> files = Files.list(directory)) {
            file = files.findFirst().orElseThrow();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            int b = raf.read();
            raf.seek(raf.length() / 2);
            raf.write(b ^ 0xFF);
        }
    }

    private static List<Path> setAside(Path zabDir) throws IOException {
        try (Stream<Path> files = Files.list(zabDir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("corrupt-")).toList();
        }
    }

    @Test
    void shouldSetADamagedCurrentEpochAndItsLogAsideKeepingTheAcceptedEpoch() throws Exception {
        voters(3);
        Path zab = dir.resolve("zab");
        writeLog(zab.resolve("log"), 1, 2, 3);
        Files.writeString(zab.resolve("acceptedEpoch"), "3\n");
        Files.writeString(zab.resolve("currentEpoch"), "\u0000\u00002\n");
        try (ZabServer server = ZabServer.start(1, settings, zab, new NoApplication())) {
            assertTrue(server.isRecovering());
            assertFalse(server.isServing());
            assertEquals(Role.LOOKING, server.role());
        }
        assertTrue(Files.exists(zab.resolve(ZabServer.RECOVERING_MARKER)));
        assertEquals("3", Files.readString(zab.resolve("acceptedEpoch")).trim(), "the promise is kept in place");
        assertFalse(Files.exists(zab.resolve("currentEpoch")));
        List<Path> aside = setAside(zab);
        assertEquals(1, aside.size());
        assertTrue(Files.exists(aside.get(0).resolve("currentEpoch")));
        assertTrue(Files.exists(aside.get(0).resolve("log")));

        // A restart before any re-sync stays recovering, and sets nothing new aside.
        try (ZabServer server = ZabServer.start(1, settings, zab, new NoApplication())) {
            assertTrue(server.isRecovering());
        }
        assertEquals(1, setAside(zab).size());
    }

    @Test
    void shouldSetADamagedLogAsideOnItsOwnDiskWhenDataLogDirIsApart() throws Exception {
        // The log under dataLogDir (often another disk) is set aside there, so that the move stays a rename.
        voters(3);
        DataDirs dirs = new DataDirs(dir.resolve("data"), dir.resolve("txnlog")).resolve("zab");
        writeLog(dirs.log(), 1, 2, 3);
        flipMiddleByte(dirs.log());
        Files.createDirectories(dirs.dataDir());
        Files.writeString(dirs.dataDir().resolve("acceptedEpoch"), "1\n");
        Files.writeString(dirs.dataDir().resolve("currentEpoch"), "1\n");
        try (ZabServer server = ZabServer.start(1, settings, dirs, new NoApplication())) {
            assertTrue(server.isRecovering());
        }
        List<Path> logAside = setAside(dirs.dataLogDir());
        assertEquals(1, logAside.size());
        assertTrue(Files.exists(logAside.get(0).resolve("log")), "the damaged log is kept beside the new one");
        List<Path> aside = setAside(dirs.dataDir());
        assertEquals(1, aside.size());
        assertEquals(logAside.get(0).getFileName(), aside.get(0).getFileName(), "one name for both halves");
        assertTrue(Files.exists(aside.get(0).resolve("currentEpoch")));
        assertFalse(Files.exists(dirs.dataDir().resolve("log")), "no log under dataDir");
    }

    @Test
    void shouldTreatAHoleBetweenSnapshotAndLogAsDamage() throws Exception {
        voters(3);
        Path zab = dir.resolve("zab");
        writeLog(zab.resolve("log"), 1, 2, 5, 6);
        Files.writeString(zab.resolve("acceptedEpoch"), "1\n");
        Files.writeString(zab.resolve("currentEpoch"), "1\n");
        try (ZabServer server = ZabServer.start(1, settings, zab, new NoApplication())) {
            assertTrue(server.isRecovering());
        }
    }

    @Test
    void shouldStartNormallyFromAnIntactLog() throws Exception {
        voters(3);
        Path zab = dir.resolve("zab");
        writeLog(zab.resolve("log"), 1, 2, 3);
        Files.writeString(zab.resolve("acceptedEpoch"), "1\n");
        Files.writeString(zab.resolve("currentEpoch"), "1\n");
        try (ZabServer server = ZabServer.start(1, settings, zab, new NoApplication())) {
            assertFalse(server.isRecovering());
        }
        assertFalse(Files.exists(zab.resolve(ZabServer.RECOVERING_MARKER)));
        assertEquals(0, setAside(zab).size());
    }

    @Test
    void shouldRefuseToStartWhenTheAcceptedEpochIsDamaged() throws Exception {
        voters(3);
        Path zab = dir.resolve("zab");
        writeLog(zab.resolve("log"), 1, 2, 3);
        Files.writeString(zab.resolve("acceptedEpoch"), "1x\n");
        IOException refused = assertThrows(IOException.class,
                () -> ZabServer.start(1, settings, zab, new NoApplication()));
        assertTrue(refused.getMessage().contains("acceptedEpoch") && refused.getMessage().contains("refuses to start")
                && refused.getMessage().contains("highest acceptedEpoch"), refused.getMessage());
        assertFalse(Files.exists(zab.resolve(ZabServer.RECOVERING_MARKER)));
        assertEquals(0, setAside(zab).size(), "nothing is moved");
    }

    @Test
    void shouldRefuseToStartWhenTheAcceptedEpochIsMissingOrBelowTheCurrentEpoch() throws Exception {
        voters(3);
        Path zab = dir.resolve("zab");
        writeLog(zab.resolve("log"), 1, 2, 3);
        Files.writeString(zab.resolve("currentEpoch"), "5\n");
        IOException missing = assertThrows(IOException.class,
                () -> ZabServer.start(1, settings, zab, new NoApplication()));
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
        Files.writeString(zab.resolve("acceptedEpoch"), "3\n");
        IOException below = assertThrows(IOException.class,
                () -> ZabServer.start(1, settings, zab, new NoApplication()));
        assertTrue(below.getMessage().contains("below") && below.getMessage().contains("refuses to start"),
                below.getMessage());
        assertEquals(0, setAside(zab).size(), "nothing is moved");
    }

    @Test
    void shouldRefuseToStartASingleVoterWithADamagedLog() throws Exception {
        voters(1);
        Path zab = dir.resolve("zab");
        writeLog(zab.resolve("log"), 1, 2, 3, 4, 5, 6, 7, 8);
        flipMiddleByte(zab.resolve("log"));
        IOException refused = assertThrows(IOException.class,
                () -> ZabServer.start(1, settings, zab, new NoApplication()));
        assertTrue(refused.getMessage().contains("only voter") && refused.getMessage().contains("at byte"),
                refused.getMessage());
        assertEquals(0, setAside(zab).size(), "nothing is moved");
    }

    @Test
    void shouldRefuseToStartAStandaloneZooKeeperWithADamagedLog() throws Exception {
        Path data = dir.resolve("standalone");
        Path log = data.resolve("zookeeper").resolve("log");
        writeLog(log, 1, 2, 3, 4, 5, 6, 7, 8);
        flipMiddleByte(log);
        TandemConfig config = TandemConfig.forTests(data).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER));
        Exception refused = assertThrows(Exception.class, () -> Tandem.start(config).close());
        String message = refused.getMessage();
        assertTrue(message.contains("standalone") && message.contains("refuses to start")
                && message.contains("at byte"), message);
    }
}
