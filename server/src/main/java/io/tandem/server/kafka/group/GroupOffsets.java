package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The committed offsets of every group id, classic or consumer (KIP-848): the checks of OffsetCommit, OffsetFetch,
 * OffsetDelete, the offsets of deleted topics, and retention. Part of the {@link GroupCoordinator}: every method runs
 * under the coordinator's lock.
 */
final class GroupOffsets {
    private final Map<String, ClassicGroup> groups;
    private final GroupStore store;
    private final GroupConfig config;
    /** The consumer groups sharing the ids, set once the consumer group coordinator is connected. */
    ModernGroups modern = ModernGroups.ABSENT;

    GroupOffsets(Map<String, ClassicGroup> groups, GroupStore store, GroupConfig config) {
        this.groups = groups;
        this.store = store;
        this.config = config;
    }

    /**
     * OffsetCommit at a request version: a consumer group (KIP-848) checks the member and its epoch
     * (STALE_MEMBER_EPOCH), a classic group the member and its generation.
     */
    Map<TopicPartition, Short> commit(String groupId, String memberId, String groupInstanceId, int generationId,
                                      Map<TopicPartition, CommittedOffset> offsets, long nowMs, short apiVersion) {
        String member = memberId == null ? "" : memberId;
        if (groupId == null || groupId.isEmpty()) return allWith(offsets.keySet(), INVALID_GROUP_ID);
        ClassicGroup group = groups.get(groupId);
        if (modern.isConsumerGroup(groupId)) {
            short error = modern.validateOffsetCommit(groupId, memberId, groupInstanceId, generationId, false,
                    apiVersion);
            if (error != NONE) return allWith(offsets.keySet(), error);
            // The consumer group's offsets are kept with the group id, in the (memberless) classic holder.
            group = groups.computeIfAbsent(groupId, ClassicGroup::new);
            return storeOffsets(group, offsets, nowMs);
        }
        if (group == null) {
            if (generationId >= 0) return allWith(offsets.keySet(), ILLEGAL_GENERATION);
            // A consumer using assign() commits without group management: the group exists only for its offsets.
            group = new ClassicGroup(groupId);
            groups.put(groupId, group);
        }
        if (group.is(GroupState.DEAD)) return allWith(offsets.keySet(), COORDINATOR_NOT_AVAILABLE);
        if (group.isStaticMemberFenced(groupInstanceId, member)) return allWith(offsets.keySet(), FENCED_INSTANCE_ID);
        if (!(generationId < 0 && group.is(GroupState.EMPTY))) {
            if (!group.has(member)) return allWith(offsets.keySet(), UNKNOWN_MEMBER_ID);
            if (generationId != group.generationId) return allWith(offsets.keySet(), ILLEGAL_GENERATION);
            if (group.is(GroupState.COMPLETING_REBALANCE)) return allWith(offsets.keySet(), REBALANCE_IN_PROGRESS);
            group.member(member).lastHeartbeatMs = nowMs;
        }
        return storeOffsets(group, offsets, nowMs);
    }

    private Map<TopicPartition, Short> storeOffsets(ClassicGroup group, Map<TopicPartition, CommittedOffset> offsets,
                                                    long nowMs) {
        String groupId = group.groupId;
        Map<TopicPartition, Short> results = new LinkedHashMap<>();
        Map<TopicPartition, CommittedOffset> accepted = accepted(offsets, config.offsetMetadataMaxBytes(), nowMs,
                results);
        if (!accepted.isEmpty()) {
            store.offsetsCommitted(groupId, accepted);
            group.offsets.putAll(accepted);
        }
        return results;
    }

