package io.tandem.server.zookeeper;

import io.tandem.server.zab.FigureSummary;
import java.util.function.BiConsumer;

/**
 * What Apache ZooKeeper 3.9's mntr reports about loading and snapshotting the tree, measured where Tandem does the
 * work, each a {@link FigureSummary} under Apache's name:
 * <ul>
 * <li>{@code snapshottime}: ms to write each snapshot of the tree (ZooKeeperServer.takeSnapshot's SNAPSHOT_TIME),
 *     the background ones every snapCount transactions, the one at shutdown and the one after a restore;</li>
 * <li>at start-up (the standalone server's recovery, FileTxnSnapLog.restore and ZKDatabase.loadDataBase):
 *     {@code startup_snap_load_time} (ms to find and read the newest snapshot, recorded with or without one),
 *     {@code startup_txns_loaded} and {@code startup_txns_load_time} (the transactions replayed from the log after it,
 *     and the ms that took; recorded only when there were any, as Apache's fastForwardFromEdits returns early on an
 *     empty log) and {@code dbinittime} (the whole load).</li>
 * </ul>
 * A Tandem-protocol ensemble member loads only its newest snapshot at start (Zab opens its files and reads it, the
 * commit thread installs it); the transactions after it come back from the leader when the member syncs, not from a
 * local replay. Its start-up figures are that load: {@code startup_snap_load_time} and {@code dbinittime} from Zab's
 * start to the snapshot installed (or to Zab started, without one), and no {@code startup_txns_loaded}, as it replays
 * none ({@link #memberLoadStarted}, {@link #memberLoadEnded}). A member speaking Apache's quorum protocol measures the
 * same way, from opening its files to its newest snapshot installed: the proposals logged after that snapshot are not
 * replayed at start but wait for the leader's DIFF or TRUNC, so it too reports no {@code startup_txns_loaded}.
 *
 * <p>Thread-safe: recovery, the snapshot thread and mntr's reader meet here.
 */
final class DatabaseStats {
    private final FigureSummary snapshotMs = new FigureSummary("snapshottime");
    private final FigureSummary snapLoadMs = new FigureSummary("startup_snap_load_time");
    private final FigureSummary txnsLoaded = new FigureSummary("startup_txns_loaded");
    private final FigureSummary txnsLoadMs = new FigureSummary("startup_txns_load_time");
    private final FigureSummary dbInitMs = new FigureSummary("dbinittime");
    private volatile boolean startupMeasured;

    /** A snapshot of the tree was written in {@code elapsedMs}. */
    void snapshotWritten(long elapsedMs) {
        snapshotMs.add(elapsedMs);
    }

    /**
     * The start-up load: the newest snapshot read in {@code snapLoadMs}, then {@code txns} transactions replayed from
     * the log in {@code replayMs}, {@code totalMs} in all.
     */
    void loaded(long snapLoadMs, long txns, long replayMs, long totalMs) {
        this.snapLoadMs.add(snapLoadMs);
        if (txns > 0) {
            txnsLoaded.add(txns);
            txnsLoadMs.add(replayMs);
        }
        dbInitMs.add(totalMs);
        startupMeasured = true;
    }

    private volatile long memberLoadStartedNanos;

    /** An ensemble member's Zab starts: it opens its files and reads its newest snapshot, if any. */
    void memberLoadStarted() {
        memberLoadStartedNanos = System.nanoTime();
    }

    /**
     * The start-up snapshot an ensemble member's Zab handed over is in the tree (or there was none): the load ends.
     * Only the first call counts; later snapshots (a leader's SNAP) are not start-up loads.
     */
    void memberLoadEnded() {
        if (startupMeasured || memberLoadStartedNanos == 0) return;
        long ms = msSince(memberLoadStartedNanos);
        loaded(ms, 0, 0, ms);
    }

    /** mntr's lines, under Apache's names (the start-up ones only where the load was measured). */
    void report(BiConsumer<String, Object> line) {
        snapshotMs.report(line);
        if (startupMeasured) {
            snapLoadMs.report(line);
            txnsLoaded.report(line);
            txnsLoadMs.report(line);
            dbInitMs.report(line);
        }
    }

    static long msSince(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }
}
