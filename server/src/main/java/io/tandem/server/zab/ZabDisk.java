package io.tandem.server.zab;

import java.io.Closeable;
import java.io.IOException;

/**
 * Where a {@link ZabDriver} keeps a member's durable state: the transaction log, the snapshots, the two epochs and the
 * "recovering" marker. Production uses {@link FileZabDisk} (the files under the data dir); the simulator uses an
 * in-memory disk whose crash loses what was appended but not synced. Only {@link #sync} makes appends durable; every
 * other write is durable when it returns.
 */
public interface ZabDisk extends Closeable {
    /**
     * Writes a snapshot of the application's state at {@code zxid} durably (streaming it: it may be hundreds of MB) and
     * returns the stored copy; a snapshot this disk already holds at that zxid is returned as it is.
     */
    SnapshotData writeSnapshot(long zxid, SnapshotData snapshot) throws IOException;

    /** Keeps the newest snapshots only, after a compaction (a no-op where nothing piles up). */
    void retainNewestSnapshots() throws IOException;

    /** Removes every log entry above {@code zxid}, durably. */
    void truncateAfter(long zxid) throws IOException;

    /** Appends one entry; durable only after the next {@link #sync}. */
    void append(long zxid, byte[] txn) throws IOException;

    /** Makes every append so far durable. */
    void sync() throws IOException;

    void writeAcceptedEpoch(long epoch) throws IOException;

    void writeCurrentEpoch(long epoch) throws IOException;

    /** Removes the durable "recovering" marker: the re-synced history and its epoch are durable. */
    void clearRecovering() throws IOException;

    /** May forget log entries at or below {@code zxid}: a durable snapshot covers them. */
    void purgeBefore(long zxid) throws IOException;

    /** True while the durable "recovering" marker exists. */
    boolean isRecovering();

    /** The last zxid in the log, for diagnostics. */
    long lastZxid();
}
