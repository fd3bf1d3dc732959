package io.tandem.server.kafka.group.share.state;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.metadata.TopicId;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share coordinator (KIP-932's persister back end, Kafka's ShareCoordinatorShard): the durable state of every
 * share-partition whose {@code __share_group_state} partition this broker leads, answering InitializeShareGroupState,
 * ReadShareGroupState, WriteShareGroupState, DeleteShareGroupState and ReadShareGroupStateSummary. Initialize writes
 * a ShareSnapshot record; a write needs initialized state (as Kafka 4.4) and becomes a ShareSnapshot record after
 * {@code share.coordinator.snapshot.update.records.per.snapshot} updates, else a ShareUpdate record holding only the
 * batches written; reading replays them (snapshot, then updates combined onto it). The in-memory state changes only
 * after its record was appended, so what a caller was told is what a reload finds. Methods are synchronized: records
 * are appended in the order the state changed.
 */
public final class ShareStateCoordinator {
    /** Kafka's answer for a share-partition with no state: start offset -1 (uninitialized), state epoch 0. */
    public static final long UNINITIALIZED_START_OFFSET = -1;
    public static final int DEFAULT_STATE_EPOCH = 0;
    /**
     * The leader epoch InitializeShareGroupState stores (the request carries none): Kafka 4.4's
     * ShareGroupOffset.fromRequest sets 0, and a summary of a share-partition without state answers 0 as well.
     */
    public static final int INITIAL_LEADER_EPOCH = 0;
    /**
     * Kafka 4.4's ShareCoordinatorShard message (INVALID_REQUEST) for a read of a share-partition no one initialized:
     * only the group coordinator creates state, so a share-partition's leader never reads its way into having some.
     */
    public static final String READ_UNINITIALIZED_MESSAGE =
            "Read operation on uninitialized share partition not allowed.";

    /** Where records go: the {@code __share_group_state} partition, led here, or an ApiException (NOT_COORDINATOR). */
    public interface StateLog {
        int partitionCount();

        /** Whether this broker leads the state partition now (and so answers for its share-partitions). */
        boolean leads(int partition);

        /** Appends the records in one batch; returns the offset of the first. */
        long append(int partition, List<byte[][]> keyValues);

        /**
         * The partition's log end offset now (everything appended so far, some of it maybe not yet replicated): what
         * an answer given now depends on. NOT_COORDINATOR when this broker does not lead it.
         */
        long endOffset(int partition);

        /**
         * Calls {@code then} with NONE once the partition's high watermark reaches {@code offset} while this broker
         * leads it, or with the share coordinator's error: NOT_COORDINATOR when this broker no longer leads it (the
         * records may be truncated by the new leader), COORDINATOR_NOT_AVAILABLE when the ISR did not take them in
         * time. A new leader epoch under this same leader (an ISR change) is no error: its log keeps the records, as
         * Kafka's coordinator runtime keeps a write pending until the leader itself changes.
         */
        void whenCommitted(int partition, long offset, Consumer<Short> then);

        /**
         * Removes the records below {@code offset} from the state partition (Kafka's pruning of
         * {@code __share_group_state}, whose cleanup policy is delete, not compact).
         */
        void prune(int partition, long offset);
    }

    /**
     * The point of a state partition's log an answer waits for (Kafka's CoordinatorRuntime answers once the high
     * watermark passes the operation's records, and a read or a write without records waits for the last pending
     * write): {@code offset} is the log end offset right after the operation, taken under this coordinator's lock;
     * {@code term} counts this coordinator's loads and unloads of the partition, so an answer whose records a change
     * of leader may have truncated (this broker resigned, even if it leads again since) fails with NOT_COORDINATOR.
     */
    public record Commit(int partition, long offset, long term) {
    }

    /** A share-partition's key, as Kafka's SharePartitionKey. */
    public record Key(String groupId, UUID topicId, int partition) {
        /** Kafka's coordinator key text, {@code group:topicId:partition}, whose hash picks the state partition. */
        public String coordinatorKey() {
            // A null topic id reads "null", as Kafka's string concatenation has it (the shard then refuses it).
            return groupId + ":" + (topicId == null ? "null" : TopicId.toText(topicId)) + ":" + partition;
        }
    }

