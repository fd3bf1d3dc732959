package io.tandem.server.kafka.txn;

import io.tandem.server.kafka.txn.TransactionCoordinator.EndResult;
import io.tandem.server.kafka.txn.TransactionStateManager.EpochAndMetadata;
import io.tandem.server.kafka.txn.TransactionStateManager.Lookup;
import io.tandem.server.kafka.txn.TransactionStateManager.PendingCompletion;

import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * EndTxn with transaction version 2 (KIP-890 part 2, Kafka 4.4's TransactionCoordinator.endTransaction): every
 * commit and abort bumps the producer epoch in its Prepare state, the markers carry the bumped epoch, and the answer
 * names the producer id and epoch the client goes on with; an exhausted epoch hands over to a new producer id at
 * epoch 0. A retry is recognised by its epoch, one below the current one (or the last epoch of the previous producer
 * id after a hand-over), not by the state alone:
 *
 * <pre>
 *                   Abort               Commit
 *                   retry   current     retry   current
 *   Empty           FENCED  bump        FENCED  INVALID_TXN_STATE
 *   CompleteAbort   NONE    bump        ITS     INVALID_TXN_STATE
 *   CompleteCommit  ITS     bump        NONE    INVALID_TXN_STATE
 * </pre>
 *
 * (bump: a new PrepareAbort with no partitions, which version 2 allows.) Split from {@link TransactionCoordinator}
 * to keep each class to one protocol.
 */
final class TransactionVersion2 {
    private TransactionVersion2() {
    }

    static void endTransaction(TransactionCoordinator coordinator, String transactionalId, long producerId,
                               short producerEpoch, boolean commit, boolean isFromClient, short clientVersion,
                               Consumer<EndResult> callback) {
        Consumer<Short> fail = e -> callback.accept(EndResult.error(e));
        EpochAndMetadata held = coordinator.existing(transactionalId, fail);
        if (held == null) return;
        TransactionStateManager state = coordinator.state();
        int coordinatorEpoch = held.coordinatorEpoch();
        TransactionMetadata metadata = held.metadata();
        TransactionMetadata.Transition transition;
        boolean isEpochFence;
        synchronized (state) {
            long currentProducerId = metadata.producerId;
            short currentEpoch = metadata.producerEpoch;
            // PrepareEpochFence bumps differently (an internal abort comes with the fenced epoch already).
            isEpochFence = metadata.pendingState == TransactionState.PREPARE_EPOCH_FENCE;
            // A retry of a request that overflowed the epoch: the new producer id is in place at epoch 0.
            boolean retryOnOverflow = !isEpochFence && metadata.lastProducerId == producerId
                    && producerEpoch == Short.MAX_VALUE - 1 && metadata.producerEpoch == 0;
            // A retry of a request whose bump is already in place.
            boolean retryOnEpochBump = !isEpochFence && metadata.producerEpoch == producerEpoch + 1;
            boolean validEpoch;
            if (isEpochFence) {
                validEpoch = (!isFromClient || producerEpoch == metadata.producerEpoch)
                        && producerEpoch >= metadata.producerEpoch;
            } else {
                validEpoch = switch (metadata.state) {
                    case ONGOING, EMPTY, DEAD, PREPARE_EPOCH_FENCE -> producerEpoch == metadata.producerEpoch;
                    case PREPARE_COMMIT, PREPARE_ABORT -> retryOnEpochBump;
                    case COMPLETE_COMMIT, COMPLETE_ABORT -> retryOnEpochBump || retryOnOverflow
                            || producerEpoch == metadata.producerEpoch;
                };
            }
            boolean isRetry = retryOnEpochBump || retryOnOverflow;
            short error = NONE;
            TransactionState next = null;
            boolean noPartitionAdded = false;
            if (metadata.pendingTransitionInProgress() && !isEpochFence) {
                // Kafka 4.x answers a change in flight first (KAFKA-18464): the EndTxn of the next transaction may
                // come while the previous one still completes, at the epoch the previous commit handed out, which
                // only the state being written makes current; the producer retries and is not fenced.
                error = CONCURRENT_TRANSACTIONS;
            } else if (metadata.producerId != producerId && !retryOnOverflow) {
                error = INVALID_PRODUCER_ID_MAPPING;
            } else if (!validEpoch) {
                error = PRODUCER_FENCED;
                TransactionCoordinator.logFenced(isFromClient ? "EndTxn" : "Internal abort", transactionalId,
                        producerId, producerEpoch, metadata);
            } else {
                switch (metadata.state) {
                    case ONGOING -> next = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
                    case COMPLETE_COMMIT -> {
                        if (commit) {
                            error = isRetry ? NONE : invalid(transactionalId, metadata, commit);
                        } else if (isRetry) {
                            error = invalid(transactionalId, metadata, commit);
                        } else {
                            next = TransactionState.PREPARE_ABORT;
                            noPartitionAdded = true;
                        }
                    }
                    case COMPLETE_ABORT -> {
                        if (!commit) {
                            if (isRetry) {
                                error = NONE;
                            } else {
                                next = TransactionState.PREPARE_ABORT;
                                noPartitionAdded = true;
                            }
                        } else {
                            error = invalid(transactionalId, metadata, commit);
                        }
                    }
                    case PREPARE_COMMIT -> error = commit ? CONCURRENT_TRANSACTIONS
                            : invalid(transactionalId, metadata, commit);
                    case PREPARE_ABORT -> error = !commit ? CONCURRENT_TRANSACTIONS
                            : invalid(transactionalId, metadata, commit);
                    case EMPTY -> {
                        if (commit) {
                            error = invalid(transactionalId, metadata, commit);
                        } else {
                            next = TransactionState.PREPARE_ABORT;
                            noPartitionAdded = true;
                        }
                    }
                    default -> throw new IllegalStateException("Found transactionalId " + transactionalId
                            + " with state " + metadata.state
                            + ". This is illegal as we should never have transitioned to this state.");
                }
            }
            if (next == null) {
                // A retry of a completed EndTxn is answered with the producer id and epoch now in place.
                callback.accept(error == NONE ? new EndResult(NONE, currentProducerId, currentEpoch)
                        : EndResult.error(error));
                return;
            }
            long nextProducerId = TransactionMetadata.NO_PRODUCER_ID;
            // An abort that fences bumps like any other here, so it too hands over to a new producer id when the
            // epoch runs out (Kafka 4.4, KAFKA-20090).
            if (metadata.isProducerEpochExhausted()) {
                try {
                    nextProducerId = coordinator.producerIds().nextProducerId();
                } catch (Exception e) {
                    callback.accept(EndResult.error(COORDINATOR_NOT_AVAILABLE));
                    return;
                }
            }
            if (next == TransactionState.PREPARE_ABORT && isEpochFence) {
                // The fence becomes the abort, whose version 2 bump is the fence: the epoch goes up once, not twice
                // (Kafka 4.4, KAFKA-19367), so an EndTxn the producer had under way when its transaction timed out
                // reads as a retry and is answered as one (an abort NONE, a commit INVALID_TXN_STATE).
                metadata.pendingState = null;
            }
            transition = metadata.prepareAbortOrCommit(next, clientVersion, nextProducerId,
                    coordinator.clock().getAsLong(), noPartitionAdded);
        }
        boolean fenced = isEpochFence;
        state.appendTransition(transactionalId, coordinatorEpoch, transition, e -> false, error -> {
            if (error != NONE) {
                if (fenced) state.markFailedEpochFence(transactionalId, coordinatorEpoch);
                callback.accept(EndResult.error(error));
                return;
            }
            PendingCompletion completion = null;
            short error2 = NONE;
            synchronized (state) {
                Lookup now = state.lookup(transactionalId);
                EpochAndMetadata found = now.found();
                if (now.error() != NONE) {
                    error2 = now.error();
                } else if (found == null || found.coordinatorEpoch() != coordinatorEpoch) {
                    error2 = NOT_COORDINATOR;
                } else {
                    TransactionMetadata m = found.metadata();
                    if (m.producerId != producerId) {
                        error2 = INVALID_PRODUCER_ID_MAPPING;
                    } else if (m.producerEpoch != producerEpoch && m.producerEpoch != producerEpoch + 1) {
                        error2 = PRODUCER_FENCED;
                        TransactionCoordinator.logFenced(isFromClient ? "EndTxn (after its write)"
                                : "Internal abort (after its write)", transactionalId, producerId, producerEpoch, m);
                    } else if (m.pendingTransitionInProgress()) {
                        error2 = CONCURRENT_TRANSACTIONS;
                    } else if (m.state != (commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT)) {
                        error2 = invalid(transactionalId, m, commit);
                    } else {
                        completion = new PendingCompletion(transactionalId, coordinatorEpoch, commit, m,
                                m.prepareComplete(coordinator.clock().getAsLong()));
                    }
                }
            }
            if (completion == null) {
                callback.accept(EndResult.error(error2));
                return;
            }
            // The decision is durable: the client is answered with the Complete state's producer id and epoch (the
            // new producer id at epoch 0 after an overflow), then the markers follow with the bumped epoch.
            callback.accept(new EndResult(NONE, completion.complete().producerId(),
                    completion.complete().producerEpoch()));
            coordinator.sendMarkers(completion);
        });
    }

    private static short invalid(String transactionalId, TransactionMetadata metadata, boolean commit) {
        return TransactionCoordinator.invalidState(transactionalId, metadata, commit);
    }
}
