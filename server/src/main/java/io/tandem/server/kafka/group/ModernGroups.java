package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.MemberLeaveResult;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What the classic {@link GroupCoordinator} needs to know of the consumer groups (KIP-848) that share its group ids
 * and its offsets, so both kinds coexist as in Kafka: a group id is either kind, an empty group of one kind may be
 * taken over by the other, and offsets are kept per group id whatever the kind. Called under the coordinator's lock.
 */
public interface ModernGroups {
    /** Whether a consumer group (any state) holds this id. */
    boolean isConsumerGroup(String groupId);

    /** Whether the consumer group of this id has no members. */
    boolean isEmptyConsumerGroup(String groupId);

    /** Removes an empty consumer group (its records are tombstoned), e.g. when a classic member takes the id over. */
    void deleteEmptyConsumerGroup(String groupId);

    /**
     * Kafka's ConsumerGroup.validateOffsetCommit: NONE, or UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH, UNSUPPORTED_VERSION
     * (a consumer-protocol member committing below OffsetCommit v9).
     */
    short validateOffsetCommit(String groupId, String memberId, String instanceId, int memberEpoch,
                               boolean transactional, short apiVersion);

    /** Whether any member of the consumer group subscribes to the topic (OffsetDelete refuses those partitions). */
    boolean isSubscribedTo(String groupId, String topic);

    /** JoinGroup of a classic member into a non-empty consumer group (KIP-848 online migration). */
    void classicJoin(JoinRequest request, long nowMs, Consumer<JoinResult> callback);

    /** SyncGroup of a classic member of a consumer group: its assignment, computed by the server. */
    SyncResult classicSync(SyncRequest request, long nowMs);

    /** Heartbeat of a classic member of a consumer group: REBALANCE_IN_PROGRESS when it must rejoin. */
    short classicHeartbeat(String groupId, String memberId, String groupInstanceId, int generationId, long nowMs);

    /** LeaveGroup naming members of a consumer group. */
    List<MemberLeaveResult> classicLeave(String groupId, List<LeavingMember> leaving, long nowMs);

    /** Fires session and rebalance timeouts. */
    void tick(long nowMs);

    /** The earliest time {@link #tick} has something to do; Long.MAX_VALUE when nothing is pending. */
    long nextDeadlineMs();

    /**
     * The offsets partition of the groups {@code lost} accepts was deleted here (Kafka's onResignation): they leave
     * memory, and their members' next heartbeats are answered by the classic coordinator's rule (NOT_COORDINATOR).
     */
    default void unload(java.util.function.Predicate<String> lost) {
    }

    /** The ids of every consumer group. */
    Set<String> groupIds();

    /** No consumer groups: the classic coordinator alone (tests of the classic state machine). */
    ModernGroups ABSENT = new ModernGroups() {
        @Override public boolean isConsumerGroup(String groupId) { return false; }
        @Override public boolean isEmptyConsumerGroup(String groupId) { return false; }
        @Override public void deleteEmptyConsumerGroup(String groupId) { }
        @Override public short validateOffsetCommit(String g, String m, String i, int e, boolean t, short v) {
            return 0;
        }
        @Override public boolean isSubscribedTo(String groupId, String topic) { return false; }
        @Override public void classicJoin(JoinRequest r, long nowMs, Consumer<JoinResult> callback) {
            throw new IllegalStateException("no consumer groups");
        }
        @Override public SyncResult classicSync(SyncRequest r, long nowMs) {
            throw new IllegalStateException("no consumer groups");
        }
        @Override public short classicHeartbeat(String g, String m, String i, int generationId, long nowMs) {
            throw new IllegalStateException("no consumer groups");
        }
        @Override public List<MemberLeaveResult> classicLeave(String g, List<LeavingMember> l, long nowMs) {
            throw new IllegalStateException("no consumer groups");
        }
        @Override public void tick(long nowMs) { }
        @Override public long nextDeadlineMs() { return Long.MAX_VALUE; }
        @Override public Set<String> groupIds() { return Set.of(); }
    };
}
