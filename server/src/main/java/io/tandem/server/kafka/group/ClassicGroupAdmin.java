package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.GroupDescription;
import io.tandem.server.kafka.group.GroupMessages.GroupListing;
import io.tandem.server.kafka.group.GroupMessages.MemberDescription;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The admin requests on classic groups (DeleteGroups, ListGroups, DescribeGroups), with the consumer groups sharing
 * the ids in view: a consumer group's id is listed and deleted by its own rules. Called by {@link GroupCoordinator}
 * under its lock.
 */
final class ClassicGroupAdmin {
    private final Map<String, ClassicGroup> groups;
    private final ClassicGroupRecords records;
    ModernGroups modern = ModernGroups.ABSENT;

    ClassicGroupAdmin(Map<String, ClassicGroup> groups, ClassicGroupRecords records) {
        this.groups = groups;
        this.records = records;
    }

    Map<String, Short> deleteGroups(Collection<String> groupIds) {
        Map<String, Short> results = new LinkedHashMap<>();
        for (String groupId : groupIds) {
            ClassicGroup group = groupId == null ? null : groups.get(groupId);
            if (groupId != null && modern.isConsumerGroup(groupId)) {
                if (!modern.isEmptyConsumerGroup(groupId)) {
                    results.put(groupId, NON_EMPTY_GROUP);
                    continue;
                }
                modern.deleteEmptyConsumerGroup(groupId);
                if (group == null) {
                    records.deleteGroup(groupId, List.of());
                    results.put(groupId, NONE);
                    continue;
                }
            }
            if (groupId == null || groupId.isEmpty()) {
                results.put(groupId, INVALID_GROUP_ID);
            } else if (group == null || group.is(GroupState.DEAD)) {
                results.put(groupId, GROUP_ID_NOT_FOUND);
            } else if (!group.is(GroupState.EMPTY)) {
                results.put(groupId, NON_EMPTY_GROUP);
            } else {
                // As Kafka's deleteGroups: the group's offsets go with it, each with its tombstone.
                records.deleteGroup(groupId, List.copyOf(group.offsets.keySet()));
                group.state = GroupState.DEAD;
                groups.remove(groupId);
                results.put(groupId, NONE);
            }
        }
        return results;
    }

    List<GroupListing> listGroups() {
        List<GroupListing> listings = new ArrayList<>();
        for (ClassicGroup group : groups.values()) {
            // A consumer group's id is listed by the consumer group coordinator (its classic holder only keeps offsets).
            if (group.is(GroupState.DEAD) || modern.isConsumerGroup(group.groupId)) continue;
            listings.add(new GroupListing(group.groupId, group.protocolType == null ? "" : group.protocolType,
                    group.state));
        }
        return listings;
    }

    /** DescribeGroups data; an unknown group is reported as Dead with GROUP_ID_NOT_FOUND (v6+ clients see it). */
    GroupDescription describeGroup(String groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null || group.is(GroupState.DEAD)) {
            return new GroupDescription(GROUP_ID_NOT_FOUND, groupId, GroupState.DEAD, "", "", List.of());
        }
        boolean stable = group.is(GroupState.STABLE);
        List<MemberDescription> members = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            // Kafka only reports subscriptions and assignments once the group is Stable.
            members.add(new MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    stable ? m.metadata(group.protocolName) : new byte[0], stable ? m.assignment : new byte[0]));
        }
        return new GroupDescription(NONE, groupId, group.state, group.protocolType == null ? "" : group.protocolType,
                stable ? group.protocolName : "", members);
    }
}
