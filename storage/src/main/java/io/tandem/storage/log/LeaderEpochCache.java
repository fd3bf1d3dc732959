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
 */
public final class LeaderEpochCache {
    static final String FILE_NAME = "leader-epoch-checkpoint";
    /** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET (OffsetForLeaderEpoch's "no such epoch here"). */
    public static final int UNDEFINED_EPOCH = -1;
    public static final long UNDEFINED_EPOCH_OFFSET = -1;

    private final Path file;
    private final TreeMap<Integer, Long> startOffsets = new TreeMap<>();

    LeaderEpochCache(Path dir) throws IOException {
        this.file = dir.resolve(FILE_NAME);
        for (String[] entry : CheckpointFile.read(file)) {
            startOffsets.put(Integer.parseInt(entry[0]), Long.parseLong(entry[1]));
        }
    }

    /** Records that {@code epoch} starts at {@code startOffset}, when it is newer than the latest known epoch. */
    synchronized void assign(int epoch, long startOffset) throws IOException {
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
        persist();
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
    synchronized void truncateFromEnd(long offset) throws IOException {
        if (startOffsets.values().removeIf(start -> start >= offset)) {
            persist();
        }
    }

    /** The log start moved to {@code offset}: the epoch in force there now starts there. */
    synchronized void truncateFromStart(long offset) throws IOException {
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
            persist();
        }
    }

    synchronized void clear() throws IOException {
        startOffsets.clear();
        persist();
    }

    public synchronized Map<Integer, Long> entries() {
        return Map.copyOf(startOffsets);
    }

    private void persist() throws IOException {
        List<String> lines = new ArrayList<>();
        startOffsets.forEach((epoch, offset) -> lines.add(epoch + " " + offset));
        CheckpointFile.write(file, lines);
    }
}
