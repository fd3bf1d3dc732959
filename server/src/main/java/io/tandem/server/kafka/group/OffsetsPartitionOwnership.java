package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

import static io.tandem.server.kafka.ErrorCodes.COORDINATOR_LOAD_IN_PROGRESS;
import static io.tandem.server.kafka.ErrorCodes.NONE;
import static io.tandem.server.kafka.ErrorCodes.NOT_COORDINATOR;

/**
 * Which {@code __consumer_offsets} partitions this coordinator serves, as Kafka 3.9's GroupMetadataManager knows it
 * (ownedPartitions, loadingPartitions) and GroupCoordinator.validateGroupStatus checks it: a group whose partition
 * is loading answers COORDINATOR_LOAD_IN_PROGRESS (checked first, as Kafka does); one whose partition this broker
 * does not lead, or whose partition it resigned (became a follower of it, or its replica here was deleted) and has
 * not loaded since, answers NOT_COORDINATOR (Kafka's isCoordinatorForGroup), so the client looks for its coordinator
 * again. Resigning (Kafka's onResignation and removeGroupsForPartition) drops the partition's groups from memory with
 * their offsets, and members waiting for a JoinGroup or SyncGroup answer get NOT_COORDINATOR (Kafka's
 * onGroupUnloaded). Part of the {@link GroupCoordinator}: every method runs under its lock.
 */
final class OffsetsPartitionOwnership {
    private final Map<String, ClassicGroup> groups;
    /** Resigned partition -> the offsets topic's partition count when it was resigned (how group ids map to it). */
    private final Map<Integer, Integer> resigned = new HashMap<>();
    /** Partitions being read from the log after this broker took their lead (bounded by the partition count). */
    private final Set<Integer> loading = new HashSet<>();
    /** Whether this broker leads an offsets partition (by index); a coordinator alone, without a broker, leads all. */
    private IntPredicate leads = partition -> true;
    private int partitionCount = Integer.MAX_VALUE;
    /** The broker stopped ({@link #resignAll}): no group is coordinated here any more. */
    private boolean stopped;

    OffsetsPartitionOwnership(Map<String, ClassicGroup> groups) {
        this.groups = groups;
    }

    /** Connects the broker's view of leadership: groups of offsets partitions not led here are not coordinated. */
    void leadership(int partitionCount, IntPredicate leads) {
        this.partitionCount = partitionCount;
        this.leads = leads;
    }

    /** Forgets the classic groups of the partition; returns how many. */
    int resign(int partition, int partitionCount) {
        resigned.put(partition, partitionCount);
        loading.remove(partition);
        return unload(group -> OffsetsTopicCodec.partitionFor(group.groupId, partitionCount) == partition);
    }

    /**
     * The broker stops: it coordinates no group any more, and every member waiting for a JoinGroup or SyncGroup
     * answer gets NOT_COORDINATOR now. Each waiting request holds its frame until answered; a group record write
     * still in flight completes after the group coordinator stopped and finds the group gone, so it answers nobody.
     */
    void resignAll() {
        stopped = true;
        loading.clear();
        unload(group -> true);
    }

    private int unload(java.util.function.Predicate<ClassicGroup> lost) {
        int unloaded = 0;
        for (Iterator<ClassicGroup> it = groups.values().iterator(); it.hasNext(); ) {
            ClassicGroup group = it.next();
            if (!lost.test(group)) continue;
            group.state = GroupState.DEAD;
            for (String memberId : group.memberIds()) {
                GroupMember member = group.member(memberId);
                member.completeJoin(JoinResult.error(memberId, NOT_COORDINATOR));
                member.completeSync(SyncResult.error(NOT_COORDINATOR));
            }
            it.remove();
            unloaded++;
        }
        return unloaded;
    }

    /** This broker leads the partition and starts reading it: its groups answer COORDINATOR_LOAD_IN_PROGRESS. */
    void loading(int partition) {
        loading.add(partition);
    }

    /** The partition is read: its groups are served here again. */
    void loaded(int partition) {
        loading.remove(partition);
        resigned.remove(partition);
    }

    /** Whether any offsets partition is loading (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS then, as Kafka). */
    boolean anyLoading() {
        return !loading.isEmpty();
    }

    /** NONE, COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR for a request about the group, in Kafka's order. */
    short status(String groupId) {
        if (groupId == null) return NONE;
        if (stopped) return NOT_COORDINATOR;
        if (!loading.isEmpty() && partitionCount != Integer.MAX_VALUE
                && loading.contains(OffsetsTopicCodec.partitionFor(groupId, partitionCount))) {
            return COORDINATOR_LOAD_IN_PROGRESS;
        }
        for (Map.Entry<Integer, Integer> e : resigned.entrySet()) {
            if (OffsetsTopicCodec.partitionFor(groupId, e.getValue()) == e.getKey()) return NOT_COORDINATOR;
        }
        if (partitionCount != Integer.MAX_VALUE && !leads.test(OffsetsTopicCodec.partitionFor(groupId, partitionCount))) {
            return NOT_COORDINATOR;
        }
        return NONE;
    }
}
