package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.TopicPartition;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * What the coordinator knows of one transactional id (Kafka's TransactionMetadata): its producer id and epoch, the
 * open transaction's partitions and timestamps, and the state. A change is prepared first ({@code prepare*} returns
 * the target as a {@link Transition} and sets the pending state, which keeps any other change out), written to
 * {@code __transaction_state}, and applied by {@link #completeTransitionTo} only once the write is replicated.
 *
 * <p>Not thread-safe: the {@link TransactionStateManager}'s lock guards every instance.
 */
public final class TransactionMetadata {
    public static final long NO_PRODUCER_ID = -1;
    public static final short NO_PRODUCER_EPOCH = -1;

    final String transactionalId;
    long producerId;
    /** The producer id before the last transition (Kafka's prevProducerId): a retry after a rotation names it. */
    long lastProducerId;
    /**
     * Transaction version 2 only: the producer id the completing transaction hands over to because its epoch ran
     * out (set with PrepareCommit/PrepareAbort, taken over by the Complete state).
     */
    long nextProducerId = NO_PRODUCER_ID;
    short producerEpoch;
    short lastProducerEpoch;
    int txnTimeoutMs;
    TransactionState state;
    /** The transaction version the producer spoke in its last transition (0 until it speaks version 2). */
    short clientTransactionVersion = Features.TRANSACTION_VERSION_0;
    final Set<TopicPartition> topicPartitions = new LinkedHashSet<>();
    long txnStartTimestamp;
    long txnLastUpdateTimestamp;
    /** The state a prepared, not yet written change moves to; null when none is in flight. */
    TransactionState pendingState;
    /**
     * An earlier attempt to fence the epoch failed to reach the log, so the bumped epoch may or may not be there: the
     * next fence reuses it rather than bumping twice (the bumped value was never handed to a client).
     */
    boolean hasFailedEpochFence;

    /** The target of a prepared change: what is written to the log and applied once the write is replicated. */
    public record Transition(long producerId, long lastProducerId, short producerEpoch, short lastProducerEpoch,
                             int txnTimeoutMs, TransactionState state, Set<TopicPartition> topicPartitions,
                             long txnStartTimestamp, long txnLastUpdateTimestamp, long nextProducerId,
                             short clientTransactionVersion) {
        public Transition {
            topicPartitions = Set.copyOf(topicPartitions);
        }

        /** A transition of transaction version 0 (no next producer id). */
        public Transition(long producerId, long lastProducerId, short producerEpoch, short lastProducerEpoch,
                          int txnTimeoutMs, TransactionState state, Set<TopicPartition> topicPartitions,
                          long txnStartTimestamp, long txnLastUpdateTimestamp) {
            this(producerId, lastProducerId, producerEpoch, lastProducerEpoch, txnTimeoutMs, state, topicPartitions,
                    txnStartTimestamp, txnLastUpdateTimestamp, NO_PRODUCER_ID, Features.TRANSACTION_VERSION_0);
        }

        boolean supportsEpochBump() {
            return Features.supportsEpochBump(clientTransactionVersion);
        }
    }

    TransactionMetadata(String transactionalId, long producerId, long lastProducerId, short producerEpoch,
                        short lastProducerEpoch, int txnTimeoutMs, TransactionState state, long txnStartTimestamp,
                        long txnLastUpdateTimestamp) {
        this.transactionalId = transactionalId;
        this.producerId = producerId;
        this.lastProducerId = lastProducerId;
        this.producerEpoch = producerEpoch;
        this.lastProducerEpoch = lastProducerEpoch;
        this.txnTimeoutMs = txnTimeoutMs;
        this.state = state;
        this.txnStartTimestamp = txnStartTimestamp;
        this.txnLastUpdateTimestamp = txnLastUpdateTimestamp;
    }

    /** Kafka keeps Short.MAX_VALUE out of clients' hands so a producer can always be fenced by one more bump. */
    static boolean isEpochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    boolean isProducerEpochExhausted() {
        return isEpochExhausted(producerEpoch);
    }

    boolean pendingTransitionInProgress() {
        return pendingState != null;
    }

    void addPartitions(Collection<TopicPartition> partitions) {
        topicPartitions.addAll(partitions);
    }

    Transition prepareFenceProducerEpoch() {
        if (producerEpoch == Short.MAX_VALUE) {
            throw new IllegalStateException("Cannot fence producer with epoch equal to Short.MaxValue since this would overflow");
        }
        short bumped = hasFailedEpochFence ? producerEpoch : (short) (producerEpoch + 1);
        return prepareTransitionTo(TransactionState.PREPARE_EPOCH_FENCE, producerId, bumped, NO_PRODUCER_EPOCH,
                txnTimeoutMs, topicPartitions, txnStartTimestamp, txnLastUpdateTimestamp);
    }

    /**
     * InitProducerId's epoch bump. With an expected epoch (a producer resuming after an abortable error, KIP-360):
     * the current epoch bumps again, a retry of a bump that already happened gets the same answer, anything else is
     * PRODUCER_FENCED. Returns the transition, or null with {@code error[0]} set.
     */
    Transition prepareIncrementProducerEpoch(int newTxnTimeoutMs, Short expectedEpoch, long nowMs, short[] error) {
        if (isProducerEpochExhausted()) {
            throw new IllegalStateException("Cannot allocate any more producer epochs for producerId " + producerId);
        }
        short bumped = (short) (producerEpoch + 1);
        short nextEpoch;
        short lastEpoch;
        if (expectedEpoch == null) {
            nextEpoch = bumped;
            lastEpoch = NO_PRODUCER_EPOCH;
        } else if (producerEpoch == NO_PRODUCER_EPOCH || expectedEpoch == producerEpoch) {
            nextEpoch = bumped;
            lastEpoch = producerEpoch;
        } else if (expectedEpoch == lastProducerEpoch) {
            nextEpoch = producerEpoch;
            lastEpoch = lastProducerEpoch;
        } else {
            error[0] = PRODUCER_FENCED;
            return null;
        }
        return prepareTransitionTo(TransactionState.EMPTY, producerId, nextEpoch, lastEpoch, newTxnTimeoutMs, Set.of(),
                -1, nowMs);
    }

    Transition prepareProducerIdRotation(long newProducerId, int newTxnTimeoutMs, long nowMs, boolean recordLastEpoch) {
        if (state == TransactionState.ONGOING || state == TransactionState.PREPARE_ABORT
                || state == TransactionState.PREPARE_COMMIT) {
            throw new IllegalStateException("Cannot rotate producer ids while a transaction is still pending");
        }
        return prepareTransitionTo(TransactionState.EMPTY, newProducerId, (short) 0,
                recordLastEpoch ? producerEpoch : NO_PRODUCER_EPOCH, newTxnTimeoutMs, Set.of(), -1, nowMs);
    }

    /** Opens (or extends) the transaction; the producer's transaction version is recorded with it. */
    Transition prepareAddPartitions(Collection<TopicPartition> added, long nowMs, short clientVersion) {
        long start = state == TransactionState.EMPTY || state == TransactionState.COMPLETE_ABORT
                || state == TransactionState.COMPLETE_COMMIT ? nowMs : txnStartTimestamp;
        Set<TopicPartition> all = new LinkedHashSet<>(topicPartitions);
        all.addAll(added);
        return prepareTransitionTo(TransactionState.ONGOING, producerId, producerEpoch, lastProducerEpoch,
                txnTimeoutMs, all, start, nowMs, nextProducerId, clientVersion);
    }

    /**
     * PrepareCommit/PrepareAbort. With transaction version 2 the epoch bumps here (the caller made sure it cannot
     * overflow: an exhausted epoch comes with {@code newNextProducerId}, which the Complete state takes over with
     * epoch 0). {@code noPartitionAdded}: a version 2 abort with nothing in the transaction, whose start is now.
     */
    Transition prepareAbortOrCommit(TransactionState newState, short clientVersion, long newNextProducerId, long nowMs,
                                    boolean noPartitionAdded) {
        boolean bump = Features.supportsEpochBump(clientVersion);
        return prepareTransitionTo(newState, producerId, bump ? (short) (producerEpoch + 1) : producerEpoch,
                bump ? producerEpoch : lastProducerEpoch, txnTimeoutMs, topicPartitions,
                noPartitionAdded ? nowMs : txnStartTimestamp, nowMs, newNextProducerId, clientVersion);
    }

    Transition prepareComplete(long nowMs) {
        TransactionState newState = state == TransactionState.PREPARE_COMMIT ? TransactionState.COMPLETE_COMMIT
                : TransactionState.COMPLETE_ABORT;
        // The Prepare state is durable, so an epoch fence that failed before is now settled.
        hasFailedEpochFence = false;
        // A version 2 epoch overflow: the next producer id takes over at epoch 0; the last epoch stays the one the
        // client last saw (Short.MAX_VALUE - 1), as in Kafka.
        boolean overflow = Features.supportsEpochBump(clientTransactionVersion) && nextProducerId != NO_PRODUCER_ID;
        return prepareTransitionTo(newState, overflow ? nextProducerId : producerId, overflow ? 0 : producerEpoch,
                lastProducerEpoch, txnTimeoutMs, Set.of(), txnStartTimestamp, nowMs, NO_PRODUCER_ID,
                clientTransactionVersion);
    }

    Transition prepareDead() {
        return prepareTransitionTo(TransactionState.DEAD, producerId, producerEpoch, lastProducerEpoch, txnTimeoutMs,
                Set.of(), txnStartTimestamp, txnLastUpdateTimestamp);
    }

    private Transition prepareTransitionTo(TransactionState newState, long newProducerId, short newEpoch,
                                           short newLastEpoch, int newTxnTimeoutMs,
                                           Collection<TopicPartition> newPartitions, long newTxnStartTimestamp,
                                           long updateTimestamp) {
        return prepareTransitionTo(newState, newProducerId, newEpoch, newLastEpoch, newTxnTimeoutMs, newPartitions,
                newTxnStartTimestamp, updateTimestamp, nextProducerId, clientTransactionVersion);
    }

    private Transition prepareTransitionTo(TransactionState newState, long newProducerId, short newEpoch,
                                           short newLastEpoch, int newTxnTimeoutMs,
                                           Collection<TopicPartition> newPartitions, long newTxnStartTimestamp,
                                           long updateTimestamp, long newNextProducerId, short clientVersion) {
        if (pendingState != null) {
            throw new IllegalStateException("Preparing transaction state transition to " + newState
                    + " while it already has a pending state " + pendingState);
        }
        if (newProducerId < 0) throw new IllegalArgumentException("Illegal new producer id " + newProducerId);
        if (newState != TransactionState.DEAD && newEpoch < 0) {
            throw new IllegalArgumentException("Illegal new producer epoch " + newEpoch);
        }
        if (!newState.validPreviousStates().contains(state)) {
            throw new IllegalStateException("Preparing transaction state transition to " + newState + " failed since the"
                    + " target state " + newState + " is not a valid previous state of the current state " + state);
        }
        pendingState = newState;
        return new Transition(newProducerId, producerId, newEpoch, newLastEpoch, newTxnTimeoutMs, newState,
                new LinkedHashSet<>(newPartitions), newTxnStartTimestamp, updateTimestamp, newNextProducerId,
                clientVersion);
    }

    /** Applies a prepared change once its log record is replicated; checks it is the change that was prepared. */
    void completeTransitionTo(Transition t) {
        TransactionState toState = pendingState;
        if (toState == null) {
            throw new IllegalStateException("TransactionalId " + transactionalId
                    + " completing transaction state transition while it does not have a pending state");
        }
        if (toState != t.state()) throw transitionFailure(t);
        switch (toState) {
            case EMPTY -> {
                if ((producerEpoch != t.producerEpoch() && !validProducerEpochBump(t)) || !t.topicPartitions().isEmpty()
                        || t.txnStartTimestamp() != -1) {
                    throw transitionFailure(t);
                }
            }
            case ONGOING -> {
                if (!validProducerEpoch(t) || !t.topicPartitions().containsAll(topicPartitions)
                        || txnTimeoutMs != t.txnTimeoutMs()) {
                    throw transitionFailure(t);
                }
            }
            case PREPARE_ABORT, PREPARE_COMMIT -> {
                // Version 2 may abort from Empty or a completed transaction, whose start time is the abort's.
                boolean emptyAbort = toState == TransactionState.PREPARE_ABORT && t.supportsEpochBump()
                        && (state == TransactionState.EMPTY || state == TransactionState.COMPLETE_COMMIT
                        || state == TransactionState.COMPLETE_ABORT);
                if (!validProducerEpoch(t) || !topicPartitions.equals(t.topicPartitions())
                        || txnTimeoutMs != t.txnTimeoutMs()
                        || (txnStartTimestamp != t.txnStartTimestamp() && !emptyAbort)) {
                    throw transitionFailure(t);
                }
            }
            case COMPLETE_ABORT, COMPLETE_COMMIT -> {
                if (!validProducerEpoch(t) || txnTimeoutMs != t.txnTimeoutMs() || t.txnStartTimestamp() == -1) {
                    throw transitionFailure(t);
                }
            }
            case PREPARE_EPOCH_FENCE, DEAD -> throw transitionFailure(t);
        }
        producerId = t.producerId();
        lastProducerId = t.lastProducerId();
        nextProducerId = t.nextProducerId();
        producerEpoch = t.producerEpoch();
        lastProducerEpoch = t.lastProducerEpoch();
        txnTimeoutMs = t.txnTimeoutMs();
        topicPartitions.clear();
        topicPartitions.addAll(t.topicPartitions());
        txnStartTimestamp = t.txnStartTimestamp();
        txnLastUpdateTimestamp = t.txnLastUpdateTimestamp();
        clientTransactionVersion = t.clientTransactionVersion();
        pendingState = null;
        state = toState;
    }

    /**
     * Kafka's check that a transition keeps the producer: with version 2 a Prepare state carries the bumped epoch
     * (its last epoch is the current one), and a Complete state after an overflow carries the next producer id at
     * epoch 0; otherwise the id and epoch stay.
     */
    private boolean validProducerEpoch(Transition t) {
        if (t.supportsEpochBump() && (t.state() == TransactionState.COMPLETE_COMMIT
                || t.state() == TransactionState.COMPLETE_ABORT) && t.producerEpoch() == 0) {
            return t.lastProducerEpoch() == lastProducerEpoch && t.lastProducerId() == producerId;
        }
        if (t.supportsEpochBump() && (t.state() == TransactionState.PREPARE_COMMIT
                || t.state() == TransactionState.PREPARE_ABORT)) {
            return t.lastProducerEpoch() == producerEpoch && t.producerId() == producerId;
        }
        return t.producerEpoch() == producerEpoch && t.producerId() == producerId;
    }

    private boolean validProducerEpochBump(Transition t) {
        return t.producerEpoch() == producerEpoch + 1 || (t.producerEpoch() == 0 && t.producerId() != producerId);
    }

    private IllegalStateException transitionFailure(Transition t) {
        return new IllegalStateException("TransactionalId " + transactionalId + " failed transition to state " + t
                + " due to unexpected metadata " + this);
    }

    public String transactionalId() {
        return transactionalId;
    }

    public long producerId() {
        return producerId;
    }

    public short producerEpoch() {
        return producerEpoch;
    }

    public short clientTransactionVersion() {
        return clientTransactionVersion;
    }

    public TransactionState state() {
        return state;
    }

    public int txnTimeoutMs() {
        return txnTimeoutMs;
    }

    public long txnStartTimestamp() {
        return txnStartTimestamp;
    }

    public long txnLastUpdateTimestamp() {
        return txnLastUpdateTimestamp;
    }

    public Set<TopicPartition> topicPartitions() {
        return Set.copyOf(topicPartitions);
    }

    @Override
    public String toString() {
        return "TransactionMetadata(transactionalId=" + transactionalId + ", producerId=" + producerId
                + ", nextProducerId=" + nextProducerId + ", producerEpoch=" + producerEpoch + ", lastProducerEpoch="
                + lastProducerEpoch + ", clientTransactionVersion=" + clientTransactionVersion + ", txnTimeoutMs="
                + txnTimeoutMs + ", state=" + state
                + ", pendingState=" + pendingState + ", topicPartitions=" + topicPartitions + ", txnStartTimestamp="
                + txnStartTimestamp + ", txnLastUpdateTimestamp=" + txnLastUpdateTimestamp + ")";
    }
}
