package io.tandem.server.zookeeper;

import io.netty.buffer.Unpooled;
import io.tandem.storage.zk.apache.ApacheFiles;
import io.tandem.storage.zk.apache.ApacheSnapshotReader;
import io.tandem.storage.zk.apache.ApacheSnapshotWriter;
import io.tandem.storage.zk.apache.ApacheTxnLogReader;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.txn.CreateSessionTxn;
import io.tandem.zk.wire.txn.TxnHeader;
import java.io.IOException;
import java.nio.file.Files;
import io.tandem.storage.zk.DataDirs;
import io.tandem.storage.zk.TxnLog;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Moves ZooKeeper data between Apache ZooKeeper 3.9's data directories and Tandem's, offline (neither server may be
 * running on the directories involved).
 *
 * <p>Import loads Apache's newest snapshot and replays its transaction logs on top, exactly as Apache's own start-up
 * does (FileTxnSnapLog.restore: replay from the snapshot's last processed zxid), then writes the result as one Tandem
 * snapshot. So Tandem starts with Apache's tree, Stats, ACLs, sessions (same ids, and the same passwords, which both
 * derive from the id) and last zxid. Export writes Tandem's current state (newest snapshot plus its log) as one
 * Apache snapshot, from which Apache 3.9 starts with no transaction log.
 */
public final class ApacheDataDir {
    private static final Logger LOG = System.getLogger(ApacheDataDir.class.getName());
    /**
     * Largest single field or log entry accepted from Apache's files: well above any znode Apache itself accepts
     * unless jute.maxbuffer was raised past it, and small enough that a damaged length cannot exhaust the heap.
     */
    static final int ENTRY_BYTES_MAX = 256 << 20;

    /** What an import or export moved. */
    public record Result(long zxid, int znodes, int sessions, long txnsReplayed, Path file) {
    }

    /**
     * Imports Apache's data ({@code apacheDataDir/version-2} snapshots, {@code apacheLogDir/version-2} logs) into the
     * empty Tandem ZooKeeper directory {@code tandemDir}; refuses a Tandem directory that already holds data.
     */
    public static Result importFrom(Path apacheDataDir, Path apacheLogDir, Path tandemDir) throws IOException {
        return importFrom(apacheDataDir, apacheLogDir, DataDirs.of(tandemDir));
    }

    /** As above, into Tandem's directories {@code tandem} (its log under their data log directory). */
    static Result importFrom(Path apacheDataDir, Path apacheLogDir, DataDirs tandem) throws IOException {
        Path tandemDir = tandem.dataDir();
        if (!ApacheFiles.holdsApacheData(apacheDataDir) && !ApacheFiles.holdsApacheData(apacheLogDir)) {
            throw new IOException("no Apache ZooKeeper data in " + apacheDataDir + " (expected "
                    + ApacheFiles.versionDir(apacheDataDir) + "/snapshot.* or log.*)");
        }
        Snapshot snapshot = readNewestReadable(
                ApacheFiles.list(ApacheFiles.versionDir(apacheDataDir), ApacheFiles.SNAPSHOT_PREFIX));
        DataTree tree = snapshot.tree;
        Map<Long, Session> sessions = snapshot.sessions;
        long replayFrom = snapshot.replayFrom;
        Path snapshotFile = snapshot.file;
        long afterZxid = replayFrom;
        long[] replayed = {0};
        ApacheTxnLogReader.forEach(apacheLogDir, afterZxid, ENTRY_BYTES_MAX, bytes -> {
            JuteInput in = new JuteInput(Unpooled.wrappedBuffer(bytes), ENTRY_BYTES_MAX);
            TxnHeader header = TxnHeader.read(in);
            if (header.zxid() <= afterZxid) {
                return;
            }
            JuteRecord txn;
            try {
                // A 3.6+ TxnDigest may follow the record; Tandem keeps no digest, so it is left unread.
                txn = Jute.txnBody(header.type(), in);
            } catch (RuntimeException e) {
                throw new IOException("cannot read the transaction at zxid 0x" + Long.toHexString(header.zxid())
                        + " in Apache's log: " + e.getMessage(), e);
            }
            applySession(sessions, header, txn);
            tree.processTxn(header, txn);
            replayed[0]++;
        });
        long zxid = tree.lastProcessedZxid();
        try (ZkStore store = StorageZkStore.open(tandem, TxnLog.configuredPreAllocBytes())) {
            refuseIfNotEmpty(store, tandemDir);
            store.writeSnapshot(zxid, out -> SnapshotFormat.write(out, tree, sessions));
        }
        Result result = new Result(zxid, tree.nodeCount(), sessions.size(), replayed[0], snapshotFile);
        LOG.log(Level.INFO, () -> "imported Apache ZooKeeper data from " + apacheDataDir + ": snapshot " + result.file()
                + ", " + result.txnsReplayed() + " transactions replayed, " + result.znodes() + " znodes, "
                + result.sessions() + " sessions, last zxid 0x" + Long.toHexString(zxid));
        return result;
    }

