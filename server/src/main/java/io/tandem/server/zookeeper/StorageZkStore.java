package io.tandem.server.zookeeper;

import io.tandem.storage.zk.CorruptLogException;
import io.tandem.storage.zk.DataDirs;
import io.tandem.storage.zk.Snapshot;
import io.tandem.storage.zk.SnapshotStore;
import io.tandem.storage.zk.TxnLog;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The durable store: storage's TxnLog (CRC per record, torn-tail recovery) under {@code log/} (in dataLogDir when it is
 * set apart, see {@link DataDirs}) and its SnapshotStore under {@code snapshots/} in dataDir. After each snapshot the oldest snapshots and the log files only they needed are removed.
 */
final class StorageZkStore implements ZkStore {
    /** Snapshots kept; the log is kept from the oldest of them on, so any of them can still be replayed forward. */
    static final int SNAPSHOTS_RETAINED = 3;

    private final Path dir;
    private final TxnLog log;
    private final SnapshotStore snapshots;

    private StorageZkStore(Path dir, TxnLog log, SnapshotStore snapshots) {
        this.dir = dir;
        this.log = log;
        this.snapshots = snapshots;
    }

    /**
     * A standalone server has no other member holding a copy, so damage it cannot repair stops it, with the advice an
     * operator needs (an ensemble member instead re-syncs from its leader; see io.tandem.server.zab.ZabServer).
     */
    static IOException refuseDamaged(Path dir, CorruptLogException e) {
        return new IOException("ZooKeeper data in " + dir + " is damaged: " + e.getMessage() + ". A standalone "
                + "server has no other member to re-sync from, so it refuses to start rather than serve with "
                + "transactions missing. Restore " + dir + " from a backup, or move it aside to start with empty "
                + "data.", e);
    }

    static StorageZkStore open(Path dir) throws IOException {
        return open(dir, TxnLog.configuredPreAllocBytes());
    }

    /** As {@link #open(Path)}, the log preallocated in blocks of {@code preAllocBytes} (0: none). */
    static StorageZkStore open(Path dir, long preAllocBytes) throws IOException {
        return open(DataDirs.of(dir), preAllocBytes);
    }

    /** As {@link #open(Path, long)}, the log under {@code dirs}' data log directory. */
    static StorageZkStore open(DataDirs dirs, long preAllocBytes) throws IOException {
        Path dir = dirs.dataDir();
        dirs.prepare();
        TxnLog log;
        try {
            log = TxnLog.open(dirs.log(), TxnLog.DEFAULT_ROLL_BYTES, preAllocBytes);
        } catch (CorruptLogException e) {
            throw refuseDamaged(dir, e);
        }
        try {
            return new StorageZkStore(dir, log, SnapshotStore.open(dir.resolve("snapshots")));
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
    }

    @Override
    public long readLatestSnapshot(SnapshotReader reader) throws IOException {
        Optional<Snapshot> latest = snapshots.latestValid();
        if (latest.isEmpty()) {
            return 0;
        }
        try (DataInputStream in = latest.get().open()) {
            reader.read(latest.get().zxid(), in);
        }
        return latest.get().zxid();
    }

    @Override
    public long[] lastSnapshot() throws IOException {
        for (Snapshot snapshot : snapshots.newestFirst()) {
            try {
                return new long[] {snapshot.zxid(), java.nio.file.Files.getLastModifiedTime(snapshot.file()).toMillis()};
            } catch (java.nio.file.NoSuchFileException e) {
                // Removed by retention since it was listed: the next one is the newest left.
            }
        }
        return null;
    }

    @Override
    public void forEachTxn(long afterZxid, TxnVisitor visitor) throws IOException {
        try {
            log.forEach(afterZxid, visitor::accept);
        } catch (CorruptLogException e) {
            throw refuseDamaged(dir, e);
        }
    }

    @Override
    public void append(long zxid, byte[] txn) throws IOException {
        log.append(zxid, txn);
    }

    @Override
    public void append(long zxid, byte[] bytes, int offset, int length) throws IOException {
        log.append(zxid, bytes, offset, length);
    }

    @Override
    public void sync() throws IOException {
        log.sync();
    }

    @Override
    public void writeSnapshot(long zxid, SnapshotWriter writer) throws IOException {
        snapshots.write(zxid, writer::write);
        snapshots.retain(SNAPSHOTS_RETAINED);
        List<Snapshot> kept = snapshots.newestFirst();
        if (!kept.isEmpty()) {
            log.purgeBefore(kept.get(kept.size() - 1).zxid());
        }
    }

    @Override
    public void close() throws IOException {
        log.close();
    }
}
