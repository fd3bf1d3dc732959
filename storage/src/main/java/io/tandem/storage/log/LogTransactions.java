package io.tandem.storage.log;

import io.tandem.kafka.wire.record.ControlRecordType;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A log's open transactions: producer id to the first offset of its ongoing transaction, the first unstable offset
 * that bounds the last stable offset, and the aborted-transaction index entries written as ABORT markers arrive.
 * Mutated only under the owning {@link Log}'s lock; the first unstable offset is read without it.
 */
final class LogTransactions {
    private static final System.Logger LOG = System.getLogger(LogTransactions.class.getName());

    /** Saved by a clean close so a reopen need not read every batch header again. */
    static final String CHECKPOINT_FILE = "transaction-state-checkpoint";

    private final Map<Long, Long> ongoing = new HashMap<>();
    /**
     * Transactions whose marker is in the log but not yet below the high watermark, marker offset to first offset:
     * still unstable, as Kafka's ProducerStateManager.unreplicatedTxns, so a read_committed consumer never reads a
     * transaction's records before its marker is replicated (a leader lost before then leaves it open on the next).
     */
    private final java.util.TreeMap<Long, Long> unreplicated = new java.util.TreeMap<>();
    /** The log's high watermark as last given to {@link #onHighWatermark}. */
    private long highWatermark;
    /** The smallest first offset among open and unreplicated transactions, Long.MAX_VALUE when none. */
    private volatile long firstUnstableOffset = Long.MAX_VALUE;

    long firstUnstableOffset() {
        return firstUnstableOffset;
    }

    Map<Long, Long> open() {
        return Map.copyOf(ongoing);
    }

    /**
     * Follows one transactional batch: data opens its producer's transaction, a COMMIT or ABORT marker closes it, and
     * an ABORT also goes into {@code segment}'s transaction index when {@code recordAborts}.
     */
    void track(long producerId, boolean control, long offset, ControlRecordType marker, LogSegment segment,
               boolean recordAborts) throws IOException {
        if (!control) {
            ongoing.putIfAbsent(producerId, offset);
        } else if (marker == ControlRecordType.ABORT || marker == ControlRecordType.COMMIT) {
            Long first = ongoing.remove(producerId);
            if (first != null && offset >= highWatermark) {
                unreplicated.put(offset, first);
            }
            if (marker == ControlRecordType.ABORT && recordAborts) {
                // Kafka's ProducerStateManager.lastStableOffset(completedTxn): the next open transaction's first
                // offset, else just past the marker (transactions only awaiting replication do not count).
                long lastStable = Math.min(firstOngoingOffset(), offset + 1);
                segment.txnIndex().append(new AbortedTransaction(producerId, first == null ? offset : first,
                        offset, lastStable));
            }
        }
        updateFirstUnstableOffset();
    }

    /**
     * Rebuilds the open transactions by reading every batch header of {@code segments} (and the key of each control
     * record); segments from {@code rebuildIndexesFrom} on also get their transaction index rewritten (they were
     * recovered, so theirs may be stale). Runs after an unclean shutdown and after truncation.
     */
    void rebuild(Collection<LogSegment> segments, long rebuildIndexesFrom) throws IOException {
        ongoing.clear();
        unreplicated.clear();
        for (LogSegment segment : segments) {
            boolean rebuild = segment.baseOffset() >= rebuildIndexesFrom;
            if (rebuild) {
                segment.txnIndex().reset();
            }
            for (LogSegment.BatchPosition batch : segment.batches()) {
                if (batch.isTransactional()) {
                    track(batch.producerId(), batch.isControl(), batch.baseOffset(),
                            batch.isControl() ? segment.controlTypeAt(batch) : null, segment, rebuild);
                }
            }
        }
        updateFirstUnstableOffset();
    }

    /**
     * Takes the open transactions a clean close saved in {@code dir}, if they belong to this log end offset; false when
     * there is no such checkpoint (the caller then rebuilds). The file is consumed either way.
     */
    boolean restore(Path dir, long logEndOffset) throws IOException {
        Path file = dir.resolve(CHECKPOINT_FILE);
        if (!Files.exists(file)) {
            return false;
        }
        try {
            List<String[]> entries = CheckpointFile.read(file);
            if (entries.isEmpty() || !entries.get(0)[0].equals("end")
                    || Long.parseLong(entries.get(0)[1]) != logEndOffset) {
                return false;
            }
            Map<Long, Long> saved = new HashMap<>();
            for (String[] entry : entries.subList(1, entries.size())) {
                saved.put(Long.parseLong(entry[0]), Long.parseLong(entry[1]));
            }
            ongoing.clear();
            ongoing.putAll(saved);
            updateFirstUnstableOffset();
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "ignoring unreadable " + file, e);
            return false;
        } finally {
            // Valid only for the state it was written in; the next clean close writes a fresh one.
            Files.deleteIfExists(file);
        }
    }

    /** Saves the open transactions for a reopen at {@code logEndOffset} (a clean close). */
    void save(Path dir, long logEndOffset) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("end " + logEndOffset);
        ongoing.forEach((producerId, first) -> lines.add(producerId + " " + first));
        CheckpointFile.write(dir.resolve(CHECKPOINT_FILE), lines);
    }

    /**
     * The high watermark moved to {@code offset} (or was set after a truncation or at open): transactions whose
     * marker is now below it are stable (Kafka's ProducerStateManager.onHighWatermarkUpdated).
     */
    void onHighWatermark(long offset) {
        highWatermark = offset;
        if (!unreplicated.isEmpty()) {
            unreplicated.headMap(offset, false).clear();
            updateFirstUnstableOffset();
        }
    }

    private long firstOngoingOffset() {
        long min = Long.MAX_VALUE;
        for (long first : ongoing.values()) {
            min = Math.min(min, first);
        }
        return min;
    }

    private void updateFirstUnstableOffset() {
        long min = firstOngoingOffset();
        for (long first : unreplicated.values()) {
            min = Math.min(min, first);
        }
        firstUnstableOffset = min;
    }
}