    /**
     * What Read/ReadSummary answer for one share-partition: {@code initialized} false when it has no state (start
     * offset -1, the default state epoch). Even then the answer waits for {@code commit}: a pending tombstone may still
     * be lost with the state partition's leader, and the state with it come back.
     */
    public record State(int stateEpoch, int leaderEpoch, long startOffset, int deliveryCompleteCount,
                        List<ShareStateBatch> stateBatches, Commit commit, boolean initialized) {
        static State absent(Commit commit) {
            return new State(DEFAULT_STATE_EPOCH, INITIAL_LEADER_EPOCH, UNINITIALIZED_START_OFFSET, -1, List.of(),
                    commit, false);
        }
    }

    private static final class Entry {
        int snapshotEpoch;
        int stateEpoch;
        int leaderEpoch;
        long startOffset;
        int deliveryCompleteCount = -1;
        long createTimestamp;
        long writeTimestamp;
        List<ShareStateBatch> batches = List.of();
        int updatesSinceSnapshot;
        /** The offset of the latest snapshot record: everything this share-partition needs is at or above it. */
        long snapshotOffset = -1;
    }

    private final int updatesPerSnapshot;
    /** share.coordinator.write.timeout.ms: the state log's wait for a commit ends with an error after this. */
    private final int writeTimeoutMs;
    private final StateLog log;
    /** Whether the topic partition exists (Kafka answers UNKNOWN_TOPIC_OR_PARTITION for a share-partition that does not). */
    private final BiPredicate<UUID, Integer> partitionExists;
    private final LongSupplier clock;
    private final Map<Key, Entry> states = new HashMap<>();
    /** The highest leader epoch a reader or writer presented, per share-partition (Kafka's leaderEpochMap). */
    private final Map<Key, Integer> leaderEpochs = new HashMap<>();
    /**
     * Per state partition, how often it was unloaded (a resignation, or the unload before a load): read by commits
     * completing on other threads, so concurrent rather than under this coordinator's lock.
     */
    private final Map<Integer, Long> terms = new ConcurrentHashMap<>();

    public ShareStateCoordinator(int updatesPerSnapshot, StateLog log, BiPredicate<UUID, Integer> partitionExists,
                                 LongSupplier clock) {
        this(updatesPerSnapshot, ShareCoordinatorConfig.WRITE_TIMEOUT_MS_DEFAULT, log, partitionExists, clock);
    }

    /** {@code writeTimeoutMs}: share.coordinator.write.timeout.ms, the longest an answer waits for its commit. */
    public ShareStateCoordinator(int updatesPerSnapshot, int writeTimeoutMs, StateLog log,
                                 BiPredicate<UUID, Integer> partitionExists, LongSupplier clock) {
        if (updatesPerSnapshot < 0) throw new IllegalArgumentException("updates per snapshot must not be negative");
        this.updatesPerSnapshot = updatesPerSnapshot;
        this.writeTimeoutMs = writeTimeoutMs;
        this.log = log;
        this.partitionExists = partitionExists;
        this.clock = clock;
    }

    /** share.coordinator.write.timeout.ms of this coordinator. */
    public int writeTimeoutMs() {
        return writeTimeoutMs;
    }

    /** Kafka's partition choice: {@code Utils.abs(coordinatorKey.hashCode()) % partitions}. */
    public static int partitionFor(Key key, int partitionCount) {
        int hash = key.coordinatorKey().hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitionCount;
    }

    public int partitionFor(Key key) {
        return partitionFor(key, log.partitionCount());
    }

    // ---------------------------------------------------------------- the persister APIs

