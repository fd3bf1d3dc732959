package io.tandem.server.zab;

import io.tandem.server.zab.ZabSimulator.ReadyStep;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's disk, kept across its crashes: what {@code sync} made durable survives, the unsynced tail survives
 * whole, not at all or in part. Each operation is a step of a Ready, where a scheduled crash may stop the driver.
 */
final class SimulatedDisk implements ZabDisk {
    private final ZabSimulator sim;
    private final SimulatedNode owner;
    long acceptedEpoch;
    long currentEpoch;
    long snapshotZxid;
    byte[] snapshot;
    final List<LogEntry> synced = new ArrayList<>();
    final List<LogEntry> unsynced = new ArrayList<>();
    /** The driver's durable "recovering" marker: the history was set aside after damage, not yet re-synced. */
    boolean recovering;

    SimulatedDisk(ZabSimulator sim, SimulatedNode owner) {
        this.sim = sim;
        this.owner = owner;
    }

    @Override
    public long lastZxid() {
        if (!unsynced.isEmpty()) {
            return unsynced.get(unsynced.size() - 1).zxid();
        }
        return synced.isEmpty() ? 0 : synced.get(synced.size() - 1).zxid();
    }

    @Override
    public SnapshotData writeSnapshot(long zxid, SnapshotData data) throws java.io.IOException {
        owner.reach(ReadyStep.INSTALL_SNAPSHOT);
        snapshotZxid = zxid;
        snapshot = data.readAllBytes();
        return SnapshotData.of(snapshot);
    }

    @Override
    public void retainNewestSnapshots() {}

    @Override
    public void truncateAfter(long zxid) {
        owner.reach(ReadyStep.TRUNCATE);
        synced.removeIf(entry -> entry.zxid() > zxid);
        unsynced.removeIf(entry -> entry.zxid() > zxid);
    }

    @Override
    public void append(long zxid, byte[] txn) {
        owner.reach(ReadyStep.APPEND);
        Checks.require(zxid > lastZxid(), "node %d appends %s after %s", owner.id, Zxid.toString(zxid),
                Zxid.toString(lastZxid()));
        unsynced.add(new LogEntry(zxid, txn));
    }

    @Override
    public void sync() {
        owner.reach(ReadyStep.SYNC);
        if (sim.fsyncLies()) {
            return; // a deliberately broken disk: the checkers must notice acks for data it never kept
        }
        synced.addAll(unsynced);
        unsynced.clear();
    }

    @Override
    public void writeAcceptedEpoch(long epoch) {
        owner.reach(ReadyStep.PERSIST_EPOCHS);
        acceptedEpoch = epoch;
    }

    @Override
    public void writeCurrentEpoch(long epoch) {
        owner.reach(ReadyStep.PERSIST_EPOCHS);
        currentEpoch = epoch;
    }

    @Override
    public void clearRecovering() {
        owner.reach(ReadyStep.PERSIST_EPOCHS);
        recovering = false;
        sim.count("recovered after disk damage");
    }

    @Override
    public void purgeBefore(long zxid) {
        owner.reach(ReadyStep.APPLY);
        Checks.require(snapshotZxid >= zxid, "purge before %s without a snapshot", Zxid.toString(zxid));
        synced.removeIf(entry -> entry.zxid() <= zxid);
    }

    @Override
    public boolean isRecovering() {
        return recovering;
    }

    @Override
    public void close() {}

    /** Whether {@code zxid} is durable here: synced in the log, or under the snapshot. */
    boolean holdsDurably(long zxid) {
        if (snapshot != null && snapshotZxid >= zxid) {
            return true;
        }
        for (LogEntry entry : synced) {
            if (entry.zxid() == zxid) {
                return true;
            }
        }
        return false;
    }
}
