package io.tandem.server.kafka.txn;

import java.util.EnumSet;
import java.util.Set;

/**
 * The states of a transactional id, with Kafka's ids (stored in {@code __transaction_state}) and names (reported by
 * DescribeTransactions and ListTransactions), and the transitions Kafka allows into each state.
 */
public enum TransactionState {
    /** No transaction yet, or the previous one completed and the producer re-initialised. */
    EMPTY(0, "Empty"),
    /** Partitions (or a group's offsets) were added: a transaction is open. */
    ONGOING(1, "Ongoing"),
    /** EndTxn(commit) is durable; markers are being written. */
    PREPARE_COMMIT(2, "PrepareCommit"),
    /** EndTxn(abort), a timeout or a fencing producer is durable; markers are being written (if any). */
    PREPARE_ABORT(3, "PrepareAbort"),
    COMPLETE_COMMIT(4, "CompleteCommit"),
    COMPLETE_ABORT(5, "CompleteAbort"),
    /** The transactional id expired and is being removed. */
    DEAD(6, "Dead"),
    /** Only ever a pending state: a new producer (or a timeout) bumps the epoch and aborts the open transaction. */
    PREPARE_EPOCH_FENCE(7, "PrepareEpochFence");

    public final byte id;
    public final String displayName;

    TransactionState(int id, String displayName) {
        this.id = (byte) id;
        this.displayName = displayName;
    }

    /** The states a transaction may move here from (Kafka's validPreviousStates). */
    public Set<TransactionState> validPreviousStates() {
        return switch (this) {
            case EMPTY -> EnumSet.of(EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case ONGOING -> EnumSet.of(ONGOING, EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case PREPARE_COMMIT -> EnumSet.of(ONGOING);
            // Transaction version 2 lets a producer abort with no partitions added (from Empty or a completed
            // transaction): its epoch bumps all the same.
            case PREPARE_ABORT -> EnumSet.of(ONGOING, PREPARE_EPOCH_FENCE, EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case COMPLETE_COMMIT -> EnumSet.of(PREPARE_COMMIT);
            case COMPLETE_ABORT -> EnumSet.of(PREPARE_ABORT);
            case DEAD -> EnumSet.of(EMPTY, COMPLETE_ABORT, COMPLETE_COMMIT);
            case PREPARE_EPOCH_FENCE -> EnumSet.of(ONGOING);
        };
    }

    /** Whether a transactional id resting in this state may expire after transactional.id.expiration.ms. */
    public boolean isExpirationAllowed() {
        return this == EMPTY || this == COMPLETE_COMMIT || this == COMPLETE_ABORT;
    }

    public static TransactionState fromId(byte id) {
        for (TransactionState state : values()) {
            if (state.id == id) return state;
        }
        throw new IllegalStateException("Unknown transaction state id " + id + " from the transaction status message");
    }

    /** The state with Kafka's name, or null (ListTransactions reports unknown filter names back). */
    public static TransactionState fromName(String name) {
        for (TransactionState state : values()) {
            if (state.displayName.equals(name)) return state;
        }
        return null;
    }
}
