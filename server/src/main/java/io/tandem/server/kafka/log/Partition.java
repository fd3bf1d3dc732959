package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.ControlRecordType;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.EndTxnMarker;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.ProducerStateSnapshots;
import io.tandem.server.kafka.producer.ProducerStateTable;
import io.tandem.server.kafka.producer.VerificationGuard;
import io.tandem.server.kafka.replica.IsrTracker;
import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogAppendInfo;
import io.tandem.storage.log.LogConfig;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * One partition replica on this broker: its log, its idempotent-producer state and its role in replication. As
 * leader it appends produced batches and tracks its followers ({@link IsrTracker}) to move the high watermark; as
 * follower it appends what its fetcher brings from the leader, offsets and epochs kept. Appends are serialised on
 * the partition (one writer at a time); reads go straight to the log, which needs no lock for them.
 */
public final class Partition {
    /** No leader known (Kafka's NoLeader). */
    public static final int NO_LEADER = -1;
    /** Kafka's file naming the topic id a partition directory belongs to (KIP-516). */
    static final String TOPIC_ID_FILE = TopicIdFile.NAME;
    private final TopicPartition topicPartition;
    private final int localBrokerId;
    private final Log log;
    private ProducerStateTable producers = new ProducerStateTable();
    private final PartitionLeadership leadership;
    /** The active segment when the producer state was last snapshotted: a roll past it takes the next snapshot. */
    private long snapshotSegmentBase;
    /** Where opening this partition began replaying batches into the producer state (its snapshot, or the log start). */
    private long producerStateReplayedFrom;
    /** The topic id this replica was made for ({@link #TOPIC_ID_FILE}), or null before a controller named it. */
    private volatile java.util.UUID topicId;

    /**
     * Tests only: told the thread and the records of every append (clients' and coordinators'), so that a test can
     * prove that no Netty event loop ever runs one (DESIGN's threading rule: nothing blocks an event loop on disk) and
     * that every append hands the produce path one buffer type ({@link RecordBuffers}). Null, the default, costs one
     * read.
     */
    private static volatile BiConsumer<Thread, ByteBuf> appendWatcher;

    /**
     * Told of every append a coordinator made (group offsets and metadata, transaction and share state), once the
     * partition's lock is released: the broker wakes the fetches parked on the partition, as Kafka's ReplicaManager
     * completes the delayed fetches of whatever it appended (the fetches only: a coordinator appends under its own
     * lock, and a parked fetch's answer takes no coordinator's lock, where an acks=all wait's callback might; nor
     * need those waits a wake here, since each is parked after its own append). Without it a follower parked at the log end got a
     * coordinator's record only when its fetch's max wait ran out (500 ms), and a leader moved in that window lost it
     * (a LeaveGroup's record: the next coordinator still had the member, and a new join waited out its session).
     * A client's produce wakes them itself, once every partition of its request is appended.
     */
    private final Consumer<TopicPartition> coordinatorAppended;

    /** What a produce to this partition came to; {@code recordErrors} name the records a refusal was for. */
    public record AppendResult(short error, String errorMessage, long baseOffset, long lastOffset,
                               long logAppendTimeMs, long logStartOffset, List<LogValidator.RecordError> recordErrors) {
        AppendResult(short error, String errorMessage, long baseOffset, long lastOffset, long logAppendTimeMs,
                     long logStartOffset) {
            this(error, errorMessage, baseOffset, lastOffset, logAppendTimeMs, logStartOffset, List.of());
        }

        static AppendResult error(short error, String message, long logStartOffset) {
            return new AppendResult(error, message, -1, -1, -1, logStartOffset);
        }
    }

    Partition(TopicPartition topicPartition, int localBrokerId, Log log, Consumer<TopicPartition> coordinatorAppended)
            throws IOException {
        this.topicPartition = topicPartition;
        this.localBrokerId = localBrokerId;
        this.log = log;
        this.coordinatorAppended = coordinatorAppended;
        this.leadership = new PartitionLeadership(localBrokerId, log);
        restoreProducerState();
        this.snapshotSegmentBase = log.activeSegmentBaseOffset();
        this.topicId = TopicIdFile.read(log.dir());
    }

    /** The topic id this replica was made for, or null when no controller has named it yet. */
    public java.util.UUID topicId() {
        return topicId;
    }

