package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share-partitions this broker serves as the leader of their topic partitions, whatever broker coordinates their
 * share groups (Kafka 4.4's SharePartitionManager): ShareFetch and ShareAcknowledge go to each partition's leader,
 * which loads the share-partition's state from its share coordinator on first use (ReadShareGroupState, through the
 * {@link SharePersister}, maybe on another broker) and writes every change back to it. A share-partition is loaded
 * under the leader epoch of its partition: once leadership moved (away and back) the copy here is stale, so it is
 * loaded again from what the share coordinator holds, which is what the new leader's members see too.
 *
 * <p>Persister calls are made outside this manager's lock and outside the share-partition's own monitor, and the
 * ShareFetch and ShareAcknowledge paths wait for none of them: a load is a future a second fetch of the same
 * share-partition waits on (as Kafka's share-partition waits in its LOADING state), and writes go through
 * {@link SharePartition#flushAsync}. The persister's failures become the
 * per-partition errors Kafka's SharePartition gives ({@link #partitionError}); one that says this copy is stale
 * (FENCED_STATE_EPOCH, a newer leader epoch: NOT_LEADER_OR_FOLLOWER) drops it, so the client's retry loads it
 * afresh.
 */
public final class SharePartitionManager {
    private static final System.Logger LOG = System.getLogger(SharePartitionManager.class.getName());

    /** A share-partition: the share group and the topic partition. */
    public record Key(String groupId, UUID topicId, int partition) {
    }

    /** Told when a share-partition was loaded (the group coordinator records it among the group's initialized ones). */
    public interface LoadListener {
        void loaded(String groupId, UUID topicId, int partition);
    }

    private record Loaded(int leaderEpoch, SharePartition partition) {
    }

    private final SharePersister persister;
    private final ShareSessions sessions;
    private final Function<String, ShareGroupConfig> configFor;
    private volatile LoadListener listener = (groupId, topicId, partition) -> { };
    /** Bounded by the partitions this broker leads times the share groups fetching them. */
    private final Map<Key, Loaded> loaded = new HashMap<>();
    /** The loads under way, one per share-partition; entries live only while a load is under way. */
    private final Map<Key, CompletableFuture<SharePartition>> loading = new HashMap<>();

    public SharePartitionManager(SharePersister persister, ShareSessions sessions,
                                 Function<String, ShareGroupConfig> configFor) {
        this.persister = persister;
        this.sessions = sessions;
        this.configFor = configFor;
    }

    public void listener(LoadListener listener) {
        this.listener = listener;
    }

    public ShareSessions sessions() {
        return sessions;
    }

    /**
     * The share-partition, loaded from the share coordinator if this broker has no copy under {@code leaderEpoch}:
     * at the stored start offset with the stored in-flight records, or, when initialized at -1 by a heartbeat, at
     * {@code initialOffset} (share.auto.offset.reset), which is then written as its start. Throws the per-partition
     * error Kafka answers when the state cannot be read: a share-partition the group coordinator has not initialized
     * (yet) is UNKNOWN_SERVER_ERROR "Read operation on uninitialized share partition not allowed.", as Kafka 4.4's
     * SharePartition maps its share coordinator's INVALID_REQUEST, and nothing is kept or written, so the heartbeat's
     * initialization under way is neither overwritten nor fenced.
     */
    public SharePartition partition(String groupId, UUID topicId, int partition, int leaderEpoch,
                                    LongSupplier initialOffset) {
        return SharePersister.await(partitionAsync(groupId, topicId, partition, leaderEpoch, initialOffset));
    }

    /**
     * {@link #partition} without waiting: the future completes with the share-partition once loaded (at once when
     * it is), or fails with the per-partition error. A second request for a share-partition being loaded waits for
     * that load, as Kafka's share-partition waits in its LOADING state, without holding a thread.
     */
    public CompletableFuture<SharePartition> partitionAsync(String groupId, UUID topicId, int partition,
                                                            int leaderEpoch, LongSupplier initialOffset) {
        Key key = new Key(groupId, topicId, partition);
        ShareGroupConfig settings = configFor.apply(groupId);
        CompletableFuture<SharePartition> load;
        synchronized (this) {
            SharePartition existing = current(key, leaderEpoch);
            if (existing != null) {
                // The group's configs may have changed since: new acquisitions follow them, as in Kafka.
                existing.limits(settings.deliveryCountLimit(), settings.partitionMaxRecordLocks(),
                        settings.recordLockDurationMs());
                return CompletableFuture.completedFuture(existing);
            }
            CompletableFuture<SharePartition> underWay = loading.get(key);
            if (underWay != null) {
                // Looked at again once it ends: it may have been loaded under another leader epoch, or failed.
                return underWay.handle((p, e) -> null).thenCompose(v -> partitionAsync(groupId, topicId, partition,
                        leaderEpoch, initialOffset));
            }
            load = new CompletableFuture<>();
            loading.put(key, load);
        }
        CompletableFuture<SharePartition> started;
        try {
            started = load(key, leaderEpoch, settings, initialOffset);
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        started.whenComplete((created, e) -> {
            synchronized (this) {
                loading.remove(key);
                if (e == null) loaded.put(key, new Loaded(leaderEpoch, created));
            }
            if (e != null) {
                RuntimeException failure = SharePartitionWriter.unwrap(e);
                load.completeExceptionally(failure instanceof ApiException api ? partitionError(api) : failure);
                return;
            }
            try {
                listener.loaded(groupId, topicId, partition);
            } finally {
                load.complete(created);
            }
        });
        return load;
    }

    private SharePartition current(Key key, int leaderEpoch) {
        Loaded l = loaded.get(key);
        if (l == null) return null;
        if (l.leaderEpoch == leaderEpoch) return l.partition;
        // Leadership moved since this copy was loaded: another leader may have changed the state meanwhile.
        loaded.remove(key);
        return null;
    }

    private CompletableFuture<SharePartition> load(Key key, int leaderEpoch, ShareGroupConfig settings,
                                                   LongSupplier initialOffset) {
        return persister.readAsync(key.groupId(), key.topicId(), key.partition(), leaderEpoch).thenCompose(stored -> {
            if (stored.startOffset() >= 0) {
                SharePartition created = SharePartition.restore(stored.stateEpoch(), stored.startOffset(),
                        stored.batches(), settings.deliveryCountLimit(), settings.partitionMaxRecordLocks(),
                        settings.recordLockDurationMs());
                created.sink(sinkFor(key, leaderEpoch));
                return CompletableFuture.completedFuture(created);
            }
            // Initialized at -1 by a heartbeat at its state epoch (a share-partition never initialized fails the read
            // above): as Kafka's SharePartition, share.auto.offset.reset decides the start offset now, when the
            // share-partition first loads.
            SharePartition created = SharePartition.restore(stored.stateEpoch(), initialOffset.getAsLong(), List.of(),
                    settings.deliveryCountLimit(), settings.partitionMaxRecordLocks(), settings.recordLockDurationMs());
            created.sink(sinkFor(key, leaderEpoch));
            return persister.initializeAsync(key.groupId(), key.topicId(), key.partition(), created.stateEpoch(),
                    created.startOffset()).thenApply(v -> created);
        });
    }

    private SharePartition.StateSink sinkFor(Key key, int leaderEpoch) {
        return new SharePartition.StateSink() {
            @Override
            public CompletableFuture<Void> initialized(int stateEpoch, long startOffset) {
                return persister.initializeAsync(key.groupId(), key.topicId(), key.partition(), stateEpoch,
                        startOffset);
            }

            @Override
            public CompletableFuture<Void> written(int stateEpoch, long startOffset, int deliveryCompleteCount,
                                                   List<ShareStateBatch> batches) {
                return persister.writeAsync(key.groupId(), key.topicId(), key.partition(), stateEpoch, leaderEpoch,
                        startOffset, deliveryCompleteCount, batches).exceptionallyCompose(e -> {
                            RuntimeException failure = SharePartitionWriter.unwrap(e);
                            if (!(failure instanceof ApiException api)) return CompletableFuture.failedFuture(failure);
                            ApiException mapped = partitionError(api);
                            if (mapped.error() == NOT_LEADER_OR_FOLLOWER) {
                                // As Kafka's SharePartitionManager: a fenced copy goes, the client's retry loads it
                                // again.
                                forget(key.groupId(), key.topicId(), key.partition());
                            }
                            return CompletableFuture.failedFuture(mapped);
                        });
            }
        };
    }

    /**
     * Kafka 4.4's SharePartition.fetchPersisterError: a share coordinator that moved or is loading is
     * COORDINATOR_NOT_AVAILABLE (the persister already tried it again), a newer leader epoch or state epoch at the
     * share coordinator (FENCED_LEADER_EPOCH, FENCED_STATE_EPOCH) NOT_LEADER_OR_FOLLOWER, GROUP_ID_NOT_FOUND and
     * UNKNOWN_TOPIC_OR_PARTITION as they are, SASL_AUTHENTICATION_FAILED and UNSUPPORTED_VERSION UNKNOWN_SERVER_ERROR
     * "Unable to complete operation due to server error.", and anything else UNKNOWN_SERVER_ERROR with the share
     * coordinator's message (the INVALID_REQUEST of a read of a share-partition not initialized yet).
     */
    public static ApiException partitionError(ApiException e) {
        short error = e.error();
        short mapped;
        if (error == NOT_COORDINATOR || error == COORDINATOR_NOT_AVAILABLE || error == COORDINATOR_LOAD_IN_PROGRESS) {
            mapped = COORDINATOR_NOT_AVAILABLE;
        } else if (error == FENCED_LEADER_EPOCH || error == FENCED_STATE_EPOCH || error == NOT_LEADER_OR_FOLLOWER) {
            mapped = NOT_LEADER_OR_FOLLOWER;
        } else if (error == io.tandem.kafka.wire.Errors.SASL_AUTHENTICATION_FAILED.code()
                || error == UNSUPPORTED_VERSION) {
            return new ApiException(UNKNOWN_SERVER_ERROR, "Unable to complete operation due to server error.");
        } else if (error == GROUP_ID_NOT_FOUND || error == UNKNOWN_TOPIC_OR_PARTITION
                || error == UNKNOWN_TOPIC_ID || error == KAFKA_STORAGE_ERROR) {
            // UNKNOWN_TOPIC_ID and KAFKA_STORAGE_ERROR come from this broker's own log, not from the persister.
            mapped = error;
        } else {
            mapped = UNKNOWN_SERVER_ERROR;
        }
        return mapped == error ? e : new ApiException(mapped, e.getMessage());
    }

    /** The share-partition if loaded here (under any leader epoch), else null. */
    public synchronized SharePartition loaded(String groupId, UUID topicId, int partition) {
        Loaded l = loaded.get(new Key(groupId, topicId, partition));
        return l == null ? null : l.partition;
    }

    /**
     * The leader epoch the share-partition was loaded under here (its read stored that epoch with its state at the
     * share coordinator, so it is what a state summary answers), or null when it is not loaded here.
     */
    public synchronized Integer loadedLeaderEpoch(String groupId, UUID topicId, int partition) {
        Loaded l = loaded.get(new Key(groupId, topicId, partition));
        return l == null ? null : l.leaderEpoch;
    }

    /** The group's share-partitions loaded here. */
    public synchronized Map<ShareSessions.Key, SharePartition> ofGroup(String groupId) {
        Map<ShareSessions.Key, SharePartition> result = new LinkedHashMap<>();
        for (Map.Entry<Key, Loaded> e : loaded.entrySet()) {
            if (e.getKey().groupId().equals(groupId)) {
                result.put(new ShareSessions.Key(e.getKey().topicId(), e.getKey().partition()), e.getValue().partition);
            }
        }
        return result;
    }

    /** This broker no longer leads the partition (or its copy is stale): the share-partition goes. */
    public synchronized void forget(String groupId, UUID topicId, int partition) {
        loaded.remove(new Key(groupId, topicId, partition));
    }

    /** The group was deleted, or some of its topics' share-partitions forgotten ({@code topicIds} null: all). */
    public synchronized void forget(String groupId, Set<UUID> topicIds) {
        loaded.keySet().removeIf(k -> k.groupId().equals(groupId) && (topicIds == null || topicIds.contains(k.topicId())));
    }

    /** Topics were deleted: their share-partitions go, in every group. */
    public synchronized void topicsDeleted(Set<UUID> topicIds) {
        loaded.keySet().removeIf(k -> topicIds.contains(k.topicId()));
    }

    /**
     * The member closed its share session here (or left its group): what it holds in this broker's share-partitions
     * of the group goes back, written outside this manager's lock.
     */
    public void closeSession(String groupId, String memberId) {
        sessions.remove(groupId, memberId);
        releaseMember(groupId, memberId);
    }

    /**
     * A client's connection closed: its share sessions here go and what their members hold in this broker's
     * share-partitions is available again at once, as Kafka 4.1+'s SharePartitionManager does on a disconnect
     * (its ShareGroupListener.onMemberLeave releases the member's acquired records), rather than waiting for the
     * acquisition locks to expire or the member's session to time out at its coordinator.
     */
    public void connectionClosed(String connectionId) {
        for (ShareSessions.Member member : sessions.connectionClosed(connectionId)) {
            releaseMember(member.groupId(), member.memberId());
        }
    }

    /** Releases what the member holds in this broker's share-partitions of the group. */
    public void releaseMember(String groupId, String memberId) {
        List<SharePartition> partitions;
        synchronized (this) {
            partitions = new ArrayList<>(ofGroup(groupId).values());
        }
        for (SharePartition p : partitions) {
            try {
                p.releaseMember(memberId);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Share group " + groupId + ": releasing member " + memberId
                        + "'s records not stored: " + e.getMessage());
            }
        }
    }
}