    /**
     * InitializeShareGroupState: a fresh snapshot at the given state epoch and start offset, no batches. As every
     * operation here, it returns what its answer must wait for ({@link #whenCommitted}).
     */
    public synchronized Commit initialize(Key key, int stateEpoch, long startOffset) {
        checkKey(key);
        if (stateEpoch < 0) throw new ApiException(INVALID_REQUEST, "The state epoch cannot be a negative number.");
        Entry old = states.get(key);
        if (old != null && old.stateEpoch > stateEpoch) {
            throw new ApiException(FENCED_STATE_EPOCH, Errors.FENCED_STATE_EPOCH.message());
        }
        checkExists(key);
        Entry next = new Entry();
        next.snapshotEpoch = old == null ? 0 : old.snapshotEpoch + 1;
        next.stateEpoch = stateEpoch;
        next.leaderEpoch = INITIAL_LEADER_EPOCH;
        next.startOffset = startOffset;
        // As Kafka 4.4's ShareGroupOffset.fromRequest: nothing is done yet at a known start offset; at -1 (the start
        // offset decided when the share-partition first loads) the count is unknown too.
        next.deliveryCompleteCount = startOffset == UNINITIALIZED_START_OFFSET ? -1 : 0;
        long now = clock.getAsLong();
        next.createTimestamp = now;
        next.writeTimestamp = now;
        next.snapshotOffset = appendSnapshot(key, next);
        states.put(key, next);
        // As Kafka's replay of the snapshot (maybeUpdateLeaderEpochMap): the highest leader epoch seen stays.
        leaderEpochs.merge(key, next.leaderEpoch, Math::max);
        prune(partitionFor(key));
        return pending(partitionFor(key));
    }

    /**
     * ReadShareGroupState by a share-partition's leader at its leader epoch, as Kafka 4.4's ShareCoordinatorShard
     * (readStateAndMaybeUpdateLeaderEpoch): a negative leader epoch is INVALID_REQUEST; not {@code initialized} for a
     * share-partition never initialized (the wire answers Kafka's INVALID_REQUEST "Read operation on uninitialized
     * share partition not allowed." once the commit is in); FENCED_LEADER_EPOCH for a reader older than the last one
     * seen. A reader with a leader epoch other than the stored one has it stored (a ShareUpdate or ShareSnapshot
     * record with no batches), so the new leader fences the old one's writes after a restart too, and the summary
     * (DescribeShareGroupOffsets' leader epoch) says which leader loaded the share-partition last.
     */
    public synchronized State read(Key key, int leaderEpoch) {
        checkKey(key);
        if (leaderEpoch < 0) throw new ApiException(INVALID_REQUEST, "The leader epoch cannot be a negative number.");
        Entry e = states.get(key);
        if (e == null) return State.absent(pending(partitionFor(key)));
        Integer known = leaderEpochs.get(key);
        if (known != null && known > leaderEpoch) {
            throw new ApiException(FENCED_LEADER_EPOCH, Errors.FENCED_LEADER_EPOCH.message());
        }
        checkExists(key);
        if (known == null || known != leaderEpoch) {
            // Kafka writes the read's leader epoch with the state as it stands: same start offset and count. The
            // answer is the state read (store replaces the entry, e stays as it was), due once that record is in.
            store(key, e, leaderEpoch, e.startOffset, e.deliveryCompleteCount, List.of());
        }
        return new State(e.stateEpoch, e.leaderEpoch, e.startOffset, e.deliveryCompleteCount, e.batches,
                pending(partitionFor(key)), true);
    }

    /** ReadShareGroupStateSummary: the read without batches and without fencing; never initialized is no error. */
    public synchronized State summary(Key key) {
        checkKey(key);
        checkExists(key);
        Entry e = states.get(key);
        Commit commit = pending(partitionFor(key));
        if (e == null) return State.absent(commit);
        return new State(e.stateEpoch, e.leaderEpoch, e.startOffset, e.deliveryCompleteCount, List.of(), commit,
                true);
    }

