package io.tandem.server.kafka.txn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.log.RecordBuffers;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The transaction metadata of every transactional id whose {@code __transaction_state} partition this broker leads
 * (Kafka's TransactionStateManager): loaded from the partition when this broker becomes its leader, changed only
 * by appending the new state and waiting for the ISR to have it, and dropped when the leadership goes.
 *
 * <p>One lock (this object) guards the cache and every {@link TransactionMetadata}. Nothing that takes a purgatory
 * operation's lock (appends, replication waits) runs under it, and replication callbacks continue on the
 * coordinator's own thread ({@code callbacks}), so no thread ever waits for this lock while holding a purgatory
 * operation's monitor and the other way round.
 */
public final class TransactionStateManager {
    private static final System.Logger LOG = System.getLogger(TransactionStateManager.class.getName());
    /** Bytes read from the log per step while loading a partition (Kafka's transaction.state.log.load.buffer.size). */
    static final int LOAD_BUFFER_BYTES = 5 * 1024 * 1024;

    private final TransactionConfig config;
    /**
     * The finalized {@code transaction.version}: it picks the value version of the records written, and the version
     * of the coordinator's own aborts. Starts at the configured level; {@link FinalizedFeatures} moves it.
     */
    private volatile short transactionVersion;
    private final TransactionStateLog stateLog;
    private final Executor callbacks;
    private final LongSupplier clock;
    /** Loaded partitions of the state topic: coordinator epoch and metadata by transactional id. */
    private final Map<Integer, CacheEntry> cache = new HashMap<>();
    /** The state topic's partition count once the topic exists (it never changes; looking it up may read ZooKeeper). */
    private volatile int knownPartitionCount = -1;
    /** Partitions being loaded, with the coordinator epoch of the load. */
    private final Map<Integer, Integer> loading = new HashMap<>();

    private record CacheEntry(int coordinatorEpoch, Map<String, TransactionMetadata> metadata) {
    }

    /** A transactional id's metadata and the coordinator epoch it was read under. */
    public record EpochAndMetadata(int coordinatorEpoch, TransactionMetadata metadata) {
    }

    /** A lookup: an error (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), or the metadata, or neither (unknown). */
    public record Lookup(short error, EpochAndMetadata found) {
        static Lookup error(short error) {
            return new Lookup(error, null);
        }
    }

    /** A transaction whose markers must (still) be written: what a loaded PrepareCommit/PrepareAbort asks for. */
    public record PendingCompletion(String transactionalId, int coordinatorEpoch, boolean commit,
                                    TransactionMetadata metadata, TransactionMetadata.Transition complete) {
    }

    public TransactionStateManager(TransactionConfig config, TransactionStateLog stateLog, Executor callbacks,
                                   LongSupplier clock) {
        this.config = config;
        this.transactionVersion = config.transactionVersion();
        this.stateLog = stateLog;
        this.callbacks = callbacks;
        this.clock = clock;
    }

    /** The state topic's partition count: the topic's own once it exists (it is fixed for life), else the setting. */
    public int partitionCount() {
        int known = knownPartitionCount;
        if (known > 0) return known;
        int existing = stateLog.partitionCount();
        if (existing > 0) {
            knownPartitionCount = existing;
            return existing;
        }
        return config.stateLogPartitions();
    }

    public int partitionFor(String transactionalId) {
        return TransactionLogCodec.partitionFor(transactionalId, partitionCount());
    }

    /** Kafka's check: positive and at most transaction.max.timeout.ms. */
    public boolean validTransactionTimeout(int timeoutMs) {
        return timeoutMs > 0 && timeoutMs <= config.maxTimeoutMs();
    }

    /**
     * An epoch fence's write failed: the bumped epoch may or may not be in the log, so the next fence of this
     * transactional id (still at {@code coordinatorEpoch}) must not bump again.
     */
    public synchronized void markFailedEpochFence(String transactionalId, int coordinatorEpoch) {
        Lookup now = lookup(transactionalId);
        if (now.found() != null && now.found().coordinatorEpoch() == coordinatorEpoch) {
            now.found().metadata().hasFailedEpochFence = true;
        }
    }

    public synchronized Lookup lookup(String transactionalId) {
        return lookupLocked(transactionalId, null);
    }

    /** The metadata, adding {@code created} when the id is unknown (and this broker coordinates it). */
    public synchronized Lookup putIfAbsent(String transactionalId, TransactionMetadata created) {
        return lookupLocked(transactionalId, created);
    }

    private Lookup lookupLocked(String transactionalId, TransactionMetadata created) {
        int partition = partitionFor(transactionalId);
        if (loading.containsKey(partition)) return Lookup.error(COORDINATOR_LOAD_IN_PROGRESS);
        CacheEntry entry = current(partition);
        if (entry == null) return Lookup.error(NOT_COORDINATOR);
        TransactionMetadata metadata = entry.metadata().get(transactionalId);
        if (metadata == null && created != null) {
            entry.metadata().put(transactionalId, created);
            metadata = created;
        }
        return new Lookup(NONE, metadata == null ? null : new EpochAndMetadata(entry.coordinatorEpoch(), metadata));
    }

    /**
     * The loaded entry of a partition this broker still leads. A leadership lost since the load unloads it here:
     * the next LeaderAndIsr that makes this broker leader again loads it afresh.
     */
    private CacheEntry current(int partition) {
        CacheEntry entry = cache.get(partition);
        if (entry == null) return null;
        if (stateLog.ledPartition(partition) == null) {
            cache.remove(partition);
            LOG.log(System.Logger.Level.INFO, "Unloaded the transactions of __transaction_state-{0}: no longer its leader",
                    partition);
            return null;
        }
        return entry;
    }

    /** Whether this broker still coordinates the partition's transactions at that coordinator epoch. */
    public synchronized boolean isCoordinatorFor(int partition, int coordinatorEpoch) {
        CacheEntry entry = current(partition);
        return entry != null && entry.coordinatorEpoch() == coordinatorEpoch;
    }

    // ---------------------------------------------------------------- writing the log

    /**
     * Appends the prepared transition of {@code transactionalId} to its state partition and, once the ISR has it,
     * applies it to the metadata; {@code callback} gets the outcome (coordinator errors, Kafka's mapping of the
     * append errors) on the coordinator's thread, or at once on this thread when nothing was written. When the
     * append fails the pending state is cleared, unless {@code retryOnError} says the caller retries the same
     * transition. Must not be called holding this object's lock.
     */
    public void appendTransition(String transactionalId, int coordinatorEpoch, TransactionMetadata.Transition transition,
                                 Predicate<Short> retryOnError, Consumer<Short> callback) {
        Partition partition;
        synchronized (this) {
            Lookup lookup = lookupLocked(transactionalId, null);
            short error = lookup.error() != NONE ? lookup.error()
                    : lookup.found() == null || lookup.found().coordinatorEpoch() != coordinatorEpoch ? NOT_COORDINATOR
                    : NONE;
            partition = error == NONE ? stateLog.ledPartition(partitionFor(transactionalId)) : null;
            if (error == NONE && partition == null) error = NOT_COORDINATOR;
            if (error != NONE) {
                short failed = error;
                // Same rule as a failed write: the prepared transition will not happen.
                if (lookup.found() != null && lookup.found().coordinatorEpoch() == coordinatorEpoch
                        && !retryOnError.test(failed)) {
                    lookup.found().metadata().pendingState = null;
                }
                callback.accept(failed);
                return;
            }
        }
        byte[] key = TransactionLogCodec.key(transactionalId);
        byte[] value = transition.state() == TransactionState.DEAD ? null : TransactionLogCodec.value(transition,
                TransactionLogCodec.valueVersion(transactionVersion));
        Partition.AppendResult result;
        ByteBuf buf = RecordBuffers.allocate();
        try {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(buf)) {
                builder.append(clock.getAsLong(), key, value);
                builder.build();
            }
            result = partition.append(RecordBuffers.asAppended(buf), LogValidator.forCoordinator(clock.getAsLong()),
                    config.stateLogMinIsr());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Cannot append to " + partition.topicPartition(), e);
            result = new Partition.AppendResult(KAFKA_STORAGE_ERROR, e.getMessage(), -1, -1, -1, -1, java.util.List.of());
        } finally {
            buf.release();
        }
        if (result.error() != NONE) {
            short error = result.error();
            callbacks.execute(() -> completeAppend(transactionalId, coordinatorEpoch, transition, error, retryOnError,
                    callback));
            return;
        }
        stateLog.whenReplicated(partition, result.lastOffset() + 1, TransactionConfig.REQUEST_TIMEOUT_MS,
                error -> callbacks.execute(() -> completeAppend(transactionalId, coordinatorEpoch, transition, error,
                        retryOnError, callback)));
    }

    /** Kafka's mapping of a state-log append error to what the coordinator answers. */
    static short coordinatorError(short appendError) {
        if (appendError == UNKNOWN_TOPIC_OR_PARTITION || appendError == NOT_ENOUGH_REPLICAS
                || appendError == NOT_ENOUGH_REPLICAS_AFTER_APPEND || appendError == REQUEST_TIMED_OUT) {
            return COORDINATOR_NOT_AVAILABLE;
        }
        if (appendError == NOT_LEADER_OR_FOLLOWER || appendError == KAFKA_STORAGE_ERROR) return NOT_COORDINATOR;
        if (appendError == MESSAGE_TOO_LARGE || appendError == RECORD_LIST_TOO_LARGE) return UNKNOWN_SERVER_ERROR;
        return appendError;
    }

    private void completeAppend(String transactionalId, int coordinatorEpoch, TransactionMetadata.Transition transition,
                                short appendError, Predicate<Short> retryOnError, Consumer<Short> callback) {
        short error = coordinatorError(appendError);
        synchronized (this) {
            Lookup lookup = lookupLocked(transactionalId, null);
            EpochAndMetadata found = lookup.found();
            if (error == NONE) {
                if (lookup.error() != NONE) {
                    error = lookup.error();
                } else if (found == null || found.coordinatorEpoch() != coordinatorEpoch) {
                    // The partition moved away and back while the write was in flight: let the client rediscover.
                    error = NOT_COORDINATOR;
                } else if (transition.state() == TransactionState.DEAD) {
                    cache.get(partitionFor(transactionalId)).metadata().remove(transactionalId);
                } else {
                    found.metadata().completeTransitionTo(transition);
                }
            } else if (found != null && found.coordinatorEpoch() == coordinatorEpoch && !retryOnError.test(error)) {
                found.metadata().pendingState = null;
            }
            if (error != NONE) {
                LOG.log(System.Logger.Level.INFO, "Writing {0} for transactional id {1} failed: {2}", transition.state(),
                        transactionalId, error);
            }
        }
        callback.accept(error);
    }

    // ---------------------------------------------------------------- loading and unloading

    /** Marks a partition as loading at this epoch (its transactional ids answer COORDINATOR_LOAD_IN_PROGRESS). */
    public synchronized void startLoading(int partition, int coordinatorEpoch) {
        loading.put(partition, coordinatorEpoch);
        cache.remove(partition);
    }

    /**
     * Kafka's onResignation ({@code why}: this broker became a follower of the partition, or its replica here was
     * deleted): the partition's transactions leave memory and a load of it in progress is dropped, so its
     * transactional ids answer NOT_COORDINATOR until this broker leads it again (and loads it afresh).
     */
    public synchronized void unload(int partition, String why) {
        loading.remove(partition);
        CacheEntry gone = cache.remove(partition);
        if (gone != null) {
            LOG.log(System.Logger.Level.INFO, "Unloaded {0} transactional ids of __transaction_state-{1}: {2}",
                    gone.metadata().size(), partition, why);
        }
    }

    /**
     * Reads the partition's log and installs what it holds, unless another load or an unload overtook this one.
     * Returns the transactions left in PrepareCommit/PrepareAbort, whose markers the caller must write again.
     */
    public List<PendingCompletion> load(int partitionIndex, int coordinatorEpoch) {
        long startMs = clock.getAsLong();
        Map<String, TransactionMetadata> loaded = new LinkedHashMap<>();
        Partition partition = stateLog.ledPartition(partitionIndex);
        boolean complete = partition != null;
        if (partition != null) {
            try {
                readLog(partition, loaded);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "Error loading transactions from " + partition.topicPartition(), e);
                complete = false;
            }
        }
        List<PendingCompletion> pending = new ArrayList<>();
        synchronized (this) {
            Integer epoch = loading.get(partitionIndex);
            if (epoch == null || epoch != coordinatorEpoch) return pending;
            loading.remove(partitionIndex);
            if (!complete || stateLog.ledPartition(partitionIndex) == null) return pending;
            cache.put(partitionIndex, new CacheEntry(coordinatorEpoch, loaded));
            long now = clock.getAsLong();
            for (TransactionMetadata metadata : loaded.values()) {
                if (metadata.state == TransactionState.PREPARE_COMMIT || metadata.state == TransactionState.PREPARE_ABORT) {
                    pending.add(new PendingCompletion(metadata.transactionalId, coordinatorEpoch,
                            metadata.state == TransactionState.PREPARE_COMMIT, metadata, metadata.prepareComplete(now)));
                }
            }
        }
        LOG.log(System.Logger.Level.INFO, "Loaded {0} transactional ids from __transaction_state-{1} at coordinator "
                + "epoch {2} in {3} ms", loaded.size(), partitionIndex, coordinatorEpoch, clock.getAsLong() - startMs);
        return pending;
    }

    private static void readLog(Partition partition, Map<String, TransactionMetadata> loaded) throws IOException {
        long offset = partition.logStartOffset();
        while (offset < partition.logEndOffset()) {
            LogSlice slice = partition.log().read(offset, LOAD_BUFFER_BYTES, Long.MAX_VALUE, true);
            if (slice.isEmpty()) break;
            ByteBuf bytes = slice.readBytes(ByteBufAllocator.DEFAULT);
            try {
                for (RecordBatch batch : RecordBatches.of(bytes)) {
                    if (batch.isControl()) continue;
                    try (RecordIterator records = batch.records()) {
                        while (records.hasNext()) {
                            Record record = records.next();
                            if (!record.hasKey()) continue;
                            String transactionalId = TransactionLogCodec.readKey(ByteBufUtil.getBytes(record.key()));
                            if (transactionalId == null) continue;
                            if (!record.hasValue()) {
                                loaded.remove(transactionalId);
                            } else {
                                loaded.put(transactionalId, TransactionLogCodec.readValue(transactionalId,
                                        ByteBufUtil.getBytes(record.value())));
                            }
                        }
                    }
                }
            } finally {
                bytes.release();
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
    }

    // ---------------------------------------------------------------- queries

    /** Ongoing transactions past their timeout with no change in flight: Kafka's timedOutTransactions. */
    public synchronized List<TransactionMetadata> timedOutTransactions(long nowMs) {
        List<TransactionMetadata> result = new ArrayList<>();
        for (int partition : List.copyOf(cache.keySet())) {
            CacheEntry entry = current(partition);
            if (entry == null) continue;
            for (TransactionMetadata m : entry.metadata().values()) {
                if (m.pendingState == null && m.state == TransactionState.ONGOING
                        && m.txnStartTimestamp + m.txnTimeoutMs < nowMs) {
                    result.add(m);
                }
            }
        }
        return result;
    }

    /**
     * Prepares the expiry of transactional ids idle for transactional.id.expiration.ms in a state that allows it;
     * returns them with their coordinator epoch and the Dead transition to write (a tombstone).
     */
    public synchronized List<PendingCompletion> prepareExpirations(long nowMs) {
        List<PendingCompletion> result = new ArrayList<>();
        for (int partition : List.copyOf(cache.keySet())) {
            CacheEntry entry = current(partition);
            if (entry == null) continue;
            for (TransactionMetadata m : entry.metadata().values()) {
                if (m.pendingState == null && m.state.isExpirationAllowed()
                        && m.txnLastUpdateTimestamp <= nowMs - config.transactionalIdExpirationMs()) {
                    result.add(new PendingCompletion(m.transactionalId, entry.coordinatorEpoch(), false, m,
                            m.prepareDead()));
                }
            }
        }
        return result;
    }

    /** Every loaded metadata (for ListTransactions), or null while a partition is still loading. */
    public synchronized List<TransactionMetadata> allOrNullWhileLoading() {
        if (!loading.isEmpty()) return null;
        List<TransactionMetadata> all = new ArrayList<>();
        for (int partition : List.copyOf(cache.keySet())) {
            CacheEntry entry = current(partition);
            if (entry != null) all.addAll(entry.metadata().values());
        }
        return all;
    }

    /** The finalized transaction version now in force. */
    public short transactionVersion() {
        return transactionVersion;
    }

    /** The cluster finalized another transaction version (UpdateFeatures, or read at start-up). */
    void transactionVersion(short level) {
        transactionVersion = level;
    }
}
