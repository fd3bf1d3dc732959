package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.group.ConsumerProtocolAssignment;
import io.tandem.server.kafka.group.ConsumerProtocolSubscription;
import io.tandem.server.kafka.group.GroupCoordinator;
import io.tandem.server.kafka.group.GroupMessages.HandedOverGroup;
import io.tandem.server.kafka.group.GroupMessages.HandedOverMember;
import io.tandem.server.kafka.group.GroupMessages.Protocol;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.GROUP_ID_NOT_FOUND;

/**
 * KIP-848's online migration between the classic and the consumer protocol, with Kafka's rules
 * (GroupMetadataManager's validateOnlineUpgrade / convertToConsumerGroup and
 * validateOnlineDowngradeWithFencedMembers / convertToClassicGroup), under {@code group.consumer.migration.policy}:
 * <ul>
 *   <li>Upgrade: the first consumer-protocol member joining a live classic group that embeds the consumer protocol
 *   turns it into a consumer group. Each classic member stays, as a classic member of the consumer group, at the
 *   classic generation as its epoch and with its classic assignment as both its current and target assignment, so
 *   nothing moves until the joining member bumps the group epoch and the new target is reconciled.</li>
 *   <li>Downgrade: when the last consumer-protocol member leaves (or is fenced) and only classic members remain, the
 *   group becomes a classic group again at the group epoch, with the members' current assignments, and rebalances.
 *   Likewise when a classic static member replaces the last consumer-protocol member (same instance id): then the
 *   group rebalances only if the newcomer's subscription differs from the replaced member's.</li>
 * </ul>
 * Called by {@link ConsumerGroupCoordinator} under the shared lock.
 */
final class GroupMigration {
    static final String CONSUMER_PROTOCOL_TYPE = "consumer";

    private final GroupCoordinator classic;
    private final ConsumerGroupConfig config;
    private final ConsumerGroupStore store;
    private final TopicsView topics;

    GroupMigration(GroupCoordinator classic, ConsumerGroupConfig config, ConsumerGroupStore store, TopicsView topics) {
        this.classic = classic;
        this.config = config;
        this.store = store;
        this.topics = topics;
    }

    /** Kafka's validateOnlineUpgrade: GROUP_ID_NOT_FOUND with Kafka's message when the group may not be upgraded. */
    void validateUpgrade(HandedOverGroup live) {
        String groupId = live.groupId();
        if (!config.migrationPolicy().isUpgradeEnabled()) {
            throw new ApiException(GROUP_ID_NOT_FOUND, "Cannot upgrade classic group " + groupId
                    + " to consumer group because online upgrade is disabled.");
        }
        if (!CONSUMER_PROTOCOL_TYPE.equals(live.protocolType())) {
            throw new ApiException(GROUP_ID_NOT_FOUND, "Cannot upgrade classic group " + groupId
                    + " to consumer group because the group does not use the consumer embedded protocol.");
        }
        if (live.members().size() > config.maxSize()) {
            throw new ApiException(GROUP_ID_NOT_FOUND, "Cannot upgrade classic group " + groupId
                    + " to consumer group because the group size exceeds the consumer group maximum size.");
        }
    }

    /**
     * Kafka's ConsumerGroup.fromClassicGroup: the consumer group holding the classic group's members. The classic
     * coordinator is told to let its membership go only once every member parsed, so a malformed one leaves the
     * classic group as it was.
     */
    ConsumerGroup upgrade(HandedOverGroup live, long nowMs) {
        validateUpgrade(live);
        ConsumerGroup group = new ConsumerGroup(live.groupId());
        group.groupEpoch = live.generationId();
        group.assignmentEpoch = live.generationId();
        List<ConsumerGroupMember> members = new ArrayList<>();
        for (HandedOverMember m : live.members()) {
            ConsumerProtocolSubscription subscription;
            Assignment assigned;
            try {
                subscription = ConsumerProtocolSubscription.parse(metadata(m, live.protocolName()));
                assigned = toAssignment(ConsumerProtocolAssignment.parse(m.assignment()));
            } catch (IllegalArgumentException e) {
                throw new ApiException(GROUP_ID_NOT_FOUND, "Cannot upgrade classic group " + live.groupId()
                        + " to consumer group because the embedded consumer protocol is malformed.");
            }
            ConsumerGroupMember member = new ConsumerGroupMember(m.memberId());
            member.instanceId = m.groupInstanceId();
            member.rackId = subscription.rackId();
            member.rebalanceTimeoutMs = m.rebalanceTimeoutMs();
            member.clientId = m.clientId() == null ? "" : m.clientId();
            member.clientHost = m.clientHost() == null ? "" : m.clientHost();
            member.subscribedTopicNames = subscription.topics();
            member.memberEpoch = live.generationId();
            member.previousMemberEpoch = live.generationId();
            member.state = MemberState.STABLE;
            member.assigned = assigned;
            member.classic = new ConsumerGroupMember.ClassicMetadata(m.sessionTimeoutMs(), m.protocols());
            member.sessionDeadlineMs = nowMs + m.sessionTimeoutMs();
            members.add(member);
        }
        classic.releaseToConsumerGroup(live.groupId(), nowMs);
        store.groupEpoch(group.groupId, group.groupEpoch);
        for (ConsumerGroupMember member : members) {
            group.members.put(member.memberId, member);
            if (member.instanceId != null) group.staticMembers.put(member.instanceId, member.memberId);
            group.targetAssignment.put(member.memberId, member.assigned);
            store.memberMetadata(group.groupId, member);
            store.targetAssignment(group.groupId, member.memberId, member.assigned);
            store.currentAssignment(group.groupId, member);
        }
        store.targetAssignmentEpoch(group.groupId, group.assignmentEpoch);
        return group;
    }

