package io.tandem.storage.log;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The partition's leader epochs and the offset each started at, persisted as Kafka's {@code leader-epoch-checkpoint}
 * ("epoch startOffset" lines). Answers OffsetsForLeaderEpoch and guides follower truncation. Guarded by the owning
 * {@link Log}'s lock for writes; reads synchronize here.
 *
 * <p>Changes are made in memory and written to the file by {@link #flush}, which the log calls after it releases its
 * lock: the checkpoint's fsync then never holds up another append, a read or a fetch asking for an epoch's end
 * offset (this monitor is held only to copy the entries). The durability Kafka gives is kept: an append that started a
 * new epoch returns (and is acknowledged) only once the checkpoint naming that epoch is on disk, as Kafka's
 * {@code LeaderEpochFileCache.assign} writes it synchronously, and the log's flusher writes the checkpoint before it
 * moves the recovery point past records of a new epoch. Truncations are written on the same path; a crash before
 * that leaves stale entries past the log end, which opening the log truncates away (as Kafka's asynchronous
 * truncation flush relies on). A crash between an append and the checkpoint write naming its new epoch leaves the
 * epoch out of the file with its records in the log, above the recovery point: the recovery that re-reads those
 * records after an unclean shutdown assigns each batch's epoch again (Kafka's LogSegment.recover).
 */
public final class LeaderEpochCache {
    static final String FILE_NAME = "leader-epoch-checkpoint";
    /** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET (OffsetForLeaderEpoch's "no such epoch here"). */
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_EPOCH_OFFSET = -1;

    private final Path file;
    private final TreeMap<Integer, Long> startOffsets = new TreeMap<>();
    /** Counts changes in memory; under this monitor. */
    private long version;
    /** Serializes writers of the file, so a newer copy is never overwritten by an older one. */
    private final Object fileLock = new Object();
    /** The version the file holds; under {@link #fileLock}. */
    private long persistedVersion;
    /** Runs before each write of the file: a test's way to make the disk slow. */
    private volatile Runnable beforeWrite = () -> { };

    LeaderEpochCache(Path dir) throws IOException {
        this.file = dir.resolve(FILE_NAME);
        for (String[] entry : CheckpointFile.read(file)) {
            startOffsets.put(Integer.parseInt(entry[0]), Long.parseLong(entry[1]));
        }
    }

    /** Records that {@code epoch} starts at {@code startOffset}, when it is newer than the latest known epoch. */
    synchronized void assign(int epoch, long startOffset) {
        if (epoch < 0) {
            return;
        }
        Map.Entry<Integer, Long> latest = startOffsets.lastEntry();
        if (latest != null && (epoch <= latest.getKey())) {
            return;
        }
        // A start offset below an older epoch's start means those epochs' entries were truncated away.
        startOffsets.values().removeIf(offset -> offset >= startOffset);
        startOffsets.put(epoch, startOffset);
        version++;
    }

    /** Sets what runs before each write of the checkpoint (tests: a slow disk, or watching the writes overlap). */
    public void beforeWrite(Runnable hook) {
        beforeWrite = hook;
    }

    /** The latest epoch, or -1 when none is known. */
    public synchronized int latestEpoch() {
        return startOffsets.isEmpty() ? -1 : startOffsets.lastKey();
    }

    /** The epoch {@code offset} was written in: the latest one starting at or before it; -1 when none is known. */
    public synchronized int epochAt(long offset) {
        int epoch = -1;
        for (Map.Entry<Integer, Long> entry : startOffsets.entrySet()) {
            if (entry.getValue() <= offset) {
                epoch = entry.getKey();
            }
        }
        return epoch;
    }

    /**
     * Where {@code requestedEpoch} ends, as {epoch, end offset}, by the rules of Kafka's
     * {@code LeaderEpochFileCache.endOffsetFor}; the one answer for OffsetForLeaderEpoch, a leader's diverging-epoch
     * check of a follower's fetch and a follower's truncation:
     * <ul>
     * <li>{@link #UNDEFINED_EPOCH} asked, or an epoch above every known one (or none known): undefined epoch and
     * offset;</li>
     * <li>the latest epoch: the log end offset (it is still being written);</li>
     * <li>an epoch below every known one: the start of the first known epoch, under the requested epoch (the older
     * records are gone from this log; a follower holding them truncates there and replicates from it);</li>
     * <li>otherwise the largest known epoch at most the requested one, ending where the next known epoch starts.</li>
     * </ul>
     */
    public synchronized long[] endOffsetFor(int requestedEpoch, long logEndOffset) {
        if (requestedEpoch == UNDEFINED_EPOCH) return new long[] {UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET};
        if (!startOffsets.isEmpty() && startOffsets.lastKey() == requestedEpoch) {
            return new long[] {requestedEpoch, logEndOffset};
        }
        Map.Entry<Integer, Long> higher = startOffsets.higherEntry(requestedEpoch);
        if (higher == null) return new long[] {UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET};
        Map.Entry<Integer, Long> floor = startOffsets.floorEntry(requestedEpoch);
        return new long[] {floor == null ? requestedEpoch : floor.getKey(), higher.getValue()};
    }

    /** Drops epochs starting at or after {@code offset}: the log was truncated there. */
    synchronized void truncateFromEnd(long offset) {
        if (startOffsets.values().removeIf(start -> start >= offset)) {
            version++;
        }
    }

    /** The log start moved to {@code offset}: the epoch in force there now starts there. */
    synchronized void truncateFromStart(long offset) {
        Map.Entry<Integer, Long> inForce = null;
        for (Map.Entry<Integer, Long> entry : startOffsets.entrySet()) {
            if (entry.getValue() <= offset) {
                inForce = entry;
            }
        }
        if (inForce == null) {
            return;
        }
        int keep = inForce.getKey();
        boolean changed = startOffsets.headMap(keep, false).size() > 0 || inForce.getValue() != offset;
        startOffsets.headMap(keep, false).clear();
        startOffsets.put(keep, offset);
        if (changed) {
            version++;
        }
    }

    synchronized void clear() {
        startOffsets.clear();
        version++;
    }

    public synchronized Map<Integer, Long> entries() {
        return Map.copyOf(startOffsets);
    }

    /**
     * Writes and fsyncs the checkpoint when the entries changed since it was last written. Never call it under the
     * log's lock. A log whose directory is gone (deleted meanwhile) has nothing left to make durable.
     */
    void flush() throws IOException {
        synchronized (fileLock) {
            List<String> lines = new ArrayList<>();
            long writing;
            synchronized (this) {
                if (version == persistedVersion) {
                    return;
                }
                writing = version;
                startOffsets.forEach((epoch, offset) -> lines.add(epoch + " " + offset));
            }
            if (!java.nio.file.Files.isDirectory(file.getParent())) {
                return;
            }
            beforeWrite.run();
            CheckpointFile.write(file, lines);
            persistedVersion = writing;
        }
    }
}
