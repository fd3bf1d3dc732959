package io.tandem.kafka.client;

import java.util.List;

/**
 * A group as DescribeGroups (classic) or ConsumerGroupDescribe (KIP-848: protocol type "consumer", protocol the
 * assignor) reports it, with the broker id of its coordinator.
 */
public record GroupDescription(String groupId, String state, String protocolType, String protocol, int coordinator,
                               List<GroupMember> members) {
}
