package io.tandem.server.zookeeper;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Map;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The server's snapshots (standalone and ensemble member alike), written on their own thread from the live tree while the commit thread goes on
 * applying and answering, as Apache's SyncRequestProcessor starts a "Snapshot Thread" (a fuzzy snapshot; why replay
 * over it is safe: {@link SnapshotFormat}). The commit thread only records the zxid and copies the sessions, so a
 * snapshot of a large tree never stalls writes. At most one runs at a time: when the next is due while one is still
 * being written it is skipped (Apache logs "Too busy to snap, skipping"), and the log keeps every transaction from
 * the older snapshot's zxid on, so nothing is lost by skipping. A failed snapshot is logged and changes nothing on
 * disk (the store writes to a temporary file and renames it only when complete).
 */
final class BackgroundSnapshots {
    private static final Logger LOG = System.getLogger(BackgroundSnapshots.class.getName());

    /** Where a snapshot goes: the standalone store, or an ensemble member's Zab snapshot store (then Zab compacts). */
    @FunctionalInterface
    interface Writer {
        void write(long zxid, ZkStore.SnapshotWriter body) throws IOException;
    }

    private final Writer writer;
    private final DataTree tree;
    /** Where each completed snapshot's writing time goes (mntr's snapshottime). */
    private final DatabaseStats stats;
    /** Written on the caller's (commit) thread instead of a thread of its own: {@link #inline}. */
    private final boolean inline;
    /** Test hook: runs on the snapshot thread after each node written (to hold a snapshot half written). */
    volatile SnapshotFormat.Progress progressHook = SnapshotFormat.Progress.NONE;
    private Thread running;
    private volatile boolean cancelled;
    private volatile long completed;
    private volatile long lastCompletedZxid = -1;
    /** When the newest background snapshot completed (wall clock, for the last_snapshot admin command). */
    private volatile long lastCompletedMillis = -1;

    BackgroundSnapshots(ZkStore store, DataTree tree, DatabaseStats stats) {
        this(store::writeSnapshot, tree, stats);
    }

    BackgroundSnapshots(Writer writer, DataTree tree, DatabaseStats stats) {
        this(writer, tree, stats, false);
    }

    private BackgroundSnapshots(Writer writer, DataTree tree, DatabaseStats stats, boolean inline) {
        this.writer = writer;
        this.tree = tree;
        this.stats = stats;
        this.inline = inline;
    }

    /**
     * Snapshots written on the commit thread itself when due: the deterministic simulator runs a member on one thread,
     * and a snapshot thread racing the commits would make a seed unreplayable. Production never uses it.
     */
    static BackgroundSnapshots inline(Writer writer, DataTree tree, DatabaseStats stats) {
        return new BackgroundSnapshots(writer, tree, stats, true);
    }

    /**
     * Starts a snapshot covering {@code zxid}, the tree's last applied zxid now, with the sessions as they are now;
     * commit thread only. Returns false, starting nothing, while the previous snapshot is still being written.
     */
    boolean start(long zxid, Map<Long, Integer> sessions) {
        if (running != null && running.isAlive()) {
            LOG.log(Level.WARNING, () -> "Too busy to snap, skipping the snapshot at zxid 0x" + Long.toHexString(zxid)
                    + ": the previous one is still being written");
            return false;
        }
        cancelled = false;
        if (inline) {
            write(zxid, sessions);
            return true;
        }
        Thread thread = new Thread(() -> write(zxid, sessions), "zk-snapshot");
        thread.setDaemon(true);
        running = thread;
        thread.start();
        return true;
    }

    private void write(long zxid, Map<Long, Integer> sessions) {
        long started = System.nanoTime();
        SnapshotFormat.Progress progress = (snapshotZxid, nodes) -> {
            if (cancelled) {
                throw new InterruptedIOException("snapshot cancelled by shutdown");
            }
            progressHook.nodeWritten(snapshotZxid, nodes);
        };
        try {
            writer.write(zxid, out -> SnapshotFormat.write(out, zxid, sessions, tree, progress));
            stats.snapshotWritten(DatabaseStats.msSince(started));
            lastCompletedMillis = System.currentTimeMillis();
            lastCompletedZxid = zxid;
            completed++;
            LOG.log(Level.INFO, () -> "Snapshot at zxid 0x" + Long.toHexString(zxid) + " written in "
                    + (System.nanoTime() - started) / 1_000_000 + " ms, while commits went on");
        } catch (IOException | RuntimeException e) {
            if (cancelled) {
                LOG.log(Level.INFO, () -> "Snapshot at zxid 0x" + Long.toHexString(zxid) + " abandoned at shutdown");
            } else {
                LOG.log(Level.WARNING, "snapshot at zxid 0x" + Long.toHexString(zxid) + " failed; the log still "
                        + "holds every transaction since the previous snapshot", e);
            }
        }
    }

    /**
     * Abandons a snapshot being written and waits until its thread has ended (shutdown: the final snapshot, written
     * when the tree no longer changes, supersedes it; after a simulated crash none would have completed either).
     */
    void cancelAndAwait() {
        Thread thread = running;
        if (thread == null) {
            return;
        }
        cancelled = true;
        thread.interrupt(); // wakes a test hook that holds the writer; the write itself stops at the next node
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Background snapshots completed since start. */
    long completed() {
        return completed;
    }

    /** When the newest background snapshot completed (epoch milliseconds), -1 before the first. */
    long lastCompletedMillis() {
        return lastCompletedMillis;
    }

    /** The zxid of the newest background snapshot completed, -1 before the first. */
    long lastCompletedZxid() {
        return lastCompletedZxid;
    }
}
