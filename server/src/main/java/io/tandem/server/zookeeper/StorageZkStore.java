package io.tandem.server.zookeeper;

import io.tandem.storage.zk.Snapshot;
import io.tandem.storage.zk.SnapshotStore;
import io.tandem.storage.zk.TxnLog;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The durable store: storage's TxnLog (CRC per record, torn-tail recovery) under {@code log/} and its SnapshotStore
 * under {@code snapshots/}. After each snapshot the oldest snapshots and the log files only they needed are removed.
 */
final class StorageZkStore implements ZkStore {
    /** Snapshots kept; the log is kept from the oldest of them on, so any of them can still be replayed forward. */
    static final int SNAPSHOTS_RETAINED = 3;

    private final TxnLog log;
    private final SnapshotStore snapshots;

    private StorageZkStore(TxnLog log, SnapshotStore snapshots) {
        this.log = log;
        this.snapshots = snapshots;
    }

    static StorageZkStore open(Path dir) throws IOException {
        TxnLog log = TxnLog.open(dir.resolve("log"));
        try {
            return new StorageZkStore(log, SnapshotStore.open(dir.resolve("snapshots")));
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
    public void forEachTxn(long afterZxid, TxnVisitor visitor) throws IOException {
        log.forEach(afterZxid, visitor::accept);
    }

    @Override
    public void append(long zxid, byte[] txn) throws IOException {
        log.append(zxid, txn);
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
