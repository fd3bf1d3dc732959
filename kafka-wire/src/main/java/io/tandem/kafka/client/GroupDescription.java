package io.tandem.kafka.client;

import java.util.List;

/** A classic group as DescribeGroups reports it, with the broker id of its coordinator. */
public record GroupDescription(String groupId, String state, String protocolType, String protocol, int coordinator,
                               List<GroupMember> members) {
}
