package io.tandem.server.kafka.group;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.VerificationGuard;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Offsets committed inside a producer's transaction (TxnOffsetCommit, KIP-98; with the group's generation and
 * member checked as KIP-447 asks): written to {@code __consumer_offsets} as the producer's transactional batch,
 * kept pending in the group, and made visible by the transaction's COMMIT marker or dropped by its ABORT marker.
 * Part of the {@link GroupCoordinator}: every method runs under the coordinator's lock.
 */
final class TransactionalOffsets {
    private final Map<String, ClassicGroup> groups;
    private final GroupStore store;
    private final GroupConfig config;

    TransactionalOffsets(Map<String, ClassicGroup> groups, GroupStore store, GroupConfig config) {
        this.groups = groups;
        this.store = store;
        this.config = config;
    }

    /**
     * Kafka's validateOffsetCommit for a transactional commit, then the transactional write, carrying
     * {@code verificationGuard} as Kafka's storeOffsets does (null: nothing to check).
     */
    Map<TopicPartition, Short> commit(String groupId, long producerId, short producerEpoch, String memberId,
                                      String groupInstanceId, int generationId,
                                      Map<TopicPartition, CommittedOffset> offsets, long nowMs,
                                      VerificationGuard verificationGuard) {
        String member = memberId == null ? "" : memberId;
        if (groupId == null || groupId.isEmpty()) return allWith(offsets.keySet(), INVALID_GROUP_ID);
        ClassicGroup group = groups.computeIfAbsent(groupId, ClassicGroup::new);
        if (group.is(GroupState.DEAD)) return allWith(offsets.keySet(), COORDINATOR_NOT_AVAILABLE);
        // Older producers send no group metadata; KIP-447 producers send it and are fenced like consumers.
        if (generationId >= 0 || !member.isEmpty() || groupInstanceId != null) {
            if (group.isStaticMemberFenced(groupInstanceId, member)) return allWith(offsets.keySet(), FENCED_INSTANCE_ID);
            if (!group.has(member)) return allWith(offsets.keySet(), UNKNOWN_MEMBER_ID);
            if (generationId != group.generationId) return allWith(offsets.keySet(), ILLEGAL_GENERATION);
        }
        Map<TopicPartition, Short> results = new LinkedHashMap<>();
        // No expire timestamps here: TxnOffsetCommit carries no retention time, so its handler sets none.
        Map<TopicPartition, CommittedOffset> accepted = GroupOffsets.accepted(offsets, config.offsetMetadataMaxBytes(),
                nowMs, results);
        if (accepted.isEmpty()) return results;
        short error;
        try {
            error = store.transactionalOffsetsCommitted(groupId, producerId, producerEpoch, accepted,
                    verificationGuard);
        } catch (ApiException e) {
            error = e.error();
        }
        if (error != NONE) {
            short mapped = appendError(error);
            for (TopicPartition tp : accepted.keySet()) results.put(tp, mapped);
            return results;
        }
        group.pendingTxnOffsets.computeIfAbsent(producerId, id -> new LinkedHashMap<>()).putAll(accepted);
        return results;
    }

    /** Kafka's mapping of an offsets-topic write error to what a commit is answered. */
    static short appendError(short error) {
        if (error == UNKNOWN_TOPIC_OR_PARTITION || error == NOT_ENOUGH_REPLICAS
                || error == NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
            return COORDINATOR_NOT_AVAILABLE;
        }
        if (error == NOT_LEADER_OR_FOLLOWER || error == KAFKA_STORAGE_ERROR) return NOT_COORDINATOR;
        if (error == MESSAGE_TOO_LARGE || error == RECORD_LIST_TOO_LARGE || error == INVALID_FETCH_SIZE) {
            return INVALID_COMMIT_OFFSET_SIZE;
        }
        return error;
    }

    /** The write did not reach the ISR: the offsets will never be committed by this request. */
    void fail(String groupId, long producerId, Collection<TopicPartition> partitions) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) return;
        Map<TopicPartition, CommittedOffset> pending = group.pendingTxnOffsets.get(producerId);
        if (pending == null) return;
        pending.keySet().removeAll(partitions);
        if (pending.isEmpty()) group.pendingTxnOffsets.remove(producerId);
    }

    /**
     * The producer's transaction marker reached offsets partition {@code offsetsPartition}: the pending offsets of
     * the groups stored there become committed (COMMIT) or are dropped (ABORT).
     */
    void complete(long producerId, boolean commit, int offsetsPartition, int offsetsPartitionCount) {
        for (ClassicGroup group : groups.values()) {
            if (OffsetsTopicCodec.partitionFor(group.groupId, offsetsPartitionCount) != offsetsPartition) continue;
            Map<TopicPartition, CommittedOffset> pending = group.pendingTxnOffsets.remove(producerId);
            if (pending != null && commit) group.offsets.putAll(pending);
        }
    }

    boolean hasPending(String groupId, TopicPartition tp) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) return false;
        for (Map<TopicPartition, CommittedOffset> pending : group.pendingTxnOffsets.values()) {
            if (pending.containsKey(tp)) return true;
        }
        return false;
    }

    void loadPending(String groupId, long producerId, TopicPartition tp, CommittedOffset offset) {
        groups.computeIfAbsent(groupId, ClassicGroup::new).pendingTxnOffsets
                .computeIfAbsent(producerId, id -> new LinkedHashMap<>()).put(tp, offset);
    }

    private static Map<TopicPartition, Short> allWith(Collection<TopicPartition> partitions, short error) {
        Map<TopicPartition, Short> results = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) results.put(tp, error);
        return results;
    }
}