    /**
     * WriteShareGroupState: {@code batches} overlay the stored ones. As Kafka 4.4's ShareCoordinatorShard
     * (maybeGetWriteStateError, generateShareStateRecord): negative leader or state epochs are INVALID_REQUEST, then
     * state that was never initialized, then a leader epoch older than the last reader's FENCED_LEADER_EPOCH, then
     * an older state epoch FENCED_STATE_EPOCH; the stored leader and state epochs stay as they are (only a read
     * moves the leader epoch, only an initialization the state epoch).
     */
    public synchronized Commit write(Key key, int stateEpoch, int leaderEpoch, long startOffset,
                                   int deliveryCompleteCount, List<ShareStateBatch> batches) {
        checkKey(key);
        if (leaderEpoch < 0) throw new ApiException(INVALID_REQUEST, "The leader epoch cannot be a negative number.");
        if (stateEpoch < 0) throw new ApiException(INVALID_REQUEST, "The state epoch cannot be a negative number.");
        Entry old = states.get(key);
        if (old == null) {
            // Kafka 4.4: state is created by InitializeShareGroupState only.
            throw new ApiException(INVALID_REQUEST, "Write operation on uninitialized share partition not allowed.");
        }
        Integer knownLeader = leaderEpochs.get(key);
        if (knownLeader != null && knownLeader > leaderEpoch) {
            throw new ApiException(FENCED_LEADER_EPOCH, Errors.FENCED_LEADER_EPOCH.message());
        }
        if (old.stateEpoch > stateEpoch) {
            throw new ApiException(FENCED_STATE_EPOCH, Errors.FENCED_STATE_EPOCH.message());
        }
        checkExists(key);
        store(key, old, old.leaderEpoch, startOffset, deliveryCompleteCount, batches);
        return pending(partitionFor(key));
    }

    /**
     * Appends the record of a write (or of a read storing its leader epoch) and applies it: a ShareUpdate with the
     * written batches, or a ShareSnapshot with all of them after {@code updatesPerSnapshot} updates.
     */
    private void store(Key key, Entry old, int leaderEpoch, long startOffset, int deliveryCompleteCount,
                       List<ShareStateBatch> batches) {
        long now = clock.getAsLong();
        Entry next = new Entry();
        next.leaderEpoch = leaderEpoch;
        next.stateEpoch = old.stateEpoch;
        // As Kafka 4.4's ShareCoordinatorShard (generateShareStateRecord): the start offset never goes back (-1, not
        // given, keeps it), and the delivery-complete count belongs to its start offset: a write at the stored start
        // offset keeps the larger count, one behind it (a slower leader's) keeps the stored count.
        next.startOffset = Math.max(startOffset, old.startOffset);
        if (startOffset == old.startOffset) {
            next.deliveryCompleteCount = Math.max(deliveryCompleteCount, old.deliveryCompleteCount);
        } else if (startOffset < old.startOffset) {
            next.deliveryCompleteCount = old.deliveryCompleteCount;
        } else {
            next.deliveryCompleteCount = deliveryCompleteCount;
        }
        next.writeTimestamp = now;
        next.batches = ShareStateBatches.combine(old.batches, batches, next.startOffset);
        if (old.updatesSinceSnapshot >= updatesPerSnapshot) {
            next.snapshotEpoch = old.snapshotEpoch + 1;
            next.createTimestamp = old.createTimestamp;
            next.snapshotOffset = appendSnapshot(key, next);
        } else {
            next.snapshotOffset = old.snapshotOffset;
            next.snapshotEpoch = old.snapshotEpoch;
            next.createTimestamp = old.createTimestamp;
            next.updatesSinceSnapshot = old.updatesSinceSnapshot + 1;
            // Kafka's update record carries the start offset and count as decided above, not as asked.
            byte[] value = ShareStateRecords.updateValue(new ShareStateRecords.Update(next.snapshotEpoch,
                    next.leaderEpoch, next.startOffset, next.deliveryCompleteCount,
                    ShareStateBatches.combine(List.of(), batches, next.startOffset)));
            log.append(partitionFor(key), List.<byte[][]>of(new byte[][]{
                    ShareStateRecords.key(ShareStateRecords.UPDATE, key.groupId(), key.topicId(), key.partition()),
                    value}));
        }
        leaderEpochs.merge(key, next.leaderEpoch, Math::max);
        states.put(key, next);
        if (next.snapshotOffset != old.snapshotOffset) prune(partitionFor(key));
    }

    /**
     * Drops what no share-partition of the state partition needs any more: the records below the oldest of their
     * latest snapshots (a share-partition that never takes a new snapshot holds it back).
     */
    private void prune(int statePartition) {
        int count = log.partitionCount();
        long oldest = Long.MAX_VALUE;
        for (Map.Entry<Key, Entry> e : states.entrySet()) {
            if (partitionFor(e.getKey(), count) == statePartition) oldest = Math.min(oldest, e.getValue().snapshotOffset);
        }
        if (oldest != Long.MAX_VALUE && oldest > 0) log.prune(statePartition, oldest);
    }

