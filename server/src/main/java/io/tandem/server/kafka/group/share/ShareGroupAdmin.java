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
import java.util.function.Predicate;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The share group admin operations that touch the share coordinator: AlterShareGroupOffsets, DeleteShareGroupOffsets
 * and DeleteGroups of a share group. Each runs in three steps, as Kafka 4.4's GroupCoordinatorService chains them
 * (a write operation on the shard, then the persister, then a second write operation): the group is checked and its
 * share-partitions chosen under the coordinator's lock, the share coordinator is called without it (it may be
 * another broker, or a disk write: every group request needs that lock, so a slow share coordinator would hold up
 * every other group's heartbeat), and the outcome is applied under the lock again. Meanwhile the chosen
 * share-partitions stay where a heartbeat leaves them alone (in the initializing set for an alteration, in the
 * initialized set for a deletion), and the admin operations of one group run one at a time (a lock per group id's
 * hash, never the coordinator's). A member may join meanwhile, as in Kafka: a deletion then answers NON_EMPTY_GROUP,
 * as Kafka's deleteGroups checks the group again after the persister, and the share-partitions whose state went are
 * initialized again by the next heartbeat.
 */
final class ShareGroupAdmin {
    /** Admin operations of different groups mostly take different locks; a fixed number keeps them bounded. */
    private static final int ADMIN_LOCKS = 64;

    private final ShareGroupCoordinator coordinator;
    private final Map<String, ShareGroup> groups;
    private final Predicate<String> otherKind;
    private final SharePersister persister;
    private final ShareGroupStore store;
    private final ShareStatePartitions statePartitions;
    private final SharePartitionManager partitions;
    private final Object[] adminLocks = new Object[ADMIN_LOCKS];

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
        for (int i = 0; i < ADMIN_LOCKS; i++) adminLocks[i] = new Object();
    }

    private Object adminLock(String groupId) {
        return adminLocks[Math.floorMod(groupId.hashCode(), ADMIN_LOCKS)];
    }

    // ---------------------------------------------------------------- DeleteGroups

    /** DeleteGroups of a share group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, or the share coordinator's error. */
    short deleteGroup(String groupId, long nowMs) {
        synchronized (adminLock(groupId)) {
            Set<ShareSessions.Key> keys;
            // Expiries first, their records released before this takes the coordinator's lock again.
            coordinator.tick(nowMs);
            synchronized (coordinator) {
                ShareGroup group = groups.get(groupId);
                if (group == null) return GROUP_ID_NOT_FOUND;
                if (!group.members.isEmpty()) return NON_EMPTY_GROUP;
                keys = statePartitions.startDeleting(group, null);
            }
            // As Kafka's DeleteShareGroupState on group deletion: the stored state goes before the group, and a
            // group whose state the share coordinator would not delete stays, with that error and its topics in the
            // deleting set, for the next deletion to try again.
            Deleted deleted = delete(groupId, keys);
            Set<UUID> topicIds = new HashSet<>();
            for (ShareSessions.Key k : keys) topicIds.add(k.topicId());
            synchronized (coordinator) {
                ShareGroup group = groups.get(groupId);
                if (group == null) return GROUP_ID_NOT_FOUND;
                if (deleted.error != null) {
                    forgetDeleted(group, deleted.done);
                    statePartitions.deletionEnded(group, topicIds, false);
                    return deleted.error.error();
                }
                if (!group.members.isEmpty()) {
                    // Kafka's deleteGroups validates the group again after the persister: a member joined meanwhile
                    // (its heartbeats initialize the topics again, which takes them out of the deleting set).
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
        }
    }

    // ---------------------------------------------------------------- DeleteShareGroupOffsets

    /** DeleteShareGroupOffsets: forgets the share-partitions of the topics of an empty group. */
    void deleteOffsets(String groupId, List<UUID> topicIds, long nowMs) {
        synchronized (adminLock(groupId)) {
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
            Deleted deleted = delete(groupId, keys);
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
            }
        }
    }

    /** What {@link #delete} did: the share-partitions whose state went, and the first refusal (null: none). */
    private record Deleted(Set<ShareSessions.Key> done, ApiException error) {
    }

    /** Without the coordinator's lock: deletes each share-partition's state, stopping at the first refusal. */
    private Deleted delete(String groupId, Set<ShareSessions.Key> keys) {
        Set<ShareSessions.Key> done = new LinkedHashSet<>();
        for (ShareSessions.Key k : keys) {
            try {
                persister.delete(groupId, k.topicId(), k.partition());
            } catch (ApiException e) {
                return new Deleted(done, e);
            }
            done.add(k);
        }
        return new Deleted(done, null);
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
     * epoch above the stored one. The first refusal is thrown, those done before it stay done.
     */
    void alterOffsets(String groupId, Map<ShareSessions.Key, Long> offsets, long nowMs) {
        synchronized (adminLock(groupId)) {
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
                    }
                }
            }
            List<ShareSessions.Key> initialized = new ArrayList<>();
            ApiException error = null;
            try {
                for (Map.Entry<ShareSessions.Key, Long> e : offsets.entrySet()) {
                    ShareSessions.Key k = e.getKey();
                    SharePartition p = partitions.loaded(groupId, k.topicId(), k.partition());
                    if (p != null) {
                        p.reset(e.getValue());
                        continue;
                    }
                    SharePersister.Stored stored = persister.summary(groupId, k.topicId(), k.partition());
                    // A new state epoch above any stored one, so stale batches of earlier state never come back
                    // (and a copy another leader still holds is fenced on its next write, and loaded again).
                    int epoch = ShareStatePartitions.hasState(stored) ? stored.stateEpoch() + 1 : 0;
                    persister.initialize(groupId, k.topicId(), k.partition(), epoch, e.getValue());
                    initialized.add(k);
                }
            } catch (ApiException e) {
                error = e;
            }
            synchronized (coordinator) {
                for (ShareSessions.Key k : marked) {
                    SortedSet<Integer> busy = group.initializing.get(k.topicId());
                    if (busy != null && busy.remove(k.partition()) && busy.isEmpty()) {
                        group.initializing.remove(k.topicId());
                    }
                }
                if (groups.get(groupId) == group) {
                    for (ShareSessions.Key k : initialized) {
                        statePartitions.initialized(group, k.topicId(), k.partition(), false);
                    }
                }
            }
            if (error != null) throw error;
        }
    }
}
