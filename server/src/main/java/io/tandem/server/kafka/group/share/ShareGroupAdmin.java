package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.function.Predicate;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share group admin operations that touch the share coordinator: AlterShareGroupOffsets, DeleteShareGroupOffsets
 * and DeleteGroups of a share group. Each runs in three steps, as Kafka 4.4's GroupCoordinatorService chains them
 * (a write operation on the shard, then the persister, then a second write operation): the group is checked and its
 * share-partitions chosen under the coordinator's lock, the share coordinator is called without it (it may be
 * another broker, or a disk write: every group request needs that lock, so a slow share coordinator would hold up
 * every other group's heartbeat), and the outcome is applied under the lock again, from the share coordinator's
 * answer: no thread waits for it, and the request is answered from that completion. Meanwhile the chosen
 * share-partitions stay where a heartbeat leaves them alone (in the initializing set for an alteration, in the
 * initialized set for a deletion), and the admin operations of one group run one at a time (each chained after the
 * one before it of the same group id's hash, never holding the coordinator's lock). A member may join meanwhile, as in Kafka: a deletion then answers NON_EMPTY_GROUP,
 * as Kafka's deleteGroups checks the group again after the persister, and the share-partitions whose state went are
 * initialized again by the next heartbeat.
 */
final class ShareGroupAdmin {
    /** Admin operations of different groups mostly chain on different links; a fixed number keeps them bounded. */
    private static final int ADMIN_CHAINS = 64;

    private final ShareGroupCoordinator coordinator;
    private final Map<String, ShareGroup> groups;
    private final Predicate<String> otherKind;
    private final SharePersister persister;
    private final ShareGroupStore store;
    private final ShareStatePartitions statePartitions;
    private final SharePartitionManager partitions;
    /** The last operation started per chain (guarded by the array): the next one of that chain starts after it. */
    private final CompletableFuture<?>[] chains = new CompletableFuture<?>[ADMIN_CHAINS];

    ShareGroupAdmin(ShareGroupCoordinator coordinator, Map<String, ShareGroup> groups, Predicate<String> otherKind,
                    SharePersister persister, ShareGroupStore store, ShareStatePartitions statePartitions,
                    SharePartitionManager partitions) {
        this.coordinator = coordinator;
        this.groups = groups;
        this.otherKind = otherKind;
        this.persister = persister;
        this.store = store;
        this.statePartitions = statePartitions;
        this.partitions = partitions;
    }

    /**
     * Runs the operation once the group's earlier ones (of its chain) have ended, without a thread waiting for them:
     * at once on this thread when there are none, else on the thread that ends the last.
     */
    private <T> CompletableFuture<T> oneAtATime(String groupId, Supplier<CompletableFuture<T>> operation) {
        int chain = Math.floorMod(groupId.hashCode(), ADMIN_CHAINS);
        CompletableFuture<T> result;
        synchronized (chains) {
            CompletableFuture<?> before = chains[chain];
            result = before == null || before.isDone() ? start(operation)
                    : before.handle((v, e) -> null).thenCompose(v -> start(operation));
            chains[chain] = result;
        }
        return result;
    }