    /**
     * The offsets of a commit (plain or transactional) that may be stored: one whose metadata is over
     * {@code metadataMaxBytes} is answered OFFSET_METADATA_TOO_LARGE in {@code results}, the others NONE, stamped with
     * the commit time where the client gave none and with "" for no metadata.
     */
    static Map<TopicPartition, CommittedOffset> accepted(Map<TopicPartition, CommittedOffset> offsets,
                                                         int metadataMaxBytes, long nowMs,
                                                         Map<TopicPartition, Short> results) {
        Map<TopicPartition, CommittedOffset> accepted = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, CommittedOffset> e : offsets.entrySet()) {
            CommittedOffset offset = e.getValue();
            String metadata = offset.metadata() == null ? "" : offset.metadata();
            if (metadata.getBytes(StandardCharsets.UTF_8).length > metadataMaxBytes) {
                results.put(e.getKey(), OFFSET_METADATA_TOO_LARGE);
                continue;
            }
            accepted.put(e.getKey(), new CommittedOffset(offset.offset(), offset.leaderEpoch(), metadata,
                    offset.commitTimestampMs() < 0 ? nowMs : offset.commitTimestampMs(), offset.expireTimestampMs()));
            results.put(e.getKey(), NONE);
        }
        return accepted;
    }

    static Map<TopicPartition, Short> allWith(Collection<TopicPartition> partitions, short error) {
        Map<TopicPartition, Short> results = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) results.put(tp, error);
        return results;
    }

    /** OffsetFetch: the committed offsets of the given partitions ({@code null}: all), absent ones left out. */
    Map<TopicPartition, CommittedOffset> fetch(String groupId, Collection<TopicPartition> partitions) {
        ClassicGroup group = groups.get(groupId);
        Map<TopicPartition, CommittedOffset> result = new LinkedHashMap<>();
        if (group == null || group.is(GroupState.DEAD)) return result;
        if (partitions == null) {
            result.putAll(group.offsets);
        } else {
            for (TopicPartition tp : partitions) {
                CommittedOffset offset = group.offsets.get(tp);
                if (offset != null) result.put(tp, offset);
            }
        }
        return result;
    }

    GroupCoordinator.OffsetDeleteResult delete(String groupId, Collection<TopicPartition> partitions) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || group.is(GroupState.DEAD)) return new GroupCoordinator.OffsetDeleteResult(GROUP_ID_NOT_FOUND, Map.of());
        boolean empty = group.is(GroupState.EMPTY);
        if (!empty && !"consumer".equals(group.protocolType)) return new GroupCoordinator.OffsetDeleteResult(NON_EMPTY_GROUP, Map.of());
        Map<TopicPartition, Short> results = new LinkedHashMap<>();
        List<TopicPartition> deleted = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            if ((!empty && group.isSubscribedTo(tp.topic())) || modern.isSubscribedTo(groupId, tp.topic())) {
                results.put(tp, GROUP_SUBSCRIBED_TO_TOPIC);
            } else {
                results.put(tp, NONE);
                if (group.offsets.remove(tp) != null) deleted.add(tp);
            }
        }
        if (!deleted.isEmpty()) store.offsetsDeleted(groupId, deleted);
        return new GroupCoordinator.OffsetDeleteResult(NONE, results);
    }

    /** Drops the offsets of deleted topics from every group (Kafka does this when a topic is deleted). */
    void deleteTopicOffsets(Collection<String> topics) {
        for (ClassicGroup group : groups.values()) {
            List<TopicPartition> deleted = new ArrayList<>();
            group.offsets.keySet().removeIf(tp -> {
                boolean drop = topics.contains(tp.topic());
                if (drop) deleted.add(tp);
                return drop;
            });
            if (!deleted.isEmpty()) store.offsetsDeleted(group.groupId, deleted);
        }
    }

    // ---------------------------------------------------------------- offset expiry

    /**
     * Expires offsets by Kafka's retention rules ({@link OffsetRetention}; run every
     * offsets.retention.check.interval.ms). An Empty group left with no offsets is removed (Dead), as Kafka does,
     * unless a member id handed out with MEMBER_ID_REQUIRED is still expected back. Tombstones go to the store
     * before anything is forgotten, so expired offsets do not come back on a restart. Returns the offsets expired.
     */
    int expire(long nowMs, long retentionMs) {
        int expiredTotal = 0;
        for (ClassicGroup group : List.copyOf(groups.values())) {
            if (group.is(GroupState.DEAD)) continue;
            List<TopicPartition> expired = OffsetRetention.expired(group, nowMs, retentionMs);
            if (modern.isConsumerGroup(group.groupId) && !modern.isEmptyConsumerGroup(group.groupId)) {
                // As Kafka: a consumer group with members keeps the offsets of the topics it subscribes to.
                expired = new ArrayList<>(expired);
                expired.removeIf(tp -> modern.isSubscribedTo(group.groupId, tp.topic()));
            }
            if (!expired.isEmpty()) {
                store.offsetsDeleted(group.groupId, expired);
                for (TopicPartition tp : expired) group.offsets.remove(tp);
                expiredTotal += expired.size();
            }
            if (group.is(GroupState.EMPTY) && group.offsets.isEmpty() && group.pendingMembers.isEmpty()) {
                if (modern.isConsumerGroup(group.groupId)) {
                    // A consumer group outlives its offsets while it has members; an empty one goes with them.
                    if (!modern.isEmptyConsumerGroup(group.groupId)) continue;
                    modern.deleteEmptyConsumerGroup(group.groupId);
                }
                store.groupDeleted(group.groupId, List.of());
                group.state = GroupState.DEAD;
                groups.remove(group.groupId);
            }
        }
        for (String groupId : modern.groupIds()) {
            // An empty consumer group that never committed (no offsets kept for it) goes too, as in Kafka.
            if (!groups.containsKey(groupId) && modern.isEmptyConsumerGroup(groupId)) {
                modern.deleteEmptyConsumerGroup(groupId);
            }
        }
        return expiredTotal;
    }
}