    /**
     * The controller names the topic id of this partition (LeaderAndIsr). A replica stored under another id belongs
     * to a deleted topic of the same name whose StopReplica never reached this broker (it was down or cut off while
     * the topic was deleted): its records are not the new topic's, so it becomes empty from offset 0, with no leader
     * epoch, as if the deletion had reached it. Returns whether it was emptied.
     */
    public synchronized boolean adoptTopicId(java.util.UUID id) throws IOException {
        if (id.equals(topicId)) return false;
        boolean stale = topicId != null;
        if (stale) {
            log.truncateFullyAndStartAt(0);
            ProducerStateSnapshots.deleteAbove(log.dir(), -1);
            producers = new ProducerStateTable();
            snapshotSegmentBase = log.activeSegmentBaseOffset();
            leadership.forget();
        }
        TopicIdFile.write(log.dir(), id);
        topicId = id;
        return stale;
    }

    /**
     * LeaderAndIsr made this broker the leader at {@code epoch}: the epoch starts at the log end offset, followers'
     * progress starts unknown (so the high watermark waits for them), and every record this log holds beyond the
     * old high watermark becomes committed only once the ISR has it.
     */
    public synchronized void makeLeader(int epoch, List<Integer> isr, int zkVersion, List<Integer> replicas, long nowMs)
            throws IOException {
        leadership.takeLead(epoch, isr, zkVersion, replicas, nowMs, true);
    }

    /**
     * {@link #makeLeader} without the fsync of the leader-epoch checkpoint, which the caller does with
     * {@link #flushLeaderEpochs} before it announces the leadership (a LeaderAndIsr making this broker the leader of
     * many partitions writes their checkpoints side by side: one after another they were 50 fsyncs in a row when
     * {@code __consumer_offsets} is created, the longest part of a fresh node's first group join).
     */
    public synchronized void makeLeaderUnflushed(int epoch, List<Integer> isr, int zkVersion, List<Integer> replicas,
                                                 long nowMs) throws IOException {
        leadership.takeLead(epoch, isr, zkVersion, replicas, nowMs, false);
    }

    /** Writes the leader-epoch checkpoint {@link #makeLeaderUnflushed} left in memory (nothing when unchanged). */
    public void flushLeaderEpochs() throws IOException {
        log.flushLeaderEpochs();
    }

    /** LeaderAndIsr made {@code leader} the leader at {@code epoch} and this broker a follower. */
    public synchronized void makeFollower(int leader, int epoch, List<Integer> replicas) {
        leadership.follow(leader, epoch, replicas);
    }

    public boolean isLeader() {
        return leadership.isLeader();
    }

    public int leaderId() {
        return leadership.leaderId();
    }

    public List<Integer> replicas() {
        return leadership.replicas();
    }

    /** The leader's follower bookkeeping, or null on a follower. */
    public IsrTracker isrTracker() {
        return leadership.isrTracker();
    }

    public long leaderEpochStartOffset() {
        return leadership.leaderEpochStartOffset();
    }

    /** The ISR this leader has committed; empty on a follower. */
    public List<Integer> inSyncReplicas() {
        return leadership.inSyncReplicas();
    }

    /**
     * Leader only: moves the high watermark to what the maximal ISR allows, never back. Returns whether it moved
     * (parked acks=all produces and long polls on the partition may now complete).
     */
    public boolean maybeIncrementHighWatermark() {
        return leadership.maybeIncrementHighWatermark();
    }

    /** Leader only: a follower fetched from {@code fetchOffset}; returns whether the high watermark moved. */
    public boolean recordFollowerFetch(int replica, long fetchOffset, long nowMs) {
        return leadership.recordFollowerFetch(replica, fetchOffset, IsrTracker.UNKNOWN_OFFSET, nowMs);
    }

    /** The same, with the log start offset the follower named (Fetch v5+), which a replica selector weighs. */
    public boolean recordFollowerFetch(int replica, long fetchOffset, long followerLogStartOffset, long nowMs) {
        return leadership.recordFollowerFetch(replica, fetchOffset, followerLogStartOffset, nowMs);
    }

    /** Follower only: the leader's high watermark, capped by what this replica holds. */
    public void followerHighWatermark(long leaderHighWatermark) {
        leadership.followerHighWatermark(leaderHighWatermark);
    }

