package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupDeadlines;

import java.util.Collection;
import java.util.Map;

/**
 * What a consumer group's deadlines are, for {@link GroupDeadlines}: each member's earliest of its session, its
 * revocation (partitions kept past the rebalance timeout) and, for a classic member, its join and sync timeouts, the
 * four {@link MemberRemovals#expire} fences on. The group has none of its own. Called under the coordinator's lock.
 */
final class ConsumerGroupDeadlines implements GroupDeadlines.Shape<ConsumerGroup, ConsumerGroupMember> {
    private final Map<String, ConsumerGroup> groups;

    ConsumerGroupDeadlines(Map<String, ConsumerGroup> groups) {
        this.groups = groups;
    }

    @Override
    public ConsumerGroup live(String groupId) {
        return groups.get(groupId);
    }

    @Override
    public String groupId(ConsumerGroup group) {
        return group.groupId;
    }

    @Override
    public Collection<ConsumerGroupMember> members(ConsumerGroup group) {
        return group.members.values();
    }

    @Override
    public boolean isMember(ConsumerGroup group, ConsumerGroupMember member) {
        return group.members.get(member.memberId) == member;
    }

    @Override
    public long memberDeadlineMs(ConsumerGroupMember m) {
        return Math.min(Math.min(m.sessionDeadlineMs, m.revocationDeadlineMs),
                Math.min(m.joinDeadlineMs, m.syncDeadlineMs));
    }

    @Override
    public long groupDeadlineMs(ConsumerGroup group) {
        return Long.MAX_VALUE;
    }
}