    private static byte[] metadata(HandedOverMember m, String protocolName) {
        for (Protocol p : m.protocols()) {
            if (protocolName == null || p.name().equals(protocolName)) return p.metadata();
        }
        throw new IllegalArgumentException("member " + m.memberId() + " lacks protocol " + protocolName);
    }

    /**
     * Kafka's validateOnlineDowngradeWithFencedMembers: after {@code leaving} go, members remain, all of them speak
     * the classic protocol (with a protocol they all support), the policy allows a downgrade, and they fit in a
     * classic group (group.max.size).
     */
    boolean shouldDowngrade(ConsumerGroup group, Collection<ConsumerGroupMember> leaving) {
        // Stops at the first remaining consumer-protocol member: a leave from a large consumer group costs O(1)
        // here, not a copy of the members.
        Set<String> gone = idsOf(leaving);
        boolean anyRemaining = false;
        for (ConsumerGroupMember m : group.members.values()) {
            if (gone.contains(m.memberId)) continue;
            if (!m.usesClassicProtocol()) return false;
            anyRemaining = true;
        }
        if (!anyRemaining) return false;
        List<ConsumerGroupMember> remaining = remaining(group, leaving);
        if (!config.migrationPolicy().isDowngradeEnabled()) return false;
        if (remaining.size() > classic.maxClassicGroupSize()) return false;
        return commonProtocol(remaining) != null;
    }

    /**
     * Kafka's validateOnlineDowngradeWithReplacedMember, checked before a classic static member takes the place of
     * {@code replaced}: every other member speaks the classic protocol, the policy allows a downgrade, and the group
     * (whose size the replacement does not change) fits in a classic group.
     */
    boolean shouldDowngradeReplacing(ConsumerGroup group, ConsumerGroupMember replaced) {
        for (ConsumerGroupMember m : group.members.values()) {
            if (!m.memberId.equals(replaced.memberId) && !m.usesClassicProtocol()) return false;
        }
        if (!config.migrationPolicy().isDowngradeEnabled()) return false;
        return group.members.size() <= classic.maxClassicGroupSize();
    }

    /**
     * Kafka's convertToClassicGroup: the group is handed to the classic coordinator, which rebalances it when
     * {@code rebalance} (a member left, or a replacing static member changed the subscription).
     */
    void downgrade(ConsumerGroup group, Collection<ConsumerGroupMember> leaving, boolean rebalance, long nowMs) {
        List<ConsumerGroupMember> remaining = remaining(group, leaving);
        List<HandedOverMember> members = new ArrayList<>();
        for (ConsumerGroupMember m : remaining) {
            members.add(new HandedOverMember(m.memberId, m.instanceId, m.clientId, m.clientHost,
                    m.classic.sessionTimeoutMs(), m.rebalanceTimeoutMs, m.classic.protocols(),
                    ConsumerProtocolAssignment.serialize(byName(m.assigned))));
        }
        for (ConsumerGroupMember m : group.members.values()) store.memberRemoved(group.groupId, m.memberId);
        store.groupDeleted(group.groupId);
        classic.takeFromConsumerGroup(new HandedOverGroup(group.groupId, group.groupEpoch, CONSUMER_PROTOCOL_TYPE,
                commonProtocol(remaining), members), rebalance, nowMs);
    }

    private static List<ConsumerGroupMember> remaining(ConsumerGroup group, Collection<ConsumerGroupMember> leaving) {
        Set<String> gone = idsOf(leaving);
        List<ConsumerGroupMember> remaining = new ArrayList<>(group.members.size());
        for (ConsumerGroupMember m : group.members.values()) if (!gone.contains(m.memberId)) remaining.add(m);
        return remaining;
    }

    private static Set<String> idsOf(Collection<ConsumerGroupMember> members) {
        Set<String> ids = new java.util.HashSet<>();
        for (ConsumerGroupMember m : members) ids.add(m.memberId);
        return ids;
    }

    /** The first member's most preferred protocol that every member supports, or null if there is none. */
    private static String commonProtocol(List<ConsumerGroupMember> members) {
        Set<String> common = null;
        for (ConsumerGroupMember m : members) {
            Set<String> names = new LinkedHashSet<>();
            for (Protocol p : m.classic.protocols()) names.add(p.name());
            if (common == null) common = names; else common.retainAll(names);
        }
        return common == null || common.isEmpty() ? null : common.iterator().next();
    }

    /** Partitions by topic name into partitions by topic id; topics that no longer exist are left out. */
    Assignment toAssignment(Map<String, List<Integer>> byName) {
        Assignment.Builder builder = new Assignment.Builder();
        for (Map.Entry<String, List<Integer>> e : byName.entrySet()) {
            TopicRef topic = topics.byName(e.getKey());
            if (topic == null) continue;
            for (int p : e.getValue()) builder.add(topic.id(), p);
        }
        return builder.build();
    }

    /** Partitions by topic id as the consumer protocol names them; topics that no longer exist are left out. */
    Map<String, List<Integer>> byName(Assignment assignment) {
        Map<String, List<Integer>> result = new LinkedHashMap<>();
        for (Map.Entry<UUID, SortedSet<Integer>> e : assignment.partitions().entrySet()) {
            TopicRef topic = topics.byId(e.getKey());
            if (topic != null) result.put(topic.name(), new ArrayList<>(e.getValue()));
        }
        return result;
    }

    /** A subscription's owned partitions as a heartbeat reports them, by topic id. */
    List<OwnedPartitions> owned(Map<String, List<Integer>> byName) {
        List<OwnedPartitions> owned = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : byName.entrySet()) {
            TopicRef topic = topics.byName(e.getKey());
            if (topic != null) owned.add(new OwnedPartitions(topic.id(), List.copyOf(e.getValue())));
        }
        return owned;
    }
}
