package io.tandem.server.zab;

import java.util.ArrayList;
import java.util.List;

/**
 * A member's history as {@link ZabStateMachine} holds it: the latest snapshot (its zxid and data) and the log entries
 * after it, in memory and in zxid order, so that a leader's DIFF needs no disk reads. It is only the data structure:
 * what may be cut or replaced, and what the driver must write for it, is the machine's business (same thread).
 */
final class ZabLog {
    private final ArrayList<LogEntry> entries = new ArrayList<>();
    private long snapshotZxid;
    private SnapshotData snapshot;

    /** Starts from the durable snapshot and the recovered entries after it (entries at or below it are skipped). */
    ZabLog(long snapshotZxid, SnapshotData snapshot, List<LogEntry> recovered) {
        this.snapshotZxid = snapshotZxid;
        this.snapshot = snapshot;
        for (LogEntry entry : recovered) {
            if (entry.zxid() <= snapshotZxid) {
                continue;
            }
            Checks.require(entry.zxid() > lastZxid(), "recovered log out of order at %s", Zxid.toString(entry.zxid()));
            entries.add(entry);
        }
    }

    long snapshotZxid() {
        return snapshotZxid;
    }

    SnapshotData snapshot() {
        return snapshot;
    }

    /** The newest zxid held: the last entry's, or the snapshot's when no entry follows it. */
    long lastZxid() {
        return entries.isEmpty() ? snapshotZxid : entries.get(entries.size() - 1).zxid();
    }

    /** The entries after the snapshot; not to be modified. */
    List<LogEntry> entries() {
        return entries;
    }

    /** Binary search by zxid: the index of {@code zxid}, or {@code -(insertion point + 1)} as {@code Arrays}. */
    int indexOf(long zxid) {
        int low = 0;
        int high = entries.size() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            long found = entries.get(mid).zxid();
            if (found < zxid) {
                low = mid + 1;
            } else if (found > zxid) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -(low + 1);
    }

    /** The index of the first entry after {@code zxid}. */
    int indexAfter(long zxid) {
        int index = indexOf(zxid);
        return index >= 0 ? index + 1 : -(index + 1);
    }

    void append(LogEntry entry) {
        Checks.requireZxids(entry.zxid() > lastZxid(), "append of %s after %s", entry.zxid(), lastZxid());
        entries.add(entry);
    }

    /** Drops every entry after {@code zxid}. */
    void truncateAfter(long zxid) {
        entries.subList(indexAfter(zxid), entries.size()).clear();
    }

    /** A snapshot at {@code zxid} (an entry of this log) is durable: the entries up to it are no longer needed. */
    void compact(long zxid, SnapshotData data) {
        int index = indexOf(zxid);
        Checks.require(index >= 0, "snapshot zxid %s is not in the log", Zxid.toString(zxid));
        entries.subList(0, index + 1).clear();
        snapshotZxid = zxid;
        snapshot = data;
    }

    /** A leader's snapshot replaces the whole history. */
    void replaceWith(long zxid, SnapshotData data) {
        entries.clear();
        snapshotZxid = zxid;
        snapshot = data;
    }

    /** The stored copy of the snapshot at {@code zxid} replaces the one held (which may live in a temporary file). */
    void snapshotStored(long zxid, SnapshotData stored) {
        if (zxid == snapshotZxid) {
            snapshot = stored;
        }
    }

    /** A copy of the entries after {@code zxid}. */
    List<LogEntry> after(long zxid) {
        return List.copyOf(entries.subList(indexAfter(zxid), entries.size()));
    }

    /** How many entries follow {@code zxid}. */
    int countAfter(long zxid) {
        return entries.size() - indexAfter(zxid);
    }
}
