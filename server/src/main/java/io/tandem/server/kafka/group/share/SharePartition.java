package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import static io.tandem.server.kafka.ErrorCodes.INVALID_REQUEST;

/**
 * One share-partition (KIP-932): the records of a topic partition as one share group consumes them. Offsets below the
 * share-partition start offset (SPSO) are done; offsets from the end offset (SPEO) on were never handed out; in
 * between, each in-flight record is AVAILABLE (may be acquired again), ACQUIRED (locked to one member until its lock
 * expires), ACKNOWLEDGED or ARCHIVED, with its delivery count. A record released or timed out after the delivery count
 * limit is archived, never delivered again. The SPSO moves past the done prefix. Pure state: time comes in as
 * {@code nowMs}, records as offset ranges; the state is guarded by the object's monitor.
 * <p>
 * Every change is handed to a {@link StateSink} (the share coordinator, through the persister, maybe on another
 * broker) by {@link #flush}, after the monitor is released, so a slow share coordinator never holds up the members'
 * fetches and acknowledgements of this share-partition: the state is taken as a snapshot under the monitor and written
 * by the {@link SharePartitionWriter}, one write at a time and newest last, with no thread waiting for it, so the
 * stored state follows the changes in order (a write finding its changes already written is skipped). Stored are the
 * start offset and
 * every in-flight record with its state and delivery count, acquired ones as AVAILABLE (a lock does not outlive the
 * broker). Acquisitions are stored too, so delivery counts survive a restart or a new leader even when the records
 * were never acknowledged.
 * <p>
 * An acknowledgement or a release is a transition, as in Kafka's SharePartition: the records take their new state at
 * once, but until it is written they are neither acquired again nor passed by the start offset; if the write fails
 * they go back to what they were, acquired by the member (whose lock may expire meanwhile), as Kafka's
 * rollbackOrProcessStateUpdates does, and the member may acknowledge them again ({@link Pending}).
 */
public final class SharePartition {
    /** ShareAcknowledge/ShareFetch acknowledge types. */
    public static final byte GAP = 0, ACCEPT = 1, RELEASE = 2, REJECT = 3, RENEW = 4;

    enum State { AVAILABLE, ACQUIRED, ACKNOWLEDGED, ARCHIVED }

    /**
     * Transitions of one request not yet written: {@link #flush(Pending)} completes them once a write holding them
     * succeeded, or rolls them back. Used by one thread at a time, under the share-partition's monitor.
     */
    public static final class Pending {
        private final Map<Long, InFlightRecord> records = new TreeMap<>();
        /** The change count once the last of these transitions was made: a write of that version holds them all. */
        private long version;

        private void add(long offset, InFlightRecord r) {
            if (r.rollback == null) r.rollback = r.copy();
            records.put(offset, r);
        }

        public boolean isEmpty() {
            return records.isEmpty();
        }
    }

    /** A run of offsets handed to a member in one acquisition, all with the same delivery count. */
    public record Acquired(long firstOffset, long lastOffset, int deliveryCount) {
    }

    /** A record batch of the log as acquisition needs it: its offsets and whether it is a control batch. */
    public record Batch(long baseOffset, long lastOffset, boolean control) {
    }

    /**
     * Receives the share-partition's state after each change; each call completes once the state is stored (with
     * the persister's ApiException when it is not), without holding the calling thread meanwhile.
     */
    public interface StateSink {
        /** The state was reset (AlterShareGroupOffsets): a new state epoch starts at {@code startOffset}. */
        CompletableFuture<Void> initialized(int stateEpoch, long startOffset);

        /**
         * The state from {@code startOffset} on; {@code deliveryCompleteCount} of those offsets are done (KIP-1226,
         * what the lag subtracts).
         */
        CompletableFuture<Void> written(int stateEpoch, long startOffset, int deliveryCompleteCount,
                                        List<ShareStateBatch> batches);

