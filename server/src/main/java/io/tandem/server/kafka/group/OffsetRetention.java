package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Kafka's offset retention rules (offsets.retention.minutes, KIP-211): a committed offset expires once the
 * retention passed since
 * <ul>
 * <li>the group became Empty, for a group that had members: every offset of it, however recent its commit;</li>
 * <li>its commit, for a group known only from its commits (standalone consumers using assign());</li>
 * <li>its commit, for a Stable consumer group, but only on topics none of its members subscribes to.</li>
 * </ul>
 * An offset committed with its own retention time (OffsetCommit v2-v4 {@code retention_time_ms}) expires at commit
 * time plus that instead, under the same group conditions. A group in any other state keeps its offsets.
 */
final class OffsetRetention {
    private OffsetRetention() {
    }

    static List<TopicPartition> expired(ClassicGroup group, long nowMs, long retentionMs) {
        boolean emptyWithHistory = group.is(GroupState.EMPTY) && group.protocolType != null;
        boolean standalone = group.protocolType == null;
        boolean stableConsumer = group.is(GroupState.STABLE) && "consumer".equals(group.protocolType);
        List<TopicPartition> expired = new ArrayList<>();
        if (!emptyWithHistory && !standalone && !stableConsumer) return expired;
        for (Map.Entry<TopicPartition, CommittedOffset> e : group.offsets.entrySet()) {
            if (stableConsumer && group.isSubscribedTo(e.getKey().topic())) continue;
            CommittedOffset offset = e.getValue();
            if (offset.expireTimestampMs() != CommittedOffset.NO_EXPIRE_TIMESTAMP) {
                // The retention time an OffsetCommit v2-v4 gave for this offset replaces the broker's.
                if (nowMs >= offset.expireTimestampMs()) expired.add(e.getKey());
                continue;
            }
            // Without the time it became empty (not kept across restarts) Kafka, too, counts from the commit.
            long since = emptyWithHistory && group.emptySinceMs >= 0 ? group.emptySinceMs : offset.commitTimestampMs();
            if (nowMs - since >= retentionMs) expired.add(e.getKey());
        }
        return expired;
    }
}