    /** Follower append: the leader's batches, offsets and epochs kept; the producer state follows them. */
    public synchronized void appendAsFollower(ByteBuf records) throws IOException {
        log.appendAsFollower(records);
        for (RecordBatch batch : RecordBatches.of(records)) {
            if (batch.magic() == RecordBatch.MAGIC && batch.hasProducerId()) producers.replay(batch);
        }
        snapshotProducerStateOnRoll();
    }

    /** Follower truncation to where its log and the leader's agree; the producer state is rebuilt to match. */
    public synchronized void truncateTo(long offset) throws IOException {
        if (offset >= log.logEndOffset()) {
            log.truncateTo(offset); // trims an empty epoch at the log end, nothing else
            return;
        }
        log.truncateTo(offset);
        ProducerStateSnapshots.deleteAbove(log.dir(), log.logEndOffset());
        producers = new ProducerStateTable();
        restoreProducerState();
        snapshotSegmentBase = log.activeSegmentBaseOffset();
    }

    /** Follower far behind a leader whose log start passed it: empty again from the leader's log start. */
    public synchronized void truncateFullyAndStartAt(long offset) throws IOException {
        log.truncateFullyAndStartAt(offset);
        ProducerStateSnapshots.deleteAbove(log.dir(), -1);
        producers = new ProducerStateTable();
        snapshotSegmentBase = log.activeSegmentBaseOffset();
    }

