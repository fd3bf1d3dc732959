package io.tandem.storage.log;

import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.RecordBatch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * What one cleaning pass knows about transactions while it reads the log in offset order, after Kafka's
 * {@code CleanedTransactionMetadata}: which producers' batches are aborted (from the aborted-transaction index), and
 * whether a transaction marker still guards data. A pass reads every batch from the start of the log, so "seen in this
 * pass" means "still in the log".
 * <ul>
 * <li>A transactional data batch whose producer has an aborted transaction open at that offset is aborted: its records
 *     go.</li>
 * <li>An ABORT marker must stay while any batch of its transaction was seen in this pass (a read_committed consumer
 *     needs it to stop dropping that producer's records); its index entry stays with it. Otherwise the transaction is
 *     empty: the marker may go after delete.retention.ms and its index entry goes now.</li>
 * <li>A COMMIT marker may go (after delete.retention.ms) once no batch of its transaction was seen in this pass.</li>
 * </ul>
 */
final class CleanedTransactions {
    private static final class OpenAbort {
        final AbortedTransaction txn;
        boolean seen;

        OpenAbort(AbortedTransaction txn) {
            this.txn = txn;
        }
    }

    private final PriorityQueue<AbortedTransaction> upcoming =
            new PriorityQueue<>(Comparator.comparingLong(AbortedTransaction::firstOffset));
    private final Map<Long, OpenAbort> openAborts = new HashMap<>();
    private final Set<Long> openCommits = new HashSet<>();
    private final List<AbortedTransaction> retainedEntries = new ArrayList<>();

    CleanedTransactions(Collection<AbortedTransaction> aborted) {
        upcoming.addAll(aborted);
    }

    /** True when {@code batch} (a data batch) belongs to an aborted transaction, so none of its records stay. */
    boolean isAborted(RecordBatch batch) {
        openAbortsUpTo(batch.lastOffset());
        if (!batch.isTransactional()) {
            return false;
        }
        OpenAbort abort = openAborts.get(batch.producerId());
        if (abort != null) {
            abort.seen = true;
            return true;
        }
        openCommits.add(batch.producerId());
        return false;
    }

    /** True when {@code batch} (a control batch) no longer guards any data and may go once past its delete horizon. */
    boolean isDiscardable(RecordBatch batch) {
        openAbortsUpTo(batch.lastOffset());
        if (batch.recordCount() == 0) {
            return true; // a marker an earlier cleaning emptied
        }
        ControlRecordType type = LogSegment.controlType(batch);
        if (type == ControlRecordType.ABORT) {
            OpenAbort abort = openAborts.remove(batch.producerId());
            if (abort != null && abort.seen) {
                retainedEntries.add(abort.txn);
                return false;
            }
            return true;
        }
        if (type == ControlRecordType.COMMIT) {
            return !openCommits.remove(batch.producerId());
        }
        return false;
    }

    /** The aborted-transaction index entries kept since the last call, in marker order (one segment's worth). */
    List<AbortedTransaction> takeRetainedEntries() {
        List<AbortedTransaction> taken = List.copyOf(retainedEntries);
        retainedEntries.clear();
        return taken;
    }

    private void openAbortsUpTo(long offset) {
        while (!upcoming.isEmpty() && upcoming.peek().firstOffset() <= offset) {
            AbortedTransaction txn = upcoming.poll();
            openAborts.put(txn.producerId(), new OpenAbort(txn));
        }
    }
}
