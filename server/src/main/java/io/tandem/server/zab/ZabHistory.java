package io.tandem.server.zab;

import java.util.List;

/**
 * A Zab member's history as its state machine keeps it: the durable epochs (acceptedEpoch, currentEpoch), the latest
 * snapshot and the log after it ({@link ZabLog}), how far that log is durable and how far it is committed. Every
 * change is mirrored into the machine's pending {@link Ready} (the driver makes it durable in the order Ready
 * documents), and the membership follows the log (a reconfig appended, truncated or committed). It lives on the
 * machine's one thread; the roles ({@link ZabFollower}, {@link ZabLeader}) change it through the machine's
 * {@link ZabStateMachine#history}.
 */
final class ZabHistory {
    private final ZabStateMachine machine;

    // Durable state, mirrored: every change is also placed in the pending Ready.
    private long acceptedEpoch;
    private long currentEpoch;
    /** The latest snapshot and the log entries after it. */
    private final ZabLog log;
    /**
     * The highest zxid of this member's own log known to be durable: what the driver reported through
     * {@link ZabStateMachine#logSynced} (or what was on disk at start), never above {@link #lastZxid()}. A leader
     * sends a proposal before its own fsync (its Ready lists the proposals first, see
     * {@link Ready#messagesBeforeSync()}), so that its fsync and its followers' overlap; it therefore counts its own
     * acknowledgement only up to this zxid, exactly as it counts a follower's only after that follower's fsync.
     * Counting {@code lastZxid()} instead would commit a transaction that only a minority holds durably whenever acks
     * arrive before the leader's own fsync ends.
     */
    private long durableZxid;
    /** The highest zxid handed to the application (via commits or a snapshot); never moves past the log. */
    private long committedZxid;

    ZabHistory(ZabStateMachine machine, DurableState durable) {
        this.machine = machine;
        this.acceptedEpoch = durable.acceptedEpoch();
        this.currentEpoch = durable.currentEpoch();
        this.log = new ZabLog(durable.snapshotZxid(), durable.snapshot(), durable.log());
        this.committedZxid = log.snapshotZxid();
        this.durableZxid = lastZxid();
    }

    long acceptedEpoch() { return acceptedEpoch; }
    long currentEpoch() { return currentEpoch; }
    long committedZxid() { return committedZxid; }
    long snapshotZxid() { return log.snapshotZxid(); }
    long lastZxid() { return log.lastZxid(); }

    long durableZxid() {
        return durableZxid;
    }

    /** {@link ZabStateMachine#logSynced}: whether {@code zxid} moved the durable end forward. */
    boolean synced(long zxid) {
        Checks.require(zxid <= lastZxid(), "synced %s beyond the log's last %s", Zxid.toString(zxid),
                Zxid.toString(lastZxid()));
        if (zxid <= durableZxid) {
            return false;
        }
        durableZxid = zxid;
        return true;
    }

    /** {@link ZabStateMachine#compact}. */
    void compact(long zxid, SnapshotData snapshotData) {
        Checks.require(zxid <= committedZxid, "snapshot at %s is ahead of the committed %s", Zxid.toString(zxid),
                Zxid.toString(committedZxid));
        if (zxid <= log.snapshotZxid()) {
            return;
        }
        log.compact(zxid, snapshotData);
        machine.pending.purgeBeforeZxid = zxid;
    }

    /** {@link ZabStateMachine#snapshotStored}. */
    void snapshotStored(long zxid, SnapshotData stored) {
        log.snapshotStored(zxid, stored);
    }

    int indexOf(long zxid) {
        return log.indexOf(zxid);
    }

    void appendLocal(LogEntry entry) {
        log.append(entry);
        machine.pending.appends.add(entry);
        machine.membership.appended(entry);
    }

    void truncateLocal(long zxid) {
        // Truncation never drops a committed transaction (ZOOKEEPER-1154, -1156): a leader asking for that is a bug.
        Checks.require(zxid >= committedZxid, "server %d: truncation to %s would drop committed %s", machine.myId(),
                Zxid.toString(zxid), Zxid.toString(committedZxid));
        Checks.require(zxid >= log.snapshotZxid(), "truncation to %s below the snapshot %s", Zxid.toString(zxid),
                Zxid.toString(log.snapshotZxid()));
        log.truncateAfter(zxid);
        machine.membership.truncated(zxid);
        durableZxid = Math.min(durableZxid, zxid);
        ReadyBuilder pending = machine.pending;
        pending.appends.removeIf(entry -> entry.zxid() > zxid);
        pending.truncateAfterZxid = pending.truncateAfterZxid == Ready.NONE ? zxid
                : Math.min(pending.truncateAfterZxid, zxid);
    }

    void installSnapshot(long zxid, SnapshotData bytes) {
        Checks.require(bytes != null, "SNAP without snapshot bytes");
        log.replaceWith(zxid, bytes);
        machine.membership.snapshotInstalled(); // the application hands over the snapshot's configuration
        committedZxid = zxid;
        durableZxid = zxid; // the Ready writes the snapshot durably before anything that depends on it
        ReadyBuilder pending = machine.pending;
        pending.appends.clear();
        pending.commits.clear(); // the snapshot already contains whatever they would have applied
        pending.truncateAfterZxid = 0;
        pending.snapshotToInstall = new Ready.Snapshot(zxid, bytes);
    }

    /**
     * Hands every entry up to {@code zxid} to the application, in zxid order, activating each reconfig among them as
     * it commits (Apache's COMMITANDACTIVATE).
     */
    void commitUpTo(long zxid) {
        if (zxid <= committedZxid) {
            return;
        }
        Checks.requireZxids(zxid <= lastZxid(), "commit of %s beyond the log end %s", zxid, lastZxid());
        List<LogEntry> entries = log.entries();
        for (int i = log.indexAfter(committedZxid); i < entries.size() && entries.get(i).zxid() <= zxid; i++) {
            LogEntry entry = entries.get(i);
            machine.pending.commits.add(entry);
            Members members = machine.membership.pendingAt(entry.zxid());
            if (members != null) {
                machine.activate(entry.zxid(), members);
            }
        }
        committedZxid = zxid;
    }

    void persistAcceptedEpoch(long epoch) {
        acceptedEpoch = epoch;
        machine.pending.acceptedEpoch = epoch;
    }

    void persistCurrentEpoch(long epoch) {
        currentEpoch = epoch;
        machine.pending.currentEpoch = epoch;
    }

    /**
     * The log entries after {@code zxid} (an applied one), in order: on a leader, what will be applied ahead of its next
     * proposal. A replicated application's leader-side prep step reads them (as ZooKeeper's outstanding changes).
     */
    List<LogEntry> logAfter(long zxid) {
        return log.after(zxid);
    }

    int uncommittedCount() {
        return log.countAfter(committedZxid);
    }

    /** The in-memory log after the snapshot, for the leader's synchronization; not to be modified. */
    List<LogEntry> log() {
        return log.entries();
    }

    SnapshotData snapshot() {
        return log.snapshot();
    }
}