        StateSink NONE = new StateSink() {
            @Override
            public CompletableFuture<Void> initialized(int stateEpoch, long startOffset) {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<Void> written(int stateEpoch, long startOffset, int deliveryCompleteCount,
                                                   List<ShareStateBatch> batches) {
                return CompletableFuture.completedFuture(null);
            }
        };
    }

    private static final System.Logger LOG = System.getLogger(SharePartition.class.getName());
    /**
     * The group's limits, volatile so that {@link #limits} takes no monitor: every ShareFetch and ShareAcknowledge
     * sets them when it looks the share-partition up, and must not wait there for another member's acquisition
     * (which reads the log under the monitor).
     */
    private volatile int deliveryCountLimit;
    private volatile int maxRecordLocks;
    private volatile long lockDurationMs;
    private long startOffset;
    private long endOffset;
    private final TreeMap<Long, InFlightRecord> inFlight = new TreeMap<>();
    private int stateEpoch;
    /** Changes made and changes written (both under the monitor): equal when stored. */
    private long changes, written;
    /** A reset's new state epoch is still to be initialized at the share coordinator. */
    private boolean initializePending;
    private final SharePartitionWriter writer = new SharePartitionWriter(this);

    /** Reads the log's batches from an offset (below the high watermark) for an acquisition. */
    public interface BatchReader {
        List<Batch> read(long fromOffset) throws java.io.IOException;
    }

    public SharePartition(long startOffset, int deliveryCountLimit, int maxRecordLocks, long lockDurationMs) {
        this.startOffset = startOffset;
        this.endOffset = startOffset;
        this.deliveryCountLimit = deliveryCountLimit;
        this.maxRecordLocks = maxRecordLocks;
        this.lockDurationMs = lockDurationMs;
    }

    /**
     * A share-partition as stored: records in the batches become in-flight again (AVAILABLE ones available with their
     * delivery count), offsets between them that no batch covers are done. At most {@code maxRecordLocks} records
     * are restored; the end offset stops after the last one, so later stored records are fetched again as new.
     */
    public static SharePartition restore(int stateEpoch, long startOffset, List<ShareStateBatch> batches,
                                         int deliveryCountLimit, int maxRecordLocks, long lockDurationMs) {
        SharePartition p = new SharePartition(startOffset, deliveryCountLimit, maxRecordLocks, lockDurationMs);
        p.stateEpoch = stateEpoch;
        p.endOffset = InFlightRecords.restore(batches, startOffset, maxRecordLocks, p.inFlight, p.endOffset);
        p.advanceStart();
        return p;
    }

    /** New limits (the group's configs changed): they apply to acquisitions and releases from now on. */
    public void limits(int deliveryCountLimit, int maxRecordLocks, long lockDurationMs) {
        this.deliveryCountLimit = deliveryCountLimit;
        this.maxRecordLocks = maxRecordLocks;
        this.lockDurationMs = lockDurationMs;
    }

    /** Where changes go from now on (set once the share-partition is in its group). */
    public void sink(StateSink sink) {
        writer.sink(sink);
    }

    public synchronized int stateEpoch() {
        return stateEpoch;
    }

    /** The state as stored: in-flight records as runs of one state and delivery count, acquired ones AVAILABLE. */
    public synchronized List<ShareStateBatch> stateBatches() {
        return stateBatches(startOffset);
    }

    /** The in-flight records from {@code from} on, as stored. */
    private List<ShareStateBatch> stateBatches(long from) {
        return InFlightRecords.stateBatches(inFlight.tailMap(from, true));
    }

    /** A change to store: the next {@link #flush} writes it. */
    private void store() {
        changes++;
    }

    /**
     * Writes the state to the share coordinator if it changed since the last write; called without the monitor.
     * Throws the persister's error (the change stays to be written: the next flush tries again with the whole
     * state).
     */
    public void flush() {
        SharePartitionWriter.await(writer.flush(null));
    }