    private static <T> CompletableFuture<T> start(Supplier<CompletableFuture<T>> operation) {
        try {
            return operation.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    // ---------------------------------------------------------------- DeleteGroups

    /** DeleteGroups of a share group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, or the share coordinator's error. */
    CompletableFuture<Short> deleteGroup(String groupId, long nowMs) {
        return oneAtATime(groupId, () -> {
            Set<ShareSessions.Key> keys;
            // Expiries first, their records released before this takes the coordinator's lock again.
            coordinator.tick(nowMs);
            synchronized (coordinator) {
                ShareGroup group = groups.get(groupId);
                if (group == null) return CompletableFuture.completedFuture(GROUP_ID_NOT_FOUND);
                if (!group.members.isEmpty()) return CompletableFuture.completedFuture(NON_EMPTY_GROUP);
                keys = statePartitions.startDeleting(group, null);
            }
            // As Kafka's DeleteShareGroupState on group deletion: the stored state goes before the group, and a
            // group whose state the share coordinator would not delete stays, with that error and its topics in the
            // deleting set, for the next deletion to try again.
            Set<UUID> topicIds = new HashSet<>();
            for (ShareSessions.Key k : keys) topicIds.add(k.topicId());
            return delete(groupId, keys).thenApply(deleted -> {
                synchronized (coordinator) {
                    ShareGroup group = groups.get(groupId);
                    if (group == null) return GROUP_ID_NOT_FOUND;
                    if (deleted.error != null) {
                        forgetDeleted(group, deleted.done);
                        statePartitions.deletionEnded(group, topicIds, false);
                        return deleted.error.error();
                    }
                    if (!group.members.isEmpty()) {
                        // Kafka's deleteGroups validates the group again after the persister: a member joined
                        // meanwhile (its heartbeats initialize the topics again, which takes them out of the
                        // deleting set).
                        forgetDeleted(group, deleted.done);
                        statePartitions.deletionEnded(group, topicIds, false);
                        return NON_EMPTY_GROUP;
                    }
                    partitions.forget(groupId, null);
                    groups.remove(groupId);
                    store.groupDeleted(groupId);
                    store.flush();
                    return NONE;
                }
            });
        });
    }

    // ---------------------------------------------------------------- DeleteShareGroupOffsets

    /** DeleteShareGroupOffsets: forgets the share-partitions of the topics of an empty group. */
    CompletableFuture<Void> deleteOffsets(String groupId, List<UUID> topicIds, long nowMs) {
        return oneAtATime(groupId, () -> {
            Set<ShareSessions.Key> keys = new LinkedHashSet<>();
            // Expiries first, their records released before this takes the coordinator's lock again.
            coordinator.tick(nowMs);
            synchronized (coordinator) {
                ShareGroup group = groups.get(groupId);
                if (group == null) {
                    throw new ApiException(GROUP_ID_NOT_FOUND, otherKind.test(groupId)
                            ? "Group " + groupId + " is not a share group." : "Group " + groupId + " not found.");
                }
                if (!group.members.isEmpty()) {
                    throw new ApiException(NON_EMPTY_GROUP, "Share group " + groupId + " is not empty.");
                }
                keys.addAll(statePartitions.startDeleting(group, new HashSet<>(topicIds)));
            }
            return delete(groupId, keys).thenApply(deleted -> {
                synchronized (coordinator) {
                    ShareGroup group = groups.get(groupId);
                    if (deleted.error != null) {
                        if (group != null) {
                            forgetDeleted(group, deleted.done);
                            statePartitions.deletionEnded(group, new HashSet<>(topicIds), false);
                        }
                        throw deleted.error;
                    }
                    partitions.forget(groupId, new HashSet<>(topicIds));
                    if (group != null) statePartitions.deletionEnded(group, new HashSet<>(topicIds), true);
                    return null;
                }
            });
        });
    }

    /** What {@link #delete} did: the share-partitions whose state went, and the first refusal (null: none). */
    private record Deleted(Set<ShareSessions.Key> done, ApiException error) {
    }

    /**
     * Without the coordinator's lock: deletes each share-partition's state, all asked at once (so the persister
     * sends one request per share coordinator, as Kafka's deletes the state of a group's share-partitions), and
     * completes once every one has answered, with those deleted and the first refusal in the keys' order.
     */
    private CompletableFuture<Deleted> delete(String groupId, Set<ShareSessions.Key> keys) {
        Map<ShareSessions.Key, CompletableFuture<Void>> calls = new java.util.LinkedHashMap<>();
        for (ShareSessions.Key k : keys) {
            CompletableFuture<Void> call;
            try {
                call = persister.deleteAsync(groupId, k.topicId(), k.partition());
            } catch (RuntimeException e) {
                call = CompletableFuture.failedFuture(e);
            }
            calls.put(k, call);
        }
        return CompletableFuture.allOf(calls.values().stream().map(c -> c.handle((v, e) -> null))
                .toArray(CompletableFuture<?>[]::new)).thenApply(v -> {
                    Set<ShareSessions.Key> done = new LinkedHashSet<>();
                    ApiException error = null;
                    for (Map.Entry<ShareSessions.Key, CompletableFuture<Void>> e : calls.entrySet()) {
                        if (!e.getValue().isCompletedExceptionally()) {
                            done.add(e.getKey());
                        } else if (error == null) {
                            error = failureOf(e.getValue());
                        }
                    }
                    return new Deleted(done, error);
                });
    }

    /** The ApiException a completed call failed with (another failure as UNKNOWN_SERVER_ERROR). */
    private static ApiException failureOf(CompletableFuture<?> failed) {
        try {
            failed.join();
            throw new IllegalStateException("not failed");
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            RuntimeException cause = SharePartitionWriter.unwrap(e);
            return cause instanceof ApiException api ? api : new ApiException(UNKNOWN_SERVER_ERROR,
                    String.valueOf(cause));
        }
    }

    /**
     * Under the coordinator's lock, after a deletion that does not complete: the share-partitions whose state went
     * leave the group's initialized set (and this broker's copies go), so the next heartbeat initializes them again
     * rather than a member reading state that is not there.
     */
    private void forgetDeleted(ShareGroup group, Set<ShareSessions.Key> done) {
        boolean changed = false;
        for (ShareSessions.Key k : done) {
            partitions.forget(group.groupId, k.topicId(), k.partition());
            SortedSet<Integer> have = group.initialized.get(k.topicId());
            if (have != null && have.remove(k.partition())) {
                changed = true;
                if (have.isEmpty()) group.initialized.remove(k.topicId());
            }
        }
        if (changed) statePartitions.write(group);
    }

    // ---------------------------------------------------------------- AlterShareGroupOffsets

    /**
     * AlterShareGroupOffsets: sets start offsets of an empty group (creating it if absent, as Kafka does); a group
     * with members is NON_EMPTY_GROUP, another kind's id GROUP_ID_NOT_FOUND. A share-partition loaded here is reset
     * in place (a new state epoch, written by it); any other is initialized at the share coordinator at a state
     * epoch above the stored one. Every share-partition is asked at once; the first refusal (in the request's
     * order) fails the future, the others stay done.
     */
    CompletableFuture<Void> alterOffsets(String groupId, Map<ShareSessions.Key, Long> offsets, long nowMs) {
        return oneAtATime(groupId, () -> {
            ShareGroup group;
            // The share-partitions this operation put in the initializing set (not those a heartbeat put there).
            Set<ShareSessions.Key> marked = new LinkedHashSet<>();
            // Expiries first, their records released before this takes the coordinator's lock again.
            coordinator.tick(nowMs);
            synchronized (coordinator) {
                group = groups.get(groupId);
                if (group == null) {
                    if (otherKind.test(groupId)) {
                        throw new ApiException(GROUP_ID_NOT_FOUND, "Group " + groupId + " is not a share group.");
                    }
                    group = new ShareGroup(groupId);
                    groups.put(groupId, group);
                }
                if (!group.members.isEmpty()) {
                    throw new ApiException(NON_EMPTY_GROUP, "Share group " + groupId + " is not empty.");
                }
                // In the initializing set meanwhile, as Kafka's alterShareGroupOffsets records them: a heartbeat
                // of a member joining now leaves them to this operation.
                for (ShareSessions.Key k : offsets.keySet()) {
                    if (group.initializing.computeIfAbsent(k.topicId(), t -> new TreeSet<>()).add(k.partition())) {
                        marked.add(k);
                        group.initializingSinceMs.put(k.topicId(), nowMs);
                    }
                }
            }
            // Per share-partition: true once initialized at the share coordinator, false when reset in place here.
            Map<ShareSessions.Key, CompletableFuture<Boolean>> calls = new java.util.LinkedHashMap<>();
            for (Map.Entry<ShareSessions.Key, Long> e : offsets.entrySet()) {
                ShareSessions.Key k = e.getKey();
                SharePartition p = partitions.loaded(groupId, k.topicId(), k.partition());
                CompletableFuture<Boolean> call;
                if (p != null) {
                    // Its own write failing is repaired by its next one (it writes its whole state): logged, not
                    // this request's error.
                    call = p.reset(e.getValue()).handle((v, ex) -> {
                        if (ex != null) {
                            System.getLogger(ShareGroupAdmin.class.getName()).log(System.Logger.Level.WARNING,
                                    "Share-partition " + groupId + ":" + k.topicId() + ":" + k.partition()
                                            + " reset, not stored yet: " + SharePartitionWriter.unwrap(ex).getMessage());
                        }
                        return false;
                    });
                } else {
                    // A new state epoch above any stored one, so stale batches of earlier state never come back
                    // (and a copy another leader still holds is fenced on its next write, and loaded again).
                    call = persister.summaryAsync(groupId, k.topicId(), k.partition()).thenCompose(stored ->
                            persister.initializeAsync(groupId, k.topicId(), k.partition(),
                                    ShareStatePartitions.hasState(stored) ? stored.stateEpoch() + 1 : 0,
                                    e.getValue())).thenApply(v -> true);
                }
                calls.put(k, call);
            }
            ShareGroup altered = group;
            return CompletableFuture.allOf(calls.values().stream().map(c -> c.handle((v, ex) -> null))
                    .toArray(CompletableFuture<?>[]::new)).thenApply(v -> {
                        ApiException error = null;
                        synchronized (coordinator) {
                            for (ShareSessions.Key k : marked) altered.initializingEnded(k);
                            boolean stillThere = groups.get(groupId) == altered;
                            for (Map.Entry<ShareSessions.Key, CompletableFuture<Boolean>> c : calls.entrySet()) {
                                if (c.getValue().isCompletedExceptionally()) {
                                    if (error == null) error = failureOf(c.getValue());
                                } else if (stillThere && c.getValue().join()) {
                                    statePartitions.initialized(altered, c.getKey().topicId(),
                                            c.getKey().partition(), false);
                                }
                            }
                        }
                        if (error != null) throw error;
                        return null;
                    });
        });
    }
}
