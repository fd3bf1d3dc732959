package io.tandem.server.zab;

import java.util.List;

/**
 * What a node recovered from disk at start: the two epochs, the newest valid snapshot (zxid 0 and null bytes when none)
 * and the transaction log. Entries at or below the snapshot's zxid are ignored: log purging is file-granular.
 */
public record DurableState(long acceptedEpoch, long currentEpoch, long snapshotZxid, byte[] snapshot,
                           List<LogEntry> log) {
    public DurableState {
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
}