    /**
     * DeleteShareGroupState, with Kafka 4.4's checks in its order: the coordinator runtime's NOT_COORDINATOR when the
     * state partition is not led here, then ShareCoordinatorShard's maybeGetDeleteStateError (a null topic id, a
     * negative partition: INVALID_REQUEST; a topic or partition its metadata image lacks: UNKNOWN_TOPIC_OR_PARTITION,
     * even when there is no state to delete). A share-partition without state is no error and writes nothing.
     */
    public synchronized Commit delete(Key key) {
        checkKey(key);
        checkExists(key);
        tombstone(key);
        return pending(partitionFor(key));
    }

    /** Tombstones for the snapshot and update records of a share-partition with state; forgets it. */
    private void tombstone(Key key) {
        if (states.containsKey(key)) {
            log.append(partitionFor(key), List.of(
                    new byte[][]{ShareStateRecords.key(ShareStateRecords.SNAPSHOT, key.groupId(), key.topicId(),
                            key.partition()), null},
                    new byte[][]{ShareStateRecords.key(ShareStateRecords.UPDATE, key.groupId(), key.topicId(),
                            key.partition()), null}));
        }
        states.remove(key);
        leaderEpochs.remove(key);
    }

    /**
     * An operation's answer is due: completes once its commit is in the ISR of the state partition (Kafka's acks=all
     * for the coordinator's writes), else with the share coordinator's ApiException. Until then what the operation
     * saw may be lost with a leader change, and an acknowledgement answered before it would then be forgotten.
     */
    public CompletableFuture<Void> whenCommitted(Commit commit) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        log.whenCommitted(commit.partition(), commit.offset(), error -> {
            // Replicated under a later load: this broker resigned meanwhile, and what the answer depends on may have
            // been truncated before it led the partition again.
            short result = error == NONE && term(commit.partition()) != commit.term() ? NOT_COORDINATOR : error;
            if (result == NONE) {
                done.complete(null);
            } else {
                done.completeExceptionally(new ApiException(result, Errors.forCode(result).message()));
            }
        });
        return done;
    }

    /** What an answer given now depends on: the state partition's log end offset, in this load of it. */
    private Commit pending(int statePartition) {
        return new Commit(statePartition, log.endOffset(statePartition), term(statePartition));
    }

    private long term(int statePartition) {
        return terms.getOrDefault(statePartition, 0L);
    }

    /**
     * Topics were deleted: the state of their share-partitions that this broker holds goes, with tombstones, as
     * Kafka 4.4's share coordinator removes a deleted topic's share state on its own. The followers of the state
     * partition replicate the tombstones.
     */
    public synchronized void topicsDeleted(Set<UUID> topicIds) {
        if (topicIds.isEmpty()) return;
        for (Key key : new ArrayList<>(states.keySet())) {
            if (!topicIds.contains(key.topicId()) || !log.leads(partitionFor(key))) continue;
            try {
                // Not delete(key): the topic may have left the metadata already, which delete refuses.
                tombstone(key);
            } catch (ApiException e) {
                System.getLogger(ShareStateCoordinator.class.getName()).log(System.Logger.Level.WARNING,
                        "State of deleted share-partition " + key.coordinatorKey() + " kept: " + e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- load and unload

    /** Replays one record of a state partition being loaded, oldest first; a null value is a tombstone. */
    public synchronized void replay(long offset, byte[] keyBytes, byte[] valueBytes) {
        ShareStateRecords.Key k = ShareStateRecords.readKey(keyBytes);
        if (k == null) return;
        Key key = new Key(k.groupId(), k.topicId(), k.partition());
        if (valueBytes == null) {
            if (k.type() == ShareStateRecords.SNAPSHOT) {
                states.remove(key);
                leaderEpochs.remove(key);
            }
            return;
        }
        if (k.type() == ShareStateRecords.SNAPSHOT) {
            ShareStateRecords.Snapshot s = ShareStateRecords.readSnapshotValue(valueBytes);
            Entry e = new Entry();
            e.snapshotEpoch = s.snapshotEpoch();
            e.stateEpoch = s.stateEpoch();
            e.leaderEpoch = s.leaderEpoch();
            e.startOffset = s.startOffset();
            e.deliveryCompleteCount = s.deliveryCompleteCount();
            e.createTimestamp = s.createTimestamp();
            e.writeTimestamp = s.writeTimestamp();
            e.batches = List.copyOf(s.stateBatches());
            e.snapshotOffset = offset;
            states.put(key, e);
            if (s.leaderEpoch() != -1) leaderEpochs.merge(key, s.leaderEpoch(), Math::max);
        } else {
            ShareStateRecords.Update u = ShareStateRecords.readUpdateValue(valueBytes);
            Entry old = states.get(key);
            // An update without its snapshot (compacted away with a later tombstone) describes nothing to apply to.
            if (old == null || u.snapshotEpoch() != old.snapshotEpoch) return;
            if (u.startOffset() != -1) old.startOffset = u.startOffset();
            if (u.leaderEpoch() != -1) {
                old.leaderEpoch = u.leaderEpoch();
                leaderEpochs.merge(key, u.leaderEpoch(), Math::max);
            }
            old.deliveryCompleteCount = u.deliveryCompleteCount();
            old.batches = ShareStateBatches.combine(old.batches, u.stateBatches(), old.startOffset);
            old.updatesSinceSnapshot++;
        }
    }

    /** This broker stopped leading a state partition: its share-partitions' state is no longer ours to answer. */
    public synchronized void unload(int statePartition) {
        terms.merge(statePartition, 1L, Long::sum);
        int count = log.partitionCount();
        states.keySet().removeIf(k -> partitionFor(k, count) == statePartition);
        leaderEpochs.keySet().removeIf(k -> partitionFor(k, count) == statePartition);
    }

    /** The share groups that have state here, for the share group coordinator to know them after a restart. */
    public synchronized Set<String> groupIds() {
        Set<String> ids = new TreeSet<>();
        for (Key k : states.keySet()) ids.add(k.groupId());
        return ids;
    }

    /** The share-partitions of a group with state here. */
    public synchronized List<Key> keys(String groupId) {
        List<Key> keys = new ArrayList<>();
        for (Key k : states.keySet()) if (k.groupId().equals(groupId)) keys.add(k);
        return keys;
    }

    private long appendSnapshot(Key key, Entry e) {
        byte[] value = ShareStateRecords.snapshotValue(new ShareStateRecords.Snapshot(e.snapshotEpoch, e.stateEpoch,
                e.leaderEpoch, e.startOffset, e.deliveryCompleteCount, e.createTimestamp, e.writeTimestamp,
                e.batches));
        return log.append(partitionFor(key), List.<byte[][]>of(new byte[][]{
                ShareStateRecords.key(ShareStateRecords.SNAPSHOT, key.groupId(), key.topicId(), key.partition()),
                value}));
    }

    /**
     * Kafka 4.4's first checks, in its order: the coordinator runtime refuses a share-partition whose state partition
     * is not led here (NOT_COORDINATOR) before ShareCoordinatorShard looks at the request (its NULL_TOPIC_ID and
     * NEGATIVE_PARTITION_ID, INVALID_REQUEST).
     */
    private void checkKey(Key key) {
        if (!log.leads(partitionFor(key))) {
            throw new ApiException(NOT_COORDINATOR, Errors.NOT_COORDINATOR.message());
        }
        if (key.topicId() == null) throw new ApiException(INVALID_REQUEST, "The topic id cannot be null.");
        if (key.partition() < 0) {
            throw new ApiException(INVALID_REQUEST, "The partition id cannot be a negative number.");
        }
    }

    /**
     * Whether the topic partition exists, checked last, after the state checks, as Kafka 4.4's ShareCoordinatorShard
     * checks its metadata image: a read or write of a share-partition without state is INVALID_REQUEST even when its
     * topic is unknown.
     */
    private void checkExists(Key key) {
        if (!partitionExists.test(key.topicId(), key.partition())) {
            throw new ApiException(UNKNOWN_TOPIC_OR_PARTITION, Errors.UNKNOWN_TOPIC_OR_PARTITION.message());
        }
    }
}
