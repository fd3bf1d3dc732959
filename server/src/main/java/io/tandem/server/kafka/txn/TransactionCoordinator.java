package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.ProducerIdManager;
import io.tandem.server.kafka.txn.TransactionStateManager.EpochAndMetadata;
import io.tandem.server.kafka.txn.TransactionStateManager.Lookup;
import io.tandem.server.kafka.txn.TransactionStateManager.PendingCompletion;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The transaction coordinator (KIP-98, Kafka 4.4's TransactionCoordinator): InitProducerId with a transactional id
 * (epoch bumps, fencing of the previous producer, KIP-360 resumption), AddPartitionsToTxn (including the v4+
 * verify-only form), AddOffsetsToTxn, EndTxn, the abort of timed-out transactions, the expiry of idle transactional
 * ids ({@link TransactionViews} answers Describe/ListTransactions). State lives in {@link TransactionStateManager};
 * markers go out through {@link TransactionMarkerSender}. Error codes and their order follow Kafka 4.4.
 *
 * <p>Two protocols are served side by side, chosen per request as Kafka does: transaction version 0 (Kafka 3.x
 * clients, and 4.x clients that see no {@code transaction.version} 2: EndTxn up to v4, the epoch stays), and
 * transaction version 2 (KIP-890 part 2: EndTxn v5+ bumps the epoch at every commit and abort and hands over to a
 * new producer id when the epoch runs out; partitions and the group's offsets join the transaction implicitly, on
 * produce and TxnOffsetCommit v5+). Internal aborts (timeouts, fencing) use the broker's finalized version.
 *
 * <p>Handlers call in from request threads; answers come back through callbacks, on the coordinator's own thread
 * when a state write had to be replicated first.
 */
public final class TransactionCoordinator implements TransactionMarkerSender.Coordinator {
    private static final System.Logger LOG = System.getLogger(TransactionCoordinator.class.getName());

    /** EndTxn's answer: v5+ reports the producer id and epoch to use next (-1/-1 on errors and before v5). */
    public record EndResult(short error, long producerId, short producerEpoch) {
        public static EndResult error(short error) {
            return new EndResult(error, TransactionMetadata.NO_PRODUCER_ID, TransactionMetadata.NO_PRODUCER_EPOCH);
        }
    }

    /** InitProducerId's answer. */
    public record InitResult(short error, long producerId, short producerEpoch) {
        public static InitResult error(short error) {
            return new InitResult(error, TransactionMetadata.NO_PRODUCER_ID, TransactionMetadata.NO_PRODUCER_EPOCH);
        }
    }

    private final TransactionConfig config;
    private final TransactionStateManager state;
    private final ProducerIdManager producerIds;
    private final ScheduledExecutorService executor;
    private final LongSupplier clock;
    private TransactionMarkerSender markers;

    TransactionCoordinator(TransactionConfig config, TransactionStateManager state, ProducerIdManager producerIds,
                           ScheduledExecutorService executor, LongSupplier clock) {
        this.config = config;
        this.state = state;
        this.producerIds = producerIds;
        this.executor = executor;
        this.clock = clock;
    }

    void markers(TransactionMarkerSender markers) {
        this.markers = markers;
    }

    /** Starts the periodic abort of timed-out transactions and the expiry of idle transactional ids. */
    void startSchedules() {
        executor.scheduleWithFixedDelay(this::abortTimedOutTransactions, config.abortTimedOutIntervalMs(),
                config.abortTimedOutIntervalMs(), TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(this::expireTransactionalIds, config.removeExpiredIntervalMs(),
                config.removeExpiredIntervalMs(), TimeUnit.MILLISECONDS);
    }

    public TransactionStateManager state() {
        return state;
    }

    TransactionConfig config() {
        return config;
    }

    ProducerIdManager producerIds() {
        return producerIds;
    }

    LongSupplier clock() {
        return clock;
    }

    public int partitionFor(String transactionalId) {
        return state.partitionFor(transactionalId);
    }

    // ---------------------------------------------------------------- InitProducerId

    /**
     * InitProducerId for a transactional id; {@code expectedProducerId}/{@code expectedEpoch} are the producer's own
     * (v3+, KIP-360) or -1/-1.
     */
    public void handleInitProducerId(String transactionalId, int transactionTimeoutMs, long expectedProducerId,
                                     short expectedEpoch, Consumer<InitResult> callback) {
        if (transactionalId.isEmpty()) {
            callback.accept(InitResult.error(INVALID_REQUEST));
            return;
        }
        if (!state.validTransactionTimeout(transactionTimeoutMs)) {
            callback.accept(InitResult.error(INVALID_TRANSACTION_TIMEOUT));
            return;
        }
        boolean hasExpected = expectedProducerId != TransactionMetadata.NO_PRODUCER_ID;
        Lookup lookup = state.lookup(transactionalId);
        if (lookup.error() == NONE && lookup.found() == null) {
            long producerId;
            try {
                producerId = producerIds.nextProducerId();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "Cannot reserve producer ids: " + e);
                callback.accept(InitResult.error(COORDINATOR_NOT_AVAILABLE));
                return;
            }
            long now = clock.getAsLong();
            lookup = state.putIfAbsent(transactionalId, new TransactionMetadata(transactionalId, producerId,
                    TransactionMetadata.NO_PRODUCER_ID, TransactionMetadata.NO_PRODUCER_EPOCH,
                    TransactionMetadata.NO_PRODUCER_EPOCH, transactionTimeoutMs, TransactionState.EMPTY, -1, now));
        }
        if (lookup.error() != NONE) {
            callback.accept(InitResult.error(lookup.error()));
            return;
        }
        EpochAndMetadata found = lookup.found();
        TransactionMetadata metadata = found.metadata();
        TransactionMetadata.Transition transition;
        short[] error = {NONE};
        synchronized (state) {
            if (metadata.pendingTransitionInProgress()) {
                error[0] = CONCURRENT_TRANSACTIONS;
            } else if (hasExpected && !(metadata.producerEpoch == TransactionMetadata.NO_PRODUCER_EPOCH
                    || expectedProducerId == metadata.producerId
                    || (expectedProducerId == metadata.lastProducerId
                    && TransactionMetadata.isEpochExhausted(expectedEpoch)))) {
                // Fenced unless: the metadata was just created, the producer id is the current one (its epoch is
                // checked below), or it is the previous one whose epochs ran out (a retry of the rotation).
                error[0] = PRODUCER_FENCED;
                logFenced("InitProducerId", transactionalId, expectedProducerId, expectedEpoch, metadata);
            }
            if (error[0] != NONE) {
                callback.accept(InitResult.error(error[0]));
                return;
            }
            switch (metadata.state) {
                case PREPARE_ABORT, PREPARE_COMMIT -> {
                    callback.accept(InitResult.error(CONCURRENT_TRANSACTIONS));
                    return;
                }
                case EMPTY, COMPLETE_ABORT, COMPLETE_COMMIT -> {
                    if (metadata.isProducerEpochExhausted() && (!hasExpected || expectedEpoch == metadata.producerEpoch)) {
                        long newProducerId;
                        try {
                            newProducerId = producerIds.nextProducerId();
                        } catch (Exception e) {
                            LOG.log(System.Logger.Level.WARNING, "Cannot reserve producer ids: " + e);
                            callback.accept(InitResult.error(COORDINATOR_NOT_AVAILABLE));
                            return;
                        }
                        transition = metadata.prepareProducerIdRotation(newProducerId, transactionTimeoutMs,
                                clock.getAsLong(), hasExpected);
                    } else {
                        transition = metadata.prepareIncrementProducerEpoch(transactionTimeoutMs,
                                hasExpected ? expectedEpoch : null, clock.getAsLong(), error);
                    }
                }
                // Abort the open transaction first with a bumped epoch that no client ever gets: the client is
                // answered CONCURRENT_TRANSACTIONS, retries and then gets a second bump (or a new producer id).
                case ONGOING -> transition = metadata.prepareFenceProducerEpoch();
                default -> throw new IllegalStateException("Found transactionalId " + transactionalId + " with state "
                        + metadata.state + ". This is illegal as we should never have transitioned to this state.");
            }
        }
        if (transition == null) {
            if (error[0] == PRODUCER_FENCED) {
                logFenced("InitProducerId", transactionalId, expectedProducerId, expectedEpoch, metadata);
            }
            callback.accept(InitResult.error(error[0]));
            return;
        }
        if (transition.state() == TransactionState.PREPARE_EPOCH_FENCE) {
            endTransaction(transactionalId, transition.producerId(), transition.producerEpoch(), false, false,
                    state.transactionVersion(),
                    r -> callback.accept(InitResult.error(r.error() == NONE ? CONCURRENT_TRANSACTIONS : r.error())));
            return;
        }
        TransactionMetadata.Transition written = transition;
        state.appendTransition(transactionalId, found.coordinatorEpoch(), transition, e -> false, e -> {
            if (e == NONE) {
                LOG.log(System.Logger.Level.INFO, "Initialized transactionalId {0} with producerId {1} and producer "
                        + "epoch {2} on partition __transaction_state-{3}", transactionalId, written.producerId(),
                        written.producerEpoch(), state.partitionFor(transactionalId));
                callback.accept(new InitResult(NONE, written.producerId(), written.producerEpoch()));
            } else {
                callback.accept(InitResult.error(e));
            }
        });
    }

    // ---------------------------------------------------------------- AddPartitionsToTxn / AddOffsetsToTxn

    /**
     * The id's transaction as this coordinator holds it, or null after answering the callback with Kafka's error:
     * INVALID_REQUEST for no id, the lookup's error (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...), or
     * INVALID_PRODUCER_ID_MAPPING for an id it does not know.
     */
    EpochAndMetadata existing(String transactionalId, Consumer<Short> callback) {
        if (transactionalId == null || transactionalId.isEmpty()) {
            callback.accept(INVALID_REQUEST);
            return null;
        }
        Lookup lookup = state.lookup(transactionalId);
        if (lookup.error() != NONE) {
            callback.accept(lookup.error());
            return null;
        }
        if (lookup.found() == null) {
            callback.accept(INVALID_PRODUCER_ID_MAPPING);
            return null;
        }
        return lookup.found();
    }

    /**
     * Adds partitions (or a group's offsets partition) to the producer's transaction, opening it if needed.
     * {@code clientVersion} is the transaction version of the request: 0 for a client's AddPartitionsToTxn (v0-3) or
     * AddOffsetsToTxn, 2 for the implicit add of a version 2 produce or TxnOffsetCommit.
     */
    public void handleAddPartitions(String transactionalId, long producerId, short producerEpoch,
                                    Set<TopicPartition> partitions, short clientVersion, Consumer<Short> callback) {
        EpochAndMetadata found = existing(transactionalId, callback);
        if (found == null) return;
        TransactionMetadata metadata = found.metadata();
        TransactionMetadata.Transition transition;
        synchronized (state) {
            short error = NONE;
            // Kafka 4.x checks a pending transition first: over a version 2 epoch overflow the producer may already
            // use the new producer id that is still only pending.
            if (metadata.pendingTransitionInProgress()) {
                error = CONCURRENT_TRANSACTIONS;
            } else if (metadata.producerId != producerId) {
                error = INVALID_PRODUCER_ID_MAPPING;
            } else if (metadata.producerEpoch != producerEpoch) {
                error = PRODUCER_FENCED;
                logFenced("AddPartitionsToTxn", transactionalId, producerId, producerEpoch, metadata);
            } else if (metadata.state == TransactionState.PREPARE_COMMIT
                    || metadata.state == TransactionState.PREPARE_ABORT) {
                error = CONCURRENT_TRANSACTIONS;
            } else if (metadata.state == TransactionState.ONGOING && metadata.topicPartitions.containsAll(partitions)) {
                // Already there: nothing to write.
                callback.accept(NONE);
                return;
            }
            if (error != NONE) {
                callback.accept(error);
                return;
            }
            transition = metadata.prepareAddPartitions(partitions, clock.getAsLong(), clientVersion);
        }
        state.appendTransition(transactionalId, found.coordinatorEpoch(), transition, e -> false, callback);
    }

    /**
     * AddPartitionsToTxn v4+ with verifyOnly (a partition leader checking a transactional produce): per partition
     * NONE when it is in the transaction, TRANSACTION_ABORTABLE when not; or one error for all of them.
     */
    public Map<TopicPartition, Short> verifyPartitions(String transactionalId, long producerId, short producerEpoch,
                                                       Set<TopicPartition> partitions) {
        Map<TopicPartition, Short> result = new LinkedHashMap<>();
        short error = NONE;
        if (transactionalId == null || transactionalId.isEmpty()) {
            error = INVALID_REQUEST;
        } else {
            Lookup lookup = state.lookup(transactionalId);
            if (lookup.error() != NONE) {
                error = lookup.error();
            } else if (lookup.found() == null) {
                error = INVALID_PRODUCER_ID_MAPPING;
            } else {
                TransactionMetadata metadata = lookup.found().metadata();
                synchronized (state) {
                    if (metadata.producerId != producerId) {
                        error = INVALID_PRODUCER_ID_MAPPING;
                    } else if (metadata.producerEpoch != producerEpoch) {
                        error = PRODUCER_FENCED;
                        logFenced("AddPartitionsToTxn (verify only)", transactionalId, producerId, producerEpoch,
                                metadata);
                    } else if (metadata.state == TransactionState.PREPARE_COMMIT
                            || metadata.state == TransactionState.PREPARE_ABORT) {
                        error = CONCURRENT_TRANSACTIONS;
                    } else {
                        for (TopicPartition tp : partitions) {
                            result.put(tp, metadata.topicPartitions.contains(tp) ? NONE : TRANSACTION_ABORTABLE);
                        }
                        return result;
                    }
                }
            }
        }
        for (TopicPartition tp : partitions) result.put(tp, error);
        return result;
    }

    // ---------------------------------------------------------------- EndTxn

    /** EndTxn from a client; {@code clientVersion} 2 for EndTxn v5+, else 0. */
    public void handleEndTransaction(String transactionalId, long producerId, short producerEpoch, boolean commit,
                                     short clientVersion, Consumer<EndResult> callback) {
        endTransaction(transactionalId, producerId, producerEpoch, commit, true, clientVersion, callback);
    }

    private void endTransaction(String transactionalId, long producerId, short producerEpoch, boolean commit,
                                boolean isFromClient, short clientVersion, Consumer<EndResult> callback) {
        if (Features.supportsEpochBump(clientVersion)) {
            TransactionVersion2.endTransaction(this, transactionalId, producerId, producerEpoch, commit, isFromClient,
                    clientVersion, callback);
        } else {
            endTransactionV1(transactionalId, producerId, producerEpoch, commit, isFromClient,
                    e -> callback.accept(EndResult.error(e)));
        }
    }

    /**
     * Kafka's endTransaction (transaction version 1): Ongoing moves to PrepareCommit/PrepareAbort, which is written
     * and replicated before the answer; then the markers go out and, once all are written, the Complete state. A
     * retry of a completed EndTxn is answered NONE; other states answer CONCURRENT_TRANSACTIONS or
     * INVALID_TXN_STATE. Internal aborts (timeouts, fencing) come with the bumped epoch and
     * {@code isFromClient} false.
     */
    private void endTransactionV1(String transactionalId, long producerId, short producerEpoch, boolean commit,
                                  boolean isFromClient, Consumer<Short> callback) {
        EpochAndMetadata held = existing(transactionalId, callback);
        if (held == null) return;
        int coordinatorEpoch = held.coordinatorEpoch();
        TransactionMetadata metadata = held.metadata();
        TransactionMetadata.Transition transition;
        boolean epochFence = false;
        synchronized (state) {
            short error = NONE;
            if (metadata.producerId != producerId) {
                error = INVALID_PRODUCER_ID_MAPPING;
            } else if ((isFromClient && producerEpoch != metadata.producerEpoch) || producerEpoch < metadata.producerEpoch) {
                // Clients must match exactly; internal aborts come with the epoch bumped by one.
                error = PRODUCER_FENCED;
                logFenced(isFromClient ? "EndTxn" : "Internal abort", transactionalId, producerId, producerEpoch,
                        metadata);
            } else if (metadata.pendingTransitionInProgress()
                    && metadata.pendingState != TransactionState.PREPARE_EPOCH_FENCE) {
                error = CONCURRENT_TRANSACTIONS;
            } else {
                switch (metadata.state) {
                    case ONGOING -> { }
                    case COMPLETE_COMMIT -> error = commit ? NONE : invalidState(transactionalId, metadata, commit);
                    case COMPLETE_ABORT -> error = !commit ? NONE : invalidState(transactionalId, metadata, commit);
                    case PREPARE_COMMIT -> error = commit ? CONCURRENT_TRANSACTIONS
                            : invalidState(transactionalId, metadata, commit);
                    case PREPARE_ABORT -> error = !commit ? CONCURRENT_TRANSACTIONS
                            : invalidState(transactionalId, metadata, commit);
                    case EMPTY -> error = invalidState(transactionalId, metadata, commit);
                    default -> throw new IllegalStateException("Found transactionalId " + transactionalId
                            + " with state " + metadata.state
                            + ". This is illegal as we should never have transitioned to this state.");
                }
                if (metadata.state != TransactionState.ONGOING) {
                    callback.accept(error);
                    return;
                }
            }
            if (error != NONE) {
                callback.accept(error);
                return;
            }
            if (!commit && metadata.pendingState == TransactionState.PREPARE_EPOCH_FENCE) {
                // The fence becomes the abort: the bumped epoch goes into the PrepareAbort record.
                epochFence = true;
                metadata.pendingState = null;
                metadata.producerEpoch = producerEpoch;
                metadata.lastProducerEpoch = TransactionMetadata.NO_PRODUCER_EPOCH;
            }
            transition = metadata.prepareAbortOrCommit(commit ? TransactionState.PREPARE_COMMIT
                    : TransactionState.PREPARE_ABORT, Features.TRANSACTION_VERSION_0,
                    TransactionMetadata.NO_PRODUCER_ID, clock.getAsLong(), false);
        }
        boolean fenced = epochFence;
        state.appendTransition(transactionalId, coordinatorEpoch, transition, e -> false, error -> {
            if (error != NONE) {
                if (fenced) state.markFailedEpochFence(transactionalId, coordinatorEpoch);
                callback.accept(error);
                return;
            }
            PendingCompletion completion;
            short error2 = NONE;
            synchronized (state) {
                Lookup now = state.lookup(transactionalId);
                EpochAndMetadata found = now.found();
                if (now.error() != NONE) {
                    error2 = now.error();
                } else if (found == null || found.coordinatorEpoch() != coordinatorEpoch) {
                    error2 = NOT_COORDINATOR;
                } else if (found.metadata().producerId != producerId) {
                    error2 = INVALID_PRODUCER_ID_MAPPING;
                } else if (found.metadata().producerEpoch != producerEpoch) {
                    error2 = PRODUCER_FENCED;
                    logFenced(isFromClient ? "EndTxn (after its write)" : "Internal abort (after its write)",
                            transactionalId, producerId, producerEpoch, found.metadata());
                } else if (found.metadata().pendingTransitionInProgress()) {
                    error2 = CONCURRENT_TRANSACTIONS;
                } else if (found.metadata().state != (commit ? TransactionState.PREPARE_COMMIT
                        : TransactionState.PREPARE_ABORT)) {
                    error2 = invalidState(transactionalId, found.metadata(), commit);
                }
                completion = error2 != NONE ? null : new PendingCompletion(transactionalId, coordinatorEpoch, commit,
                        found.metadata(), found.metadata().prepareComplete(clock.getAsLong()));
            }
            if (completion == null) {
                callback.accept(error2);
                return;
            }
            // The decision is durable: the client is answered now, the markers follow.
            callback.accept(NONE);
            sendMarkers(completion);
        });
    }

    /**
     * Logs a fencing decision with what it was made on: the request's producer id and epoch against the
     * coordinator's current and last ones and its state, so a fenced producer in a log can be traced to its request.
     */
    static void logFenced(String request, String transactionalId, long producerId, short producerEpoch,
                          TransactionMetadata m) {
        LOG.log(System.Logger.Level.INFO, "{0} of transactional id {1} with producer id {2} and epoch {3} is fenced: "
                + "the coordinator holds producer id {4} (last {5}) at epoch {6} (last {7}) in state {8} (pending {9})",
                request, transactionalId, producerId, producerEpoch, m.producerId, m.lastProducerId, m.producerEpoch,
                m.lastProducerEpoch, m.state, m.pendingState);
    }

    static short invalidState(String transactionalId, TransactionMetadata metadata, boolean commit) {
        LOG.log(System.Logger.Level.WARNING, "TransactionalId: {0}''s state is {1}, but received transaction marker "
                + "result to send: {2}", transactionalId, metadata.state.displayName, commit ? "COMMIT" : "ABORT");
        return INVALID_TXN_STATE;
    }

    /**
     * Writes the markers of a durable Prepare state with the producer id and epoch it holds: with version 2 the
     * bumped epoch (even when the Complete state hands over to a new producer id), so the old epoch is fenced on
     * every partition of the transaction.
     */
    void sendMarkers(PendingCompletion c) {
        Set<TopicPartition> partitions;
        long producerId;
        short producerEpoch;
        synchronized (state) {
            partitions = Set.copyOf(c.metadata().topicPartitions);
            producerId = c.metadata().producerId;
            producerEpoch = c.metadata().producerEpoch;
        }
        markers.send(new TransactionMarkerSender.MarkerJob(c.transactionalId(), producerId, producerEpoch, c.commit(),
                c.coordinatorEpoch(), state.partitionFor(c.transactionalId()), partitions, c.complete()));
    }

    @Override
    public boolean stillCoordinates(TransactionMarkerSender.MarkerJob job) {
        return state.isCoordinatorFor(job.txnPartition, job.coordinatorEpoch);
    }

    @Override
    public void partitionCompleted(TransactionMarkerSender.MarkerJob job, TopicPartition tp) {
        synchronized (state) {
            Lookup lookup = state.lookup(job.transactionalId);
            if (lookup.found() != null && lookup.found().coordinatorEpoch() == job.coordinatorEpoch) {
                TransactionMetadata m = lookup.found().metadata();
                if (m.state == TransactionState.PREPARE_COMMIT || m.state == TransactionState.PREPARE_ABORT) {
                    m.topicPartitions.remove(tp);
                }
            }
        }
    }

    @Override
    public void allMarkersWritten(TransactionMarkerSender.MarkerJob job) {
        executor.execute(() -> writeComplete(job));
    }

    /** Writes CompleteCommit/CompleteAbort; retried while the state partition cannot take it (Kafka's rule). */
    private void writeComplete(TransactionMarkerSender.MarkerJob job) {
        if (!stillCoordinates(job)) return;
        state.appendTransition(job.transactionalId, job.coordinatorEpoch, job.complete,
                error -> error == COORDINATOR_NOT_AVAILABLE, error -> {
                    if (error == COORDINATOR_NOT_AVAILABLE) {
                        executor.schedule(() -> writeComplete(job), TransactionMarkerSender.RETRY_BACKOFF_MS,
                                TimeUnit.MILLISECONDS);
                    } else if (error == NONE) {
                        LOG.log(System.Logger.Level.DEBUG, "Completed transaction of {0}", job.transactionalId);
                    } else {
                        LOG.log(System.Logger.Level.INFO, "Could not write the completion of {0}'s transaction: {1}",
                                job.transactionalId, error);
                    }
                });
    }

    // ---------------------------------------------------------------- leadership of the state partitions

    /** This broker became the leader of a state partition: its transactions load on the coordinator's thread. */
    public void onElection(int partition, int coordinatorEpoch) {
        LOG.log(System.Logger.Level.INFO, "Elected as the transaction coordinator for partition {0} at epoch {1}",
                partition, coordinatorEpoch);
        state.startLoading(partition, coordinatorEpoch);
        executor.execute(() -> {
            for (PendingCompletion c : state.load(partition, coordinatorEpoch)) sendMarkers(c);
        });
    }

    // ---------------------------------------------------------------- timeouts and expiry

    void abortTimedOutTransactions() {
        try {
            for (TransactionMetadata m : state.timedOutTransactions(clock.getAsLong())) {
                TransactionMetadata.Transition fence;
                long producerId;
                synchronized (state) {
                    if (m.pendingTransitionInProgress() || m.state != TransactionState.ONGOING) continue;
                    producerId = m.producerId;
                    fence = m.prepareFenceProducerEpoch();
                }
                LOG.log(System.Logger.Level.INFO, "Aborting transaction of {0}: it exceeded its timeout of {1} ms",
                        m.transactionalId, m.txnTimeoutMs);
                endTransaction(m.transactionalId, producerId, fence.producerEpoch(), false, false,
                        state.transactionVersion(), result -> {
                            if (result.error() != NONE) {
                                LOG.log(System.Logger.Level.INFO, "Rollback of the timed out transaction of {0}: {1}",
                                        m.transactionalId, result.error());
                            }
                        });
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Aborting timed out transactions failed", e);
        }
    }

    void expireTransactionalIds() {
        try {
            List<PendingCompletion> expiring = state.prepareExpirations(clock.getAsLong());
            for (PendingCompletion c : expiring) {
                state.appendTransition(c.transactionalId(), c.coordinatorEpoch(), c.complete(), e -> false, error -> {
                    if (error != NONE) {
                        LOG.log(System.Logger.Level.INFO, "Failed to remove expired transactionalId {0}: {1}",
                                c.transactionalId(), error);
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "Expiring transactional ids failed", e);
        }
    }
}
