package io.tandem.server.zab.apache;

import static io.tandem.server.zab.apache.ZkClients.bytes;
import static io.tandem.server.zab.apache.ZkClients.sync;
import static io.tandem.server.zab.apache.ZkClients.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 section 4: a Tandem member following Apache 3.9.5 servers ({@code tandem.quorumProtocol=apache}) takes
 * snapshots of its own every snapCount-or-so commits, as Apache does, purges the log files they cover, and after a
 * {@code kill -9} restarts from its newest own snapshot and the log after it, ending with the same tree as the Apache
 * members.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ApacheModeSnapshotProcessTest {
    private static final long TIMEOUT_MS = ZkClients.TIMEOUT_MS;
    /** Small log files, so a purge after a snapshot has whole files to delete. */
    private static final List<String> JVM_OPTIONS = List.of("-Dtandem.zab.logRollBytes=2048",
            "-Dzookeeper.preAllocSize=16");
    private static final List<String> SETTINGS = List.of("snapCount=10");

    @TempDir
    Path temp;

    @Test
    void tandemSnapshotsPurgesItsLogAndRestartsFromItsOwnSnapshotAfterKill9() throws Exception {
        MixedEnsemble ensemble = new MixedEnsemble(temp, 1);
        try (ApacheQuorumProcess two = ensemble.startApache(2);
             ApacheQuorumProcess three = ensemble.startApache(3);
             TandemApacheModeProcess member = ensemble.startTandem(JVM_OPTIONS, SETTINGS);
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandem(member, "follower");
            ZooKeeper onTandem = clients.connect(ensemble.tandem);
            ZooKeeper onApache = clients.connect(two.ports);

            Stat first = new Stat();
            onTandem.create("/snap", bytes("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, first);
            onTandem.create("/snap/ephemeral", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            for (int i = 0; i < 40; i++) {
                ZooKeeper client = i % 2 == 0 ? onTandem : onApache;
                client.create("/snap/n" + i, bytes("data of node " + i + " ".repeat(60)), Ids.OPEN_ACL_UNSAFE,
                        CreateMode.PERSISTENT);
                client.setData("/snap/n" + i, bytes("v" + i), 0);
            }
            sync(onTandem, "/");

            // Snapshots of its own, marked as such, and the log files they cover are gone.
            Path snapshots = member.quorumDir().resolve("zab-snapshots");
            assertTrue(ApacheQuorumProcess.await(() -> member.logText().contains("Snapshot at zxid"), TIMEOUT_MS),
                    () -> "no snapshot written:\n" + member.logTail());
            assertTrue(ApacheQuorumProcess.await(() -> oldestLogFileZxid(member) > first.getCzxid(), TIMEOUT_MS),
                    () -> "the log file holding zxid 0x" + Long.toHexString(first.getCzxid()) + " was not purged: "
                            + list(member.quorumDir().resolve("log")));
            Path newest = newestSnapshot(snapshots);
            assertEquals(0xF7AD_0001, bodyFirstInt(newest), () -> newest + " is not one of Tandem's own snapshots");

            // kill -9, the ensemble goes on without it, and it restarts from its own snapshot plus its log.
            member.kill();
            int logLengthAtKill = member.logText().length();
            onApache.create("/snap/while-down", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            onApache.delete("/snap/n3", -1);
            onApache.setData("/snap/n4", bytes("changed while down"), -1);
            member.restart(JVM_OPTIONS, SETTINGS);
            ensemble.awaitTandem(member, "follower");
            String afterRestart = member.logText().substring(logLengthAtKill);
            assertTrue(afterRestart.contains("Installed this member's own snapshot at zxid"), member::logTail);
            assertFalse(afterRestart.contains("Installed the leader's snapshot"),
                    "a DIFF is enough after the restart, no SNAP: " + member.logTail());

            ZooKeeper again = clients.connect(ensemble.tandem);
            again.create("/snap/after-restart", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            sync(again, "/");
            sync(onApache, "/");
            assertEquals(tree(onApache), tree(again), "Tandem's tree after its restart");
        }
    }

    private static long oldestLogFileZxid(TandemApacheModeProcess member) {
        try (Stream<Path> files = Files.list(member.quorumDir().resolve("log"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("log."))
                    .mapToLong(n -> Long.parseUnsignedLong(n.substring(4), 16)).min().orElse(0);
        } catch (IOException e) {
            return 0;
        }
    }

    private static Path newestSnapshot(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches("snapshot\\.[0-9a-f]+"))
                    .max((a, b) -> Long.compareUnsigned(zxidOf(a), zxidOf(b))).orElseThrow();
        }
    }

    private static long zxidOf(Path snapshot) {
        String name = snapshot.getFileName().toString();
        return Long.parseUnsignedLong(name.substring(name.indexOf('.') + 1), 16);
    }

    /** The first int of a snapshot's body: after the store's header (magic, format version, zxid). */
    private static int bodyFirstInt(Path snapshot) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(snapshot))) {
            in.readInt();
            in.readInt();
            in.readLong();
            return in.readInt();
        }
    }

    private static String list(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }
}