    /** Every record up to the log end offset, committed or not: what a follower's fetch reads. */
    public LogSlice readForReplica(long offset, int maxBytes) throws IOException {
        return log.read(offset, maxBytes, log.logEndOffset(), true);
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public Log log() {
        return log;
    }

    public int leaderEpoch() {
        return leadership.leaderEpoch();
    }

    public long logStartOffset() {
        return log.logStartOffset();
    }

    public long logEndOffset() {
        return log.logEndOffset();
    }

    public long highWatermark() {
        return log.highWatermark();
    }

    /**
     * The last stable offset: the high watermark, or the first offset of the oldest transaction still open in this
     * log when that is lower. read_committed consumers read up to here.
     */
    public long lastStableOffset() {
        return log.lastStableOffset();
    }

    /**
     * The producer state as of the log end: the newest snapshot not past it, then the batches after the snapshot
     * replayed; with no usable snapshot, every batch of the log.
     */
    private void restoreProducerState() throws IOException {
        ProducerStateSnapshots.Loaded snapshot = ProducerStateSnapshots.loadLatest(log.dir(), log.logEndOffset());
        long from = log.logStartOffset();
        if (snapshot != null) {
            producers = snapshot.table();
            from = Math.max(from, snapshot.offset());
        }
        producerStateReplayedFrom = from;
        replayProducerState(from);
    }

    /** Where opening (or the last truncation) began replaying the log into the producer state. */
    public long producerStateReplayedFrom() {
        return producerStateReplayedFrom;
    }

    /**
     * After an append: when the log rolled to a new segment, the producer state is written as of the log end (as
     * Kafka snapshots it at each roll), so a restart replays at most what came after.
     */
    private void snapshotProducerStateOnRoll() throws IOException {
        long active = log.activeSegmentBaseOffset();
        if (active == snapshotSegmentBase) return;
        snapshotSegmentBase = active;
        ProducerStateSnapshots.write(log.dir(), log.logEndOffset(), producers);
    }

    /** At a clean shutdown, before the log closes: the next start replays nothing. */
    public synchronized void snapshotProducerState() throws IOException {
        ProducerStateSnapshots.write(log.dir(), log.logEndOffset(), producers);
    }

    private void replayProducerState(long from) throws IOException {
        long offset = from;
        while (offset < log.logEndOffset()) {
            LogSlice slice = log.read(offset, 1 << 20, Long.MAX_VALUE, true);
            if (slice.isEmpty()) break;
            ByteBuf bytes = slice.readBytes(io.netty.buffer.ByteBufAllocator.DEFAULT);
            try {
                for (RecordBatch batch : RecordBatches.of(bytes)) {
                    if (batch.magic() == RecordBatch.MAGIC && batch.hasProducerId()) producers.replay(batch);
                }
            } finally {
                bytes.release();
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
    }

    /**
     * Validates ({@link LogValidator}) and appends the records of one produce request, all or nothing, then checks
     * the set against the segment size (RECORD_LIST_TOO_LARGE) and idempotent sequences. A retried batch the producer
     * state still remembers is answered with its original offsets and not appended again.
     *
     * @param records           what the producer sent; a v2 batch appended as is has its offsets patched in place
     * @param validator         the topic's produce rules (or a coordinator's) at the time of the request
     * @param minInsyncReplicas the ISR size acks=all requires (min.insync.replicas), 0 for other acks
     */
    public AppendResult append(ByteBuf records, LogValidator validator, int minInsyncReplicas) throws IOException {
        return append(records, validator, minInsyncReplicas, null);
    }

    /**
     * As {@link #append(ByteBuf, LogValidator, int)}, for a client's produce while
     * {@code transaction.partition.verification.enable} is on: a transactional batch of a producer with no transaction
     * open here at its epoch is appended only when {@code verificationGuard} is the guard this partition still holds
     * for the producer ({@link #startTransactionVerification}), else INVALID_TXN_STATE, as Kafka's
     * UnifiedLog.analyzeAndValidateProducerState (an older epoch than the producer's is INVALID_PRODUCER_EPOCH first, as
     * in Kafka 4.x). {@link VerificationGuard#SENTINEL} when none was started (the transaction was open when the
     * request came); null to check nothing (the key is off, or not a client's append).
     */
    public AppendResult append(ByteBuf records, LogValidator validator, int minInsyncReplicas,
                               VerificationGuard verificationGuard) throws IOException {
        AppendResult result = appendLocked(records, validator, minInsyncReplicas, verificationGuard);
        if (result.error() == NONE && validator.origin() == LogValidator.Origin.COORDINATOR) {
            coordinatorAppended.accept(topicPartition);
        }
        return result;
    }

    private synchronized AppendResult appendLocked(ByteBuf records, LogValidator validator, int minInsyncReplicas,
                                                   VerificationGuard verificationGuard) throws IOException {
        BiConsumer<Thread, ByteBuf> watcher = appendWatcher;
        if (watcher != null) watcher.accept(Thread.currentThread(), records);
        IsrTracker tracker = leadership.leadingTracker();
        if (tracker == null) {
            return AppendResult.error(NOT_LEADER_OR_FOLLOWER, "Leader not local for partition " + topicPartition
                    + " on broker " + localBrokerId, logStartOffset());
        }
        List<Integer> isr = tracker.isr();
        if (isr.size() < minInsyncReplicas) {
            // Kafka's check and words: acks=all would promise copies that the ISR cannot give.
            return AppendResult.error(NOT_ENOUGH_REPLICAS, "The size of the current ISR : " + isr.size()
                    + " is insufficient to satisfy the min.isr requirement of " + minInsyncReplicas + " for partition "
                    + topicPartition + ", live replica(s) broker.id are : " + isr, logStartOffset());
        }
        LogValidator.Result validation = validator.validate(records, topicPartition);
        if (validation instanceof LogValidator.Invalid refused) {
            return new AppendResult(refused.error(), refused.errorMessage(), -1, -1, -1,
                    refused.reportsLogStartOffset() ? logStartOffset() : -1, refused.recordErrors());
        }
        LogValidator.Valid valid = (LogValidator.Valid) validation;
        try {
            return appendValidated(valid.records(), validator.logAppendTimeMs(), verificationGuard);
        } finally {
            valid.release();
        }
    }

    private AppendResult appendValidated(ByteBuf records, long logAppendTimeMs, VerificationGuard verificationGuard)
            throws IOException {
        if (records.readableBytes() > log.config().segmentBytes()) {
            return AppendResult.error(RECORD_LIST_TOO_LARGE, "record set of " + records.readableBytes()
                    + " bytes is larger than segment.bytes", logStartOffset());
        }
        List<RecordBatch> batches = new ArrayList<>();
        for (RecordBatch batch : RecordBatches.of(records)) batches.add(batch);
        for (RecordBatch batch : batches) {
            if (!batch.hasProducerId()) continue;
            ProducerStateTable.Check check = producers.check(batch.producerId(), batch.producerEpoch(),
                    batch.baseSequence(), batch.recordCount());
            if (check.isDuplicate()) {
                // Kafka answers a retried batch with the offsets it got the first time, as a success, and with the
                // timestamp it keeps for the batch (UnifiedLog.append sets the log append time from the duplicate's
                // BatchMetadata), its max timestamp under CreateTime too.
                return new AppendResult(NONE, null, check.duplicateOf().firstOffset(), check.duplicateOf().lastOffset(),
                        check.duplicateOf().maxTimestamp(), logStartOffset());
            }
            AppendResult unverified = unverified(batch, verificationGuard);
            if (unverified != null) return unverified;
            if (check.error() != NONE) {
                // Kafka's ProducerAppendInfo throws OutOfOrderSequenceException / InvalidProducerEpochException from
                // inside the log's append, and ReplicaManager answers what it caught there with no message (its
                // LogAppendResult carries one only for a RecordValidationException).
                return AppendResult.error(check.error(), null, logStartOffset());
            }
        }
        LogAppendInfo info = log.appendValidatedAsLeader(records, leadership.leaderEpoch(), logAppendTimeMs);
        // Offsets were assigned consecutively from the first one, batch by batch.
        long nextOffset = info.firstOffset();
        for (RecordBatch batch : batches) {
            long firstOffset = nextOffset;
            nextOffset += batch.lastOffsetDelta() + 1L;
            if (batch.hasProducerId()) {
                producers.record(batch.producerId(), batch.producerEpoch(), batch.baseSequence(),
                        batch.recordCount(), firstOffset, nextOffset - 1,
                        logAppendTimeMs >= 0 ? logAppendTimeMs : batch.maxTimestamp());
                if (batch.isTransactional()) producers.transactionalAppended(batch.producerId(), batch.producerEpoch(), false);
            }
        }
        snapshotProducerStateOnRoll();
        maybeIncrementHighWatermark();
        return new AppendResult(NONE, null, info.firstOffset(), info.lastOffset(),
                logAppendTimeMs >= 0 ? info.logAppendTime() : -1, logStartOffset());
    }

    /** Forgets idempotent producers idle for {@code expirationMs} (producer.id.expiration.ms); see ProducerStateTable. */
    public synchronized int expireProducers(long nowMs, long expirationMs) {
        return producers.expire(nowMs, expirationMs);
    }

    /** Committed data from {@code offset}: whole batches, at least one when {@code minOneBatch}. */
    public LogSlice read(long offset, int maxBytes, boolean minOneBatch) throws IOException {
        return log.read(offset, maxBytes, log.highWatermark(), minOneBatch);
    }

    /** What a read_committed consumer may read from {@code offset}: whole batches below the last stable offset. */
    public LogSlice readCommitted(long offset, int maxBytes, boolean minOneBatch) throws IOException {
        return log.read(offset, maxBytes, lastStableOffset(), minOneBatch);
    }

    /**
     * Leader only: appends a COMMIT or ABORT marker for the producer's transaction (WriteTxnMarkers, in Kafka's
     * checks: a marker of an older producer epoch is INVALID_PRODUCER_EPOCH, of an older coordinator epoch
     * TRANSACTION_COORDINATOR_FENCED). The log closes the producer's open transaction and indexes an abort.
     */
    public synchronized AppendResult appendTransactionMarker(long producerId, short producerEpoch, int coordinatorEpoch,
                                                             boolean commit, long nowMs, int minInsyncReplicas)
            throws IOException {
        return appendTransactionMarker(producerId, producerEpoch, coordinatorEpoch, commit, nowMs, minInsyncReplicas,
                false);
    }

    /** As above; {@code bumpedEpoch}: a transaction version 2 marker, whose epoch must be newer than the producer's. */
    public synchronized AppendResult appendTransactionMarker(long producerId, short producerEpoch, int coordinatorEpoch,
                                                             boolean commit, long nowMs, int minInsyncReplicas,
                                                             boolean bumpedEpoch) throws IOException {
        IsrTracker tracker = leadership.leadingTracker();
        if (tracker == null) {
            return AppendResult.error(NOT_LEADER_OR_FOLLOWER, "Leader not local for partition " + topicPartition
                    + " on broker " + localBrokerId, logStartOffset());
        }
        if (tracker.isr().size() < minInsyncReplicas) {
            return AppendResult.error(NOT_ENOUGH_REPLICAS, "The size of the current ISR : " + tracker.isr().size()
                    + " is insufficient to satisfy the min.isr requirement of " + minInsyncReplicas + " for partition "
                    + topicPartition, logStartOffset());
        }
        short error = producers.checkMarker(producerId, producerEpoch, coordinatorEpoch, bumpedEpoch);
        if (error != NONE) {
            return AppendResult.error(error, "marker of producer " + producerId + " epoch " + producerEpoch
                    + " coordinator epoch " + coordinatorEpoch + " rejected", logStartOffset());
        }
        ByteBuf marker = RecordBuffers.allocate(128);
        try {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(marker)) {
                builder.producer(producerId, producerEpoch, ProducerStateTable.NO_SEQUENCE)
                        .appendEndTxnMarker(nowMs, new EndTxnMarker(commit ? ControlRecordType.COMMIT
                                : ControlRecordType.ABORT, coordinatorEpoch));
                builder.build();
            }
            LogAppendInfo info = log.appendAsLeader(RecordBuffers.asAppended(marker), leadership.leaderEpoch(), -1);
            producers.recordMarker(producerId, producerEpoch, coordinatorEpoch, nowMs);
            producers.transactionalAppended(producerId, producerEpoch, true);
            snapshotProducerStateOnRoll();
            maybeIncrementHighWatermark();
            return new AppendResult(NONE, null, info.firstOffset(), info.lastOffset(), -1, logStartOffset());
        } finally {
            marker.release();
        }
    }

    /**
     * Kafka's UnifiedLog.hasOngoingTransaction: the producer has a transaction open in this log, at this epoch (a
     * transaction version 2 producer's next transaction, after the marker bumped the epoch, is not open yet).
     */
    public synchronized boolean hasOngoingTransaction(long producerId, short producerEpoch) {
        return producers.epochOf(producerId) == producerEpoch && log.openTransactions().containsKey(producerId);
    }

    /**
     * Kafka's UnifiedLog.maybeStartTransactionVerification, before a transactional batch is checked with the
     * coordinator: an epoch older than the producer's here is INVALID_PRODUCER_EPOCH at once (Kafka 4.x); with a
     * transaction open at the epoch nothing is to verify ({@link VerificationGuard#SENTINEL}); otherwise the guard the
     * append must bring back ({@code firstSequence}: the first sequence of the batch that asks, see
     * {@link ProducerStateTable#startVerification}; {@code supportsEpochBump}: a transaction version 2 produce). Past
     * {@link ProducerStateTable#VERIFICATIONS_MAX} verifications under way NOT_ENOUGH_REPLICAS, which producers retry.
     */
    public synchronized VerificationGuard startTransactionVerification(long producerId, short producerEpoch,
                                                                       int firstSequence, boolean supportsEpochBump,
                                                                       long nowMs) {
        ProducerStateTable.Refusal stale = producers.checkEpoch(producerId, producerEpoch);
        if (stale != null) throw new ApiException(stale.error(), stale.message());
        if (hasOngoingTransaction(producerId, producerEpoch)) return VerificationGuard.SENTINEL;
        VerificationGuard guard = producers.startVerification(producerId, producerEpoch, firstSequence,
                supportsEpochBump, nowMs);
        if (guard == null) {
            throw new ApiException(NOT_ENOUGH_REPLICAS, "Unable to verify the partition has been added to the "
                    + "transaction: " + ProducerStateTable.VERIFICATIONS_MAX + " verifications are under way on "
                    + topicPartition);
        }
        return guard;
    }

    /** Why a client's transactional batch may not open a transaction here (Kafka's check), or null. */
    private AppendResult unverified(RecordBatch batch, VerificationGuard verificationGuard) {
        if (verificationGuard == null || !batch.isTransactional() || batch.isControl()
                || hasOngoingTransaction(batch.producerId(), batch.producerEpoch())) {
            return null;
        }
        ProducerStateTable.Refusal refused = producers.checkVerified(batch.producerId(), batch.producerEpoch(),
                verificationGuard);
        // Thrown from inside Kafka's log append too (UnifiedLog.analyzeAndValidateProducerState): no message on
        // the wire, as above.
        return refused == null ? null : AppendResult.error(refused.error(), null, logStartOffset());
    }

    /** Verifications under way on this partition (tests and diagnostics). */
    public synchronized int verificationsUnderWay() {
        return producers.verificationCount();
    }

    /** The producers this partition knows (DescribeProducers). */
    public synchronized List<ProducerStateTable.ProducerSnapshot> producerSnapshot() {
        return producers.snapshot();
    }

    /** Tests only: {@code watcher} sees the thread and the records of every later append (null stops watching). */
    static void watchAppends(BiConsumer<Thread, ByteBuf> watcher) {
        appendWatcher = watcher;
    }

    public void updateConfig(LogConfig config) {
        log.updateConfig(config);
    }
}