    /** A tree and sessions read from one of Apache's snapshots, and where log replay starts. */
    private record Snapshot(DataTree tree, Map<Long, Session> sessions, long replayFrom, Path file) {
    }

    /**
     * The newest snapshot that reads whole, as Apache's FileSnap.deserialize picks it: a damaged or partly written
     * newest snapshot (Apache writes in place, so a crash can leave one) is skipped with a warning, and the logs are
     * replayed from the older one. No snapshot at all starts from an empty tree.
     */
    private static Snapshot readNewestReadable(java.util.NavigableMap<Long, Path> snapshots) throws IOException {
        IOException failure = null;
        for (Map.Entry<Long, Path> candidate : snapshots.descendingMap().entrySet()) {
            DataTree tree = new DataTree();
            Map<Long, Session> sessions = new HashMap<>();
            try (ApacheSnapshotReader reader = ApacheSnapshotReader.open(candidate.getValue())) {
                ApacheTreeFormat.read(reader, tree, sessions, ENTRY_BYTES_MAX);
                long recorded = reader.finish();
                // Apache replays from the last processed zxid the snapshot records (3.9), else from its name's.
                long replayFrom = recorded >= 0 ? recorded : candidate.getKey();
                tree.setLastProcessedZxid(replayFrom);
                return new Snapshot(tree, sessions, replayFrom, candidate.getValue());
            } catch (IOException e) {
                LOG.log(Level.WARNING, "skipping Apache snapshot " + candidate.getValue() + ": " + e.getMessage());
                if (failure != null) {
                    e.addSuppressed(failure);
                }
                failure = e;
            }
        }
        if (failure != null) {
            throw new IOException("none of Apache's snapshots reads whole; the newest failure: "
                    + failure.getMessage(), failure);
        }
        return new Snapshot(new DataTree(), new HashMap<>(), 0, null);
    }

    /**
     * On start-up of a standalone server whose ZooKeeper directory holds Apache's {@code version-2} files and no
     * Tandem data yet: imports them, so a user can stop Apache and start Tandem on the same dataDir. Returns
     * whether it imported.
     */
    public static boolean importOnFirstStart(DataDirs dirs) throws IOException {
        // Apache on the same zoo.cfg kept its snapshots in dataDir/version-2 and its logs in dataLogDir/version-2.
        Path dataDir = dirs.dataDir();
        if (!ApacheFiles.holdsApacheData(dataDir) && !ApacheFiles.holdsApacheData(dirs.dataLogDir())) {
            return false;
        }
        long tandemZxid;
        try (ZkStore store = StorageZkStore.open(dirs, TxnLog.configuredPreAllocBytes())) {
            tandemZxid = lastZxid(store);
        }
        if (tandemZxid < 0) {
            importFrom(dataDir, dirs.dataLogDir(), dirs);
            return true;
        }
        // Both are there: after going back to Apache (tandem zk export) and returning. Starting on Tandem's older
        // data would silently drop what Apache wrote meanwhile, so that is refused.
        long apacheZxid = Math.max(apacheLastZxid(dataDir), apacheLastZxid(dirs.dataLogDir()));
        if (apacheZxid > tandemZxid) {
            throw new IOException("Apache ZooKeeper's data in " + ApacheFiles.versionDir(dataDir) + " is newer (zxid 0x"
                    + Long.toHexString(apacheZxid) + ") than Tandem's in " + dataDir + " (zxid 0x"
                    + Long.toHexString(tandemZxid) + "): Apache ran on this directory after Tandem. Move Tandem's "
                    + "older data aside (the log and snapshots directories in " + dataDir + ") and start again to "
                    + "import Apache's.");
        }
        return false;
    }

    /**
     * An ensemble member keeps its data under {@code zabDir} and does not import Apache's files; starting one for the
     * first time on a dataDir holding them would silently serve without them, so that is refused.
     */
    public static void refuseUnimportedForEnsemble(Path dataDir, Path zabDir) throws IOException {
        if (!Files.exists(zabDir) && ApacheFiles.holdsApacheData(dataDir)) {
            throw new IOException(dataDir + " holds Apache ZooKeeper data (" + ApacheFiles.VERSION_DIR + "), which "
                    + "an ensemble member does not import: move " + ApacheFiles.versionDir(dataDir) + " aside to "
                    + "join with empty data and sync from the leader, or start this node standalone (without "
                    + "server.N lines) to serve Apache's data");
        }
    }

    /** The newest zxid in Tandem's store, or -1 when it holds nothing. */
    private static long lastZxid(ZkStore store) throws IOException {
        long[] last = {-1};
        boolean[] snapshot = {false};
        long snapshotZxid = store.readLatestSnapshot((zxid, in) -> snapshot[0] = true);
        if (snapshot[0]) {
            last[0] = snapshotZxid;
        }
        store.forEachTxn(snapshotZxid, (zxid, bytes) -> last[0] = Math.max(last[0], zxid));
        return last[0];
    }

