package io.tandem.server.kafka.producer;

import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.EndTxnMarker;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordIterator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The idempotent-producer state of one partition: per producer id its epoch and the metadata of its last
 * {@value #CACHED_BATCHES_MAX} batches. A retried batch that is still cached is a duplicate and is answered with
 * its original offsets (Kafka answers success, not DUPLICATE_SEQUENCE_NUMBER); a gap or a stale sequence is
 * OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH. After a restart the table is restored
 * from the partition's latest snapshot ({@link ProducerStateSnapshots}) and the batches after it are replayed through
 * {@link #replay}. Not thread-safe: the partition's single writer owns it.
 */
public final class ProducerStateTable {
    /** Kafka's max.in.flight.requests.per.connection ceiling for idempotence: the client retries at most 5. */
    public static final int CACHED_BATCHES_MAX = 5;
    public static final long NO_PRODUCER_ID = -1;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;

    /** One appended batch as the table remembers it. */
    public record BatchMetadata(int firstSequence, int lastSequence, long firstOffset, long lastOffset,
                                long maxTimestamp) {
    }

    /** The verdict on a batch about to be appended. */
    public record Check(short error, BatchMetadata duplicateOf) {
        static final Check APPEND = new Check(NONE, null);

        public boolean isDuplicate() {
            return duplicateOf != null;
        }

        public boolean shouldAppend() {
            return error == NONE && duplicateOf == null;
        }
    }

    /** Kafka's RecordBatch.NO_PARTITION_LEADER_EPOCH, the coordinator epoch before any marker. */
    public static final int NO_COORDINATOR_EPOCH = -1;

    /** One producer as DescribeProducers reports it. */
    public record ProducerSnapshot(long producerId, short epoch, int lastSequence, long lastTimestamp,
                                   int coordinatorEpoch) {
    }

    private static final class ProducerEntry {
        short epoch = NO_PRODUCER_EPOCH;
        final ArrayDeque<BatchMetadata> batches = new ArrayDeque<>(CACHED_BATCHES_MAX);
        long lastTimestamp = -1;
        /** The coordinator epoch of the last transaction marker: markers of older coordinators are fenced. */
        int coordinatorEpoch = NO_COORDINATOR_EPOCH;

        int lastSequence() {
            return batches.isEmpty() ? NO_SEQUENCE : batches.peekLast().lastSequence();
        }
    }

    private final Map<Long, ProducerEntry> producers = new HashMap<>();

    /**
     * Verifications under way at most per partition. Each transactional producer id with no transaction open here
     * holds one until its batch is appended, a marker ends it or it expires, and a client can make up producer ids, so
     * the map is bounded; past the bound a new verification is refused with a retriable error (see
     * {@link #startVerification}).
     */
    public static final int VERIFICATIONS_MAX = 10_000;

    /**
     * One producer's verification under way (Kafka's VerificationStateEntry): the guard the coordinator's answer must
     * bring back, the epoch it was started at, the lowest first sequence of a batch that asked for it at that epoch,
     * and whether it is transaction version 2's (whose marker carries the epoch of the next transaction, so a marker
     * at the verified epoch does not end it).
     */
    private record Verification(VerificationGuard guard, short epoch, int lowestSequence, boolean supportsEpochBump,
                                long startedMs) {
    }

    /** Verifications under way by producer id, oldest first. */
    private final Map<Long, Verification> verifications = new LinkedHashMap<>();

    /** Decides what to do with a batch of {@code recordCount} records from the given producer. */
    public Check check(long producerId, short epoch, int firstSequence, int recordCount) {
        if (producerId == NO_PRODUCER_ID) return Check.APPEND;
        ProducerEntry entry = producers.get(producerId);
        if (entry != null && epoch < entry.epoch) return new Check(INVALID_PRODUCER_EPOCH, null);
        int lastSequence = lastSequenceOf(firstSequence, recordCount);
        if (entry != null && epoch == entry.epoch) {
            for (BatchMetadata batch : entry.batches) {
                if (batch.firstSequence() == firstSequence && batch.lastSequence() == lastSequence) {
                    return new Check(NONE, batch);
                }
            }
        }
        if (firstSequence != NO_SEQUENCE && outOfOrderWhileVerifying(producerId, entry, firstSequence)) {
            return new Check(OUT_OF_ORDER_SEQUENCE_NUMBER, null);
        }
        if (entry == null) {
            // Unknown producer: accept any sequence, as Kafka does when retention or DeleteRecords removed its state.
            return Check.APPEND;
        }
        if (epoch == entry.epoch) {
            // With no batch cached at this epoch (a marker moved the producer to it: transaction version 2 bumps the
            // epoch with every marker) the epoch's first batch must be sequence 0, as in Kafka's checkSequence: a
            // later batch overtaking a retried first one would otherwise be taken, and the first refused for ever.
            // A batch without a sequence is a coordinator's (transactional offsets): Kafka checks sequences of client
            // appends only.
            int currentLast = entry.lastSequence();
            if (firstSequence != NO_SEQUENCE && !inSequence(currentLast, firstSequence)) {
                return new Check(OUT_OF_ORDER_SEQUENCE_NUMBER, null);
            }
        } else if (firstSequence != 0 && firstSequence != NO_SEQUENCE && entry.epoch != NO_PRODUCER_EPOCH) {
            // A bumped epoch starts its sequences over at 0. A coordinator's batch carries none: the first offsets of
            // a producer whose epoch InitProducerId bumped with no marker here (a restarted Streams instance re-using
            // its transactional id) come at a newer epoch than this partition has seen, and Kafka takes them.
            return new Check(OUT_OF_ORDER_SEQUENCE_NUMBER, null);
        }
        return Check.APPEND;
    }

    /**
     * Kafka's sequence rules while a verification of the producer is under way (ProducerAppendInfo.checkSequence, for
     * a client's batch): a batch whose first sequence is above the lowest one a verification was asked for must wait
     * for that one, so a lower batch that failed its verification with a retriable error and is being retried is not
     * overtaken, after which it would be refused as out of order for ever (Kafka 3.6's VerificationStateEntry); and a
     * transaction version 2 producer with no batch here starts at sequence 0 (Kafka 4.1's KAFKA-18202), since its
     * epoch bumps with every transaction and a producer that truly has no state here has sent nothing yet.
     */
    private boolean outOfOrderWhileVerifying(long producerId, ProducerEntry entry, int firstSequence) {
        Verification v = verifications.get(producerId);
        if (v == null) return false;
        boolean noBatch = entry == null || entry.batches.isEmpty();
        if (v.supportsEpochBump() && firstSequence != 0 && noBatch) return true;
        // Compared as Kafka compares them, without the wrap from Integer.MAX_VALUE to 0.
        return firstSequence > v.lowestSequence();
    }

    /** Records an appended batch (or one found in the log during recovery). */
    public void record(long producerId, short epoch, int firstSequence, int recordCount, long firstOffset,
                       long lastOffset, long maxTimestamp) {
        if (producerId == NO_PRODUCER_ID) return;
        ProducerEntry entry = producers.computeIfAbsent(producerId, id -> new ProducerEntry());
        if (epoch != entry.epoch) {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.lastTimestamp = maxTimestamp;
        if (firstSequence == NO_SEQUENCE) return;
        if (entry.batches.size() == CACHED_BATCHES_MAX) entry.batches.removeFirst();
        entry.batches.addLast(new BatchMetadata(firstSequence, lastSequenceOf(firstSequence, recordCount),
                firstOffset, lastOffset, maxTimestamp));
    }

    /**
     * Decides on a transaction marker (Kafka's appendEndTxnMarker checks): an epoch older than the producer's is
     * INVALID_PRODUCER_EPOCH, a coordinator epoch older than the last marker's is TRANSACTION_COORDINATOR_FENCED.
     */
    public short checkMarker(long producerId, short epoch, int coordinatorEpoch) {
        return checkMarker(producerId, epoch, coordinatorEpoch, false);
    }

    /**
     * As {@link #checkMarker(long, short, int)}; {@code bumpedEpoch}: a marker of transaction version 2 (WriteTxnMarkers
     * v2), whose epoch was bumped when the transaction ended, so Kafka 4.4 requires it to be newer than the producer's
     * (an equal epoch is a stale marker).
     */
    public short checkMarker(long producerId, short epoch, int coordinatorEpoch, boolean bumpedEpoch) {
        ProducerEntry entry = producers.get(producerId);
        if (entry == null) return NONE;
        if (epoch < entry.epoch || (bumpedEpoch && epoch == entry.epoch)) return INVALID_PRODUCER_EPOCH;
        if (coordinatorEpoch < entry.coordinatorEpoch) return TRANSACTION_COORDINATOR_FENCED;
        return NONE;
    }

    /** Records an appended transaction marker (or one found in the log): epoch and coordinator epoch move on. */
    public void recordMarker(long producerId, short epoch, int coordinatorEpoch, long timestamp) {
        if (producerId == NO_PRODUCER_ID) return;
        ProducerEntry entry = producers.computeIfAbsent(producerId, id -> new ProducerEntry());
        if (epoch != entry.epoch) {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.coordinatorEpoch = coordinatorEpoch;
        entry.lastTimestamp = timestamp;
    }

    /**
     * Starts (or joins) the verification of a producer's next transaction on this partition, as Kafka's
     * ProducerStateManager.maybeCreateVerificationStateEntry: the guard already under way for the producer is reused
     * (a retried produce joins its first try), its epoch moved up to a newer one; otherwise a new guard.
     * {@code firstSequence} is the first sequence of the batch that asks ({@link #NO_SEQUENCE} for a coordinator's
     * append): the lowest one at the verification's epoch is kept, a newer epoch starts over from its own (Kafka's
     * maybeUpdateLowestSequenceAndEpoch), and {@link #check} holds higher ones back until it is in. Null when
     * {@link #VERIFICATIONS_MAX} verifications are under way already. The caller checks the epoch and that no
     * transaction is open.
     */
    public VerificationGuard startVerification(long producerId, short epoch, int firstSequence,
                                               boolean supportsEpochBump, long nowMs) {
        Verification existing = verifications.get(producerId);
        if (existing != null) {
            if (epoch > existing.epoch()) {
                verifications.put(producerId, new Verification(existing.guard(), epoch, firstSequence,
                        existing.supportsEpochBump() || supportsEpochBump, existing.startedMs()));
            } else if (epoch == existing.epoch() && firstSequence < existing.lowestSequence()) {
                verifications.put(producerId, new Verification(existing.guard(), epoch, firstSequence,
                        existing.supportsEpochBump(), existing.startedMs()));
            }
            return existing.guard();
        }
        if (verifications.size() >= VERIFICATIONS_MAX) return null;
        VerificationGuard guard = new VerificationGuard();
        verifications.put(producerId, new Verification(guard, epoch, firstSequence, supportsEpochBump, nowMs));
        return guard;
    }

    /** The guard of the producer's verification under way, or {@link VerificationGuard#SENTINEL} when there is none. */
    public VerificationGuard verificationGuard(long producerId) {
        Verification v = verifications.get(producerId);
        return v == null ? VerificationGuard.SENTINEL : v.guard();
    }

    /**
     * A transactional batch or a marker of the producer went into the log: its verification is over, as Kafka's
     * UnifiedLog.updateProducers clears it (either the transaction now has a first offset here, or it ended). The one
     * exception is Kafka 4.x's: a transaction version 2 marker at the epoch a verification was started at ends the
     * previous transaction, while the verified one is the next (the marker carries its bumped epoch).
     */
    public void transactionalAppended(long producerId, short epoch, boolean marker) {
        Verification v = verifications.get(producerId);
        if (v == null) return;
        if (marker && v.supportsEpochBump() && v.epoch() == epoch) return;
        verifications.remove(producerId);
    }

    /** Why an append or a verification is refused, in Kafka's words. */
    public record Refusal(short error, String message) {
    }

    /** Kafka 4.x's early check: an epoch older than the producer's is INVALID_PRODUCER_EPOCH; null when it is not. */
    public Refusal checkEpoch(long producerId, short epoch) {
        short known = epochOf(producerId);
        if (known == NO_PRODUCER_EPOCH || epoch >= known) return null;
        return new Refusal(INVALID_PRODUCER_EPOCH, "Epoch of producer " + producerId + " is " + epoch
                + ", which is smaller than the last seen epoch " + known);
    }

    /**
     * Kafka's check of a client's transactional batch for a producer without a transaction open at its epoch: a stale
     * epoch first (INVALID_PRODUCER_EPOCH), then the guard it brings must be the one under way (INVALID_TXN_STATE
     * otherwise: no verification, or one a marker ended since). Null when it may be appended.
     */
    public Refusal checkVerified(long producerId, short epoch, VerificationGuard requested) {
        Refusal stale = checkEpoch(producerId, epoch);
        if (stale != null) return stale;
        if (verificationGuard(producerId).verify(requested)) return null;
        return new Refusal(INVALID_TXN_STATE, "Record was not part of an ongoing transaction");
    }

    /** Verifications under way (tests and diagnostics). */
    public int verificationCount() {
        return verifications.size();
    }

    /** Replays a batch read from the log (recovery, a follower's append): data batches and transaction markers. */
    public void replay(RecordBatch batch) {
        if (!batch.hasProducerId()) return;
        if (batch.isTransactional()) transactionalAppended(batch.producerId(), batch.producerEpoch(), batch.isControl());
        if (batch.isControl()) {
            int coordinatorEpoch = NO_COORDINATOR_EPOCH;
            try (RecordIterator records = batch.records()) {
                if (records.hasNext()) {
                    Record record = records.next();
                    ControlRecordType type = ControlRecordType.parse(record.key());
                    if (type == ControlRecordType.COMMIT || type == ControlRecordType.ABORT) {
                        coordinatorEpoch = EndTxnMarker.read(record).coordinatorEpoch();
                    }
                }
            } catch (CorruptRecordException e) {
                // A marker this broker cannot read still moved the epoch; its coordinator epoch stays unknown.
            }
            recordMarker(batch.producerId(), batch.producerEpoch(), coordinatorEpoch, batch.maxTimestamp());
        } else {
            record(batch.producerId(), batch.producerEpoch(), batch.baseSequence(), batch.recordCount(),
                    batch.baseOffset(), batch.lastOffset(), batch.maxTimestamp());
        }
    }

    /** Every producer the table knows, for DescribeProducers. */
    public List<ProducerSnapshot> snapshot() {
        List<ProducerSnapshot> result = new ArrayList<>(producers.size());
        for (Map.Entry<Long, ProducerEntry> e : producers.entrySet()) {
            ProducerEntry entry = e.getValue();
            result.add(new ProducerSnapshot(e.getKey(), entry.epoch, entry.lastSequence(), entry.lastTimestamp,
                    entry.coordinatorEpoch));
        }
        return result;
    }

    /**
     * One producer as a snapshot file keeps it, in Kafka's layout: its epoch, coordinator epoch, last timestamp, and
     * its last batch only (sequence, offset, and the span back to the batch's first), so after a restart a retry of
     * that batch is still recognised, as with Kafka.
     */
    public record SnapshotEntry(long producerId, short epoch, int lastSequence, long lastOffset, int offsetDelta,
                                long timestamp, int coordinatorEpoch) {
    }

    /** The table as a snapshot keeps it. */
    public List<SnapshotEntry> snapshotEntries() {
        List<SnapshotEntry> entries = new ArrayList<>(producers.size());
        for (Map.Entry<Long, ProducerEntry> e : producers.entrySet()) {
            ProducerEntry entry = e.getValue();
            BatchMetadata last = entry.batches.peekLast();
            entries.add(new SnapshotEntry(e.getKey(), entry.epoch,
                    last == null ? NO_SEQUENCE : last.lastSequence(), last == null ? -1 : last.lastOffset(),
                    last == null ? 0 : (int) (last.lastOffset() - last.firstOffset()), entry.lastTimestamp,
                    entry.coordinatorEpoch));
        }
        return entries;
    }

    /** A table holding what a snapshot kept; batches after the snapshot are then replayed into it. */
    public static ProducerStateTable restore(List<SnapshotEntry> entries) {
        ProducerStateTable table = new ProducerStateTable();
        for (SnapshotEntry e : entries) {
            ProducerEntry entry = new ProducerEntry();
            entry.epoch = e.epoch();
            entry.lastTimestamp = e.timestamp();
            entry.coordinatorEpoch = e.coordinatorEpoch();
            if (e.lastSequence() != NO_SEQUENCE) {
                long first = (long) e.lastSequence() - e.offsetDelta();
                int firstSequence = (int) (first < 0 ? first + Integer.MAX_VALUE + 1L : first);
                entry.batches.addLast(new BatchMetadata(firstSequence, e.lastSequence(),
                        e.lastOffset() - e.offsetDelta(), e.lastOffset(), e.timestamp()));
            }
            table.producers.put(e.producerId(), entry);
        }
        return table;
    }

    /** Sequences wrap from Integer.MAX_VALUE to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
    static int lastSequenceOf(int firstSequence, int recordCount) {
        if (firstSequence == NO_SEQUENCE) return NO_SEQUENCE;
        long last = (long) firstSequence + recordCount - 1;
        return last > Integer.MAX_VALUE ? (int) (last - Integer.MAX_VALUE - 1) : (int) last;
    }

    private static boolean inSequence(int lastSequence, int nextSequence) {
        return nextSequence == lastSequence + 1L || (nextSequence == 0 && lastSequence == Integer.MAX_VALUE);
    }

    /** The epoch the table knows for a producer, or {@link #NO_PRODUCER_EPOCH}. */
    public short epochOf(long producerId) {
        ProducerEntry entry = producers.get(producerId);
        return entry == null ? NO_PRODUCER_EPOCH : entry.epoch;
    }

    /**
     * Forgets producers whose last batch is at least {@code expirationMs} old (Kafka's producer.id.expiration.ms),
     * judged like Kafka by the batch's max timestamp, so the table does not grow with every producer id ever seen.
     * A forgotten producer that comes back is treated as unknown: its next sequence is accepted as it comes.
     * Returns how many were forgotten.
     */
    public int expire(long nowMs, long expirationMs) {
        // Verifications never answered (a producer that went away) go with the same expiry, as in Kafka.
        verifications.values().removeIf(v -> nowMs - v.startedMs() >= expirationMs);
        int expired = 0;
        for (Iterator<ProducerEntry> it = producers.values().iterator(); it.hasNext(); ) {
            if (nowMs - it.next().lastTimestamp >= expirationMs) {
                it.remove();
                expired++;
            }
        }
        return expired;
    }

    /** Forgets everything, e.g. before rebuilding from the log after a truncation. */
    public void clear() {
        producers.clear();
        verifications.clear();
    }

    public int producerCount() {
        return producers.size();
    }
}
