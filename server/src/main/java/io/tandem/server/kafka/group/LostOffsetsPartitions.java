package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.NOT_COORDINATOR;

/**
 * The {@code __consumer_offsets} partitions whose replica this broker deleted (a StopReplica with delete: the topic
 * was deleted, or the replica moved away) and has not loaded since, as Kafka 3.9's GroupCoordinator.onResignation
 * in ZooKeeper mode: the partition's groups leave memory, with their offsets (Kafka's removeGroupsForPartition);
 * members waiting for a JoinGroup or SyncGroup answer get NOT_COORDINATOR (Kafka's onGroupUnloaded); and requests
 * for a group there answer NOT_COORDINATOR (Kafka's isCoordinatorForGroup), so the client looks for its coordinator
 * again, until this broker leads the partition again and loads it (e.g. the topic was made again on a
 * FindCoordinator). Part of the {@link GroupCoordinator}: every method runs under its lock.
 */
final class LostOffsetsPartitions {
    private final Map<String, ClassicGroup> groups;
    /** Lost partition -> the offsets topic's partition count when it was lost (how group ids map to it). */
    private final Map<Integer, Integer> lost = new HashMap<>();

    LostOffsetsPartitions(Map<String, ClassicGroup> groups) {
        this.groups = groups;
    }

    /** Forgets the classic groups of the partition; returns how many. */
    int unload(int partition, int partitionCount) {
        lost.put(partition, partitionCount);
        int unloaded = 0;
        for (Iterator<ClassicGroup> it = groups.values().iterator(); it.hasNext(); ) {
            ClassicGroup group = it.next();
            if (OffsetsTopicCodec.partitionFor(group.groupId, partitionCount) != partition) continue;
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

    /** This broker leads the partition again and loads it: its groups are served here again. */
    void loaded(int partition) {
        lost.remove(partition);
    }

    /** Whether the group's offsets partition was lost here and not loaded since. */
    boolean isLost(String groupId) {
        if (lost.isEmpty() || groupId == null || groupId.isEmpty()) return false;
        for (Map.Entry<Integer, Integer> e : lost.entrySet()) {
            if (OffsetsTopicCodec.partitionFor(groupId, e.getValue()) == e.getKey()) return true;
        }
        return false;
    }
}