    /** Apache's newest zxid: its newest snapshot's, or the last entry's in its newest log, whichever is higher. */
    private static long apacheLastZxid(Path dataDir) throws IOException {
        Path versionDir = ApacheFiles.versionDir(dataDir);
        long[] last = {-1};
        java.util.NavigableMap<Long, Path> snapshots = ApacheFiles.list(versionDir, ApacheFiles.SNAPSHOT_PREFIX);
        if (!snapshots.isEmpty()) {
            last[0] = snapshots.lastKey();
        }
        java.util.NavigableMap<Long, Path> logs = ApacheFiles.list(versionDir, ApacheFiles.LOG_PREFIX);
        if (!logs.isEmpty()) {
            ApacheTxnLogReader.forEach(dataDir, logs.lastKey(), ENTRY_BYTES_MAX, bytes -> {
                long zxid = TxnHeader.read(new JuteInput(Unpooled.wrappedBuffer(bytes), ENTRY_BYTES_MAX)).zxid();
                last[0] = Math.max(last[0], zxid);
            });
        }
        return last[0];
    }

    /** Writes Tandem's current ZooKeeper state in {@code tandemDir} as an Apache snapshot under {@code apacheDataDir}. */
    public static Result exportTo(Path tandemDir, Path apacheDataDir) throws IOException {
        DataTree tree = new DataTree();
        Map<Long, Session> sessions = new HashMap<>();
        long[] replayed = {0};
        // A mistyped directory must not become an empty Apache snapshot that Apache would then start from.
        if (!Files.isDirectory(tandemDir)) {
            throw new IOException("no Tandem ZooKeeper data in " + tandemDir + ": it is not a directory");
        }
        try (ZkStore store = StorageZkStore.open(tandemDir)) {
            if (lastZxid(store) < 0) {
                throw new IOException("no Tandem ZooKeeper data in " + tandemDir + " (no snapshot, no log)");
            }
            long snapshotZxid = store.readLatestSnapshot((zxid, in) -> SnapshotFormat.read(in, tree, sessions));
            store.forEachTxn(snapshotZxid, (zxid, bytes) -> {
                JuteInput in = new JuteInput(Unpooled.wrappedBuffer(bytes), Integer.MAX_VALUE);
                TxnHeader header = TxnHeader.read(in);
                JuteRecord txn = Jute.txnBody(header.type(), in);
                applySession(sessions, header, txn);
                tree.processTxn(header, txn);
                replayed[0]++;
            });
        }
        long zxid = tree.lastProcessedZxid();
        // Apache starts from its newest snapshot and replays its own logs above it: a newer Apache history in the
        // target would be mixed with Tandem's (or win silently), so it is refused.
        if (ApacheFiles.holdsApacheData(apacheDataDir)) {
            long apacheZxid = apacheLastZxid(apacheDataDir);
            if (apacheZxid > zxid) {
                throw new IOException("Apache ZooKeeper's data in " + ApacheFiles.versionDir(apacheDataDir)
                        + " is newer (zxid 0x" + Long.toHexString(apacheZxid) + ") than Tandem's (zxid 0x"
                        + Long.toHexString(zxid) + "): Apache would mix the two histories. Export to an empty "
                        + "directory, or move Apache's version-2 directory aside.");
            }
        }
        Path file = ApacheSnapshotWriter.write(apacheDataDir, zxid,
                out -> ApacheTreeFormat.write(out, tree, sessions));
        Result result = new Result(zxid, tree.nodeCount(), sessions.size(), replayed[0], file);
        LOG.log(Level.INFO, () -> "exported Tandem's ZooKeeper data to " + file + ": " + result.znodes() + " znodes, "
                + result.sessions() + " sessions, zxid 0x" + Long.toHexString(zxid));
        return result;
    }

    /** The session side of applying a txn, as {@link SessionTracker#apply} does on a live server. */
    private static void applySession(Map<Long, Session> sessions, TxnHeader header, JuteRecord txn) {
        if (header.type() == OpCode.CREATE_SESSION) {
            sessions.put(header.clientId(), new Session(header.clientId(), ((CreateSessionTxn) txn).timeOut()));
        } else if (header.type() == OpCode.CLOSE_SESSION) {
            sessions.remove(header.clientId());
        }
    }

    private static void refuseIfNotEmpty(ZkStore store, Path tandemDir) throws IOException {
        if (lastZxid(store) >= 0) {
            throw new IOException(tandemDir + " already holds Tandem ZooKeeper data: import only into an empty "
                    + "directory (move it aside first)");
        }
    }

    private ApacheDataDir() {
    }
}