    /**
     * Writes the state as {@link #flush()} does, then completes the request's transitions if a write holding them
     * succeeded (this one or an earlier one already), else rolls them back and throws the write's error.
     */
    public void flush(Pending pending) {
        SharePartitionWriter.await(flushAsync(pending));
    }

    /**
     * {@link #flush(Pending)} without waiting: completes once the transitions are settled, with the write's
     * ApiException when they were rolled back. The answer to the request is sent from there.
     */
    public CompletableFuture<Void> flushAsync(Pending pending) {
        return writer.flush(pending);
    }

    /**
     * Writes the state without waiting for it, a failure logged (the transitions of {@code pending}, if any, rolled
     * back): for changes whose request is answered whatever the write's outcome.
     */
    private void writeLater(Pending pending) {
        writer.flush(pending).whenComplete((ok, e) -> {
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "Cannot store share-partition state"
                        + (pending != null ? ", rolled back: " : ": ") + SharePartitionWriter.unwrap(e).getMessage());
            }
        });
    }

    /** The state a write stores, or null when nothing changed since the last write; for the writer. */
    synchronized SharePartitionWriter.Snapshot snapshotForWrite() {
        if (changes == written) return null;
        // As if the transitions not yet written were done: the write stores them, and a failed write rolls them back
        // (so the stored start offset is the one after the change, as before).
        long start = startOffsetAfterTransitions();
        SharePartitionWriter.Snapshot s = new SharePartitionWriter.Snapshot(changes, stateEpoch, start,
                deliveryCompleteCount(start), stateBatches(start), initializePending);
        initializePending = false;
        return s;
    }

    synchronized void writeSucceeded(SharePartitionWriter.Snapshot s) {
        written = Math.max(written, s.version());
    }

    synchronized void writeFailed(SharePartitionWriter.Snapshot s) {
        if (s.initialize() && stateEpoch == s.stateEpoch()) initializePending = true;
    }

    /**
     * After a write, before the next one takes its snapshot: the request's transitions are done if a write holding
     * them succeeded, else rolled back. Returns whether they were stored.
     */
    synchronized boolean settle(Pending pending) {
        boolean stored = written >= pending.version;
        for (Map.Entry<Long, InFlightRecord> e : pending.records.entrySet()) {
            InFlightRecord r = e.getValue();
            if (r.rollback == null || inFlight.get(e.getKey()) != r) continue; // reset meanwhile
            if (!stored) {
                r.state = r.rollback.state;
                r.deliveryCount = r.rollback.deliveryCount;
                r.memberId = r.rollback.memberId;
                r.lockExpiryMs = r.rollback.lockExpiryMs;
            }
            r.rollback = null;
        }
        pending.records.clear();
        advanceStart();
        return stored;
    }

    public synchronized long startOffset() {
        return startOffset;
    }

    public synchronized long endOffset() {
        return endOffset;
    }

    /** The start offset and the delivery-complete count from it, taken together: what a lag is computed from. */
    public record Progress(long startOffset, int deliveryCompleteCount) {
    }

    /** The state in memory as a summary gives it: the start offset and the records done from there on. */
    public synchronized Progress progress() {
        return new Progress(startOffset, deliveryCompleteCount(startOffset));
    }

    /**
     * Kafka's deliveryCompleteCount (KIP-1226) for a window starting at {@code from}: the offsets from there up to the
     * end offset that are done, so that the lag, end offset less start offset less this count, is the records not
     * yet done. Done are the ACKNOWLEDGED and ARCHIVED records, transitions not yet written included (Kafka counts an
     * acknowledgement when it starts, and takes it back if its write fails), and the offsets in the window with no
     * in-flight record: control records and offsets compaction removed, which Kafka holds as ARCHIVED.
     */
    private int deliveryCompleteCount(long from) {
        long notDone = 0;
        for (InFlightRecord r : inFlight.tailMap(from, true).values()) {
            if (r.state != State.ACKNOWLEDGED && r.state != State.ARCHIVED) notDone++;
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, endOffset - from - notDone));
    }

    /** Records that could be handed out now: a released or expired one, or new ones below {@code highWatermark}. */
    public synchronized boolean hasAcquirable(long highWatermark, long nowMs) {
        // Expired locks are released here in memory only: the acquisition that follows writes them.
        expire(nowMs);
        for (InFlightRecord r : inFlight.values()) if (r.state == State.AVAILABLE && r.rollback == null) return true;
        return endOffset < highWatermark && inFlight.size() < maxRecordLocks;
    }

    /**
     * Acquires up to {@code maxRecords} for the member: redeliveries first (lowest offsets), then new records from the
     * end offset, taken from {@code newBatches} (the log's batches from the end offset, below the high watermark).
     * Control batches are never delivered; they are done as soon as the end offset passes them.
     */
    public List<Acquired> acquire(String memberId, int maxRecords, List<Batch> newBatches, long nowMs) {
        List<Acquired> result;
        synchronized (this) {
            result = acquireLocked(memberId, maxRecords, newBatches, nowMs);
        }
        writeLater(null);
        return result;
    }

    /**
     * An acquisition from the log: under the monitor, a start offset below the log's start moves to it, the log's
     * batches from the end offset are read when it is below the high watermark, and records are acquired; the
     * state is then written without the monitor, and without waiting: the records are handed out whatever the
     * write's outcome (a failed one only leaves the delivery counts to the next write).
     */
    public List<Acquired> acquire(String memberId, int maxRecords, long logStartOffset, long highWatermark,
                                  BatchReader reader, long nowMs) throws java.io.IOException {
        return acquire(memberId, maxRecords, logStartOffset, highWatermark, reader, nowMs, () -> true);
    }

    /**
     * {@link #acquire(String, int, long, long, BatchReader, long)} for a member whose answer can reach it only while
     * {@code live} holds (its share session is open): checked under this share-partition's monitor, so a release of
     * the member's records (which takes the monitor, after its session went) either comes after this acquisition and
     * releases what it took, or before, and then this acquisition sees the session gone and takes nothing. Checked
     * before, outside the monitor, the release could run in between and the records stay locked to a member that is
     * gone until their locks expire.
     */
    public List<Acquired> acquire(String memberId, int maxRecords, long logStartOffset, long highWatermark,
                                  BatchReader reader, long nowMs, java.util.function.BooleanSupplier live)
            throws java.io.IOException {
        List<Acquired> result;
        synchronized (this) {
            if (!live.getAsBoolean()) return List.of();
            if (endOffset < logStartOffset) resetLocked(logStartOffset);
            List<Batch> fresh = endOffset < highWatermark ? reader.read(endOffset) : List.of();
            result = acquireLocked(memberId, maxRecords, fresh, nowMs);
        }
        writeLater(null);
        return result;
    }

    private List<Acquired> acquireLocked(String memberId, int maxRecords, List<Batch> newBatches, long nowMs) {
        expire(nowMs);
        long endBefore = endOffset;
        List<Acquired> result = new ArrayList<>();
        int room = maxRecords;
        for (Map.Entry<Long, InFlightRecord> e : inFlight.entrySet()) {
            if (room == 0) break;
            InFlightRecord r = e.getValue();
            // A release not written yet is not handed out again: its write may fail and give it back to its member.
            if (r.state != State.AVAILABLE || r.rollback != null) continue;
            lock(r, memberId, nowMs);
            add(result, e.getKey(), r.deliveryCount);
            room--;
        }
        for (Batch batch : newBatches) {
            if (batch.lastOffset() < endOffset) continue;
            // Offsets with no record (removed by compaction) and control batches are done at once: an offset in
            // [SPSO, SPEO) that is not in flight is done, so nothing is kept for them.
            if (batch.baseOffset() > endOffset) endOffset = batch.baseOffset();
            if (batch.control()) {
                endOffset = batch.lastOffset() + 1;
                continue;
            }
            while (endOffset <= batch.lastOffset() && room > 0 && inFlight.size() < maxRecordLocks) {
                InFlightRecord r = new InFlightRecord();
                inFlight.put(endOffset, r);
                lock(r, memberId, nowMs);
                add(result, endOffset, r.deliveryCount);
                endOffset++;
                room--;
            }
            if (endOffset <= batch.lastOffset()) break;
        }
        advanceStart();
        if (!result.isEmpty() || endOffset != endBefore) store();
        return result;
    }

    /**
     * Applies one acknowledgement batch of the member: {@code types} has one type for the whole range or one per
     * offset. Every offset must be acquired by this member (else INVALID_RECORD_STATE, nothing changed).
     */
    public void acknowledge(String memberId, long firstOffset, long lastOffset, List<Byte> types, long nowMs) {
        Pending pending = new Pending();
        acknowledgeUnwritten(memberId, firstOffset, lastOffset, types, nowMs, pending);
        writeLater(pending);
    }

    /**
     * {@link #acknowledge} without the write: the caller applies all of a request's batches, then {@link #flush}es
     * once and answers the write's error, as Kafka answers an acknowledgement only once its state is written.
     */
    public void acknowledgeUnwritten(String memberId, long firstOffset, long lastOffset, List<Byte> types,
                                     long nowMs) {
        acknowledgeUnwritten(memberId, firstOffset, lastOffset, types, nowMs, null);
    }

    /**
     * {@link #acknowledgeUnwritten}, the transitions (all but lock renewals) added to {@code pending}, which the
     * caller hands to {@link #flush(Pending)}; null makes them final at once.
     */
    public synchronized void acknowledgeUnwritten(String memberId, long firstOffset, long lastOffset,
                                                  List<Byte> types, long nowMs, Pending pending) {
        expire(nowMs);
        long count = lastOffset - firstOffset + 1;
        if (count <= 0 || types.isEmpty() || (types.size() != 1 && types.size() != count)) {
            throw new ApiException(INVALID_REQUEST, "Invalid acknowledgement batch " + firstOffset + "-" + lastOffset);
        }
        for (long o = firstOffset; o <= lastOffset; o++) {
            byte type = types.size() == 1 ? types.get(0) : types.get((int) (o - firstOffset));
            if (type < GAP || type > RENEW) {
                throw new ApiException(INVALID_REQUEST, "Invalid acknowledge type " + type);
            }
            InFlightRecord r = inFlight.get(o);
            if (r == null || r.state != State.ACQUIRED || !memberId.equals(r.memberId)) {
                throw new ApiException(Errors.INVALID_RECORD_STATE.code(), null);
            }
        }
        for (long o = firstOffset; o <= lastOffset; o++) {
            byte type = types.size() == 1 ? types.get(0) : types.get((int) (o - firstOffset));
            InFlightRecord r = inFlight.get(o);
            if (pending != null && type != RENEW) pending.add(o, r);
            switch (type) {
                case ACCEPT -> done(r, State.ACKNOWLEDGED);
                case GAP, REJECT -> done(r, State.ARCHIVED);
                case RELEASE -> release(r);
                case RENEW -> r.lockExpiryMs = nowMs + lockDurationMs;
                default -> throw new IllegalStateException();
            }
        }
        advanceStart();
        store();
        if (pending != null) pending.version = changes;
    }

    /**
     * Releases every record the member holds (it left the group or closed its share session); if that cannot be
     * written they stay the member's until their locks expire, as Kafka's releaseAcquiredRecords.
     */
    public void releaseMember(String memberId) {
        Pending pending = new Pending();
        synchronized (this) {
            for (Map.Entry<Long, InFlightRecord> e : inFlight.entrySet()) {
                InFlightRecord r = e.getValue();
                if (r.state == State.ACQUIRED && memberId.equals(r.memberId)) {
                    pending.add(e.getKey(), r);
                    release(r);
                }
            }
            advanceStart();
            if (!pending.isEmpty()) store();
            pending.version = changes;
        }
        writeLater(pending);
    }

    /**
     * Moves the start offset (AlterShareGroupOffsets, or a start offset below the log start): forgets in-flight
     * state. The future completes once the new state is written (with the write's error when it is not).
     */
    public CompletableFuture<Void> reset(long newStartOffset) {
        synchronized (this) {
            resetLocked(newStartOffset);
        }
        return writer.flush(null);
    }

    private void resetLocked(long newStartOffset) {
        inFlight.clear();
        startOffset = newStartOffset;
        endOffset = newStartOffset;
        // A new state epoch, as Kafka's alter: the stored batches of the old one must not come back.
        stateEpoch++;
        initializePending = true;
        store();
    }

    /** Whether no record is acquired by anyone (AlterShareGroupOffsets needs an empty group anyway). */
    public synchronized int inFlightCount() {
        return inFlight.size();
    }

    /** Delivery count of an in-flight record, -1 when it is not in flight (tests). */
    synchronized int deliveryCount(long offset) {
        InFlightRecord r = inFlight.get(offset);
        return r == null ? -1 : r.deliveryCount;
    }

    /** The state of an in-flight record, null when it is not in flight (tests). */
    synchronized State state(long offset) {
        InFlightRecord r = inFlight.get(offset);
        return r == null ? null : r.state;
    }

    /**
     * Returns expired locks' records to AVAILABLE, or ARCHIVED once delivered the limit's number of times; written
     * without waiting (a failure logged: the next change writes the whole state again).
     */
    public void expireLocks(long nowMs) {
        synchronized (this) {
            expire(nowMs);
        }
        writeLater(null);
    }

    private void expire(long nowMs) {
        boolean changed = false;
        for (InFlightRecord r : inFlight.values()) {
            if (r.state == State.ACQUIRED && r.lockExpiryMs <= nowMs) {
                release(r);
                changed = true;
            }
        }
        if (changed) {
            advanceStart();
            store();
        }
    }

    private void lock(InFlightRecord r, String memberId, long nowMs) {
        r.state = State.ACQUIRED;
        r.deliveryCount++;
        r.memberId = memberId;
        r.lockExpiryMs = nowMs + lockDurationMs;
    }

    private void release(InFlightRecord r) {
        if (r.deliveryCount >= deliveryCountLimit) {
            done(r, State.ARCHIVED);
        } else {
            r.state = State.AVAILABLE;
            r.memberId = null;
        }
    }

    private static void done(InFlightRecord r, State state) {
        r.state = state;
        r.memberId = null;
    }

    /** The start offset once every transition not yet written is done (the start offset when there is none). */
    private long startOffsetAfterTransitions() {
        for (Map.Entry<Long, InFlightRecord> e : inFlight.entrySet()) {
            State s = e.getValue().state;
            if (s != State.ACKNOWLEDGED && s != State.ARCHIVED) return e.getKey();
        }
        return endOffset;
    }

    private void advanceStart() {
        Iterator<Map.Entry<Long, InFlightRecord>> it = inFlight.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, InFlightRecord> e = it.next();
            State s = e.getValue().state;
            // A transition not yet written holds the start offset back: it may be rolled back.
            if (s != State.ACKNOWLEDGED && s != State.ARCHIVED || e.getValue().rollback != null) {
                startOffset = e.getKey();
                return;
            }
            it.remove();
        }
        startOffset = endOffset;
    }

    private static void add(List<Acquired> result, long offset, int deliveryCount) {
        if (!result.isEmpty()) {
            Acquired last = result.get(result.size() - 1);
            if (last.lastOffset() + 1 == offset && last.deliveryCount() == deliveryCount) {
                result.set(result.size() - 1, new Acquired(last.firstOffset(), offset, deliveryCount));
                return;
            }
        }
        result.add(new Acquired(offset, offset, deliveryCount));
    }
}
