package io.tandem.server.zab;

import java.util.List;

/**
 * What a node recovered from disk at start: the two epochs, the newest valid snapshot (zxid 0 and null bytes when none)
 * and the transaction log. Entries at or below the snapshot's zxid are ignored: log purging is file-granular.
 *
 * <p>{@code recovering} means the driver found its log, snapshot or currentEpoch damaged (or a re-sync unfinished) and
 * set them aside: the history is empty and currentEpoch 0, but acceptedEpoch, the member's promise to leaders, was kept.
 * Such a member takes no part in any quorum until a leader has synced it (see {@link ZabStateMachine}).
 */
public record DurableState(long acceptedEpoch, long currentEpoch, long snapshotZxid, SnapshotData snapshot,
                           List<LogEntry> log, boolean recovering) {
    public DurableState(long acceptedEpoch, long currentEpoch, long snapshotZxid, SnapshotData snapshot,
                        List<LogEntry> log) {
        this(acceptedEpoch, currentEpoch, snapshotZxid, snapshot, log, false);
    }

    public DurableState {
        Checks.require(!recovering || (currentEpoch == 0 && snapshotZxid == 0 && log.isEmpty()),
                "a recovering member starts with no history and currentEpoch 0");
        Checks.require(currentEpoch >= 0 && acceptedEpoch >= currentEpoch,
                "durable epochs inconsistent: acceptedEpoch %d < currentEpoch %d", acceptedEpoch, currentEpoch);
        Checks.require(snapshotZxid == 0 || snapshot != null, "snapshot bytes missing for zxid %s",
                Zxid.toString(snapshotZxid));
        log = List.copyOf(log);
    }

    /** A node that has never run. */
    public static DurableState empty() {
        return new DurableState(0, 0, 0, null, List.of());
    }

    /**
     * Where the history recovered from disk has a hole, or null. Within an epoch zxids are consecutive (a leader
     * proposes counter 1, 2, 3, ...), so an entry whose counter is above 1 must directly follow its predecessor, the
     * snapshot's zxid or the previous entry: otherwise transactions between them are missing (a log file lost, or a
     * newer snapshot the log was purged up to). A hole spanning whole epochs cannot be seen this way.
     */
    public static String firstGap(long snapshotZxid, List<LogEntry> log) {
        long previous = snapshotZxid;
        for (LogEntry entry : log) {
            long zxid = entry.zxid();
            if (zxid <= snapshotZxid) {
                continue;
            }
            if (zxid <= previous) {
                return "zxid " + Zxid.toString(zxid) + " follows " + Zxid.toString(previous);
            }
            if (Zxid.counter(zxid) > 1 && zxid - 1 != previous) {
                return "zxid " + Zxid.toString(zxid) + " follows " + Zxid.toString(previous)
                        + (previous == snapshotZxid ? " (the snapshot)" : "") + ": " + Zxid.toString(zxid - 1)
                        + " and maybe more are missing";
            }
            previous = zxid;
        }
        return null;
    }

    /** A member whose history was set aside after disk damage; it keeps only its promise, {@code acceptedEpoch}. */
    public static DurableState recovering(long acceptedEpoch) {
        return new DurableState(acceptedEpoch, 0, 0, null, List.of(), true);
    }
}
