package io.tandem.kafka.client;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeRequest;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeResponse;
import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteGroupsResponse;
import io.tandem.kafka.wire.message.DescribeGroupsRequest;
import io.tandem.kafka.wire.message.DescribeGroupsResponse;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.ListGroupsRequest;
import io.tandem.kafka.wire.message.ListGroupsResponse;
import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetCommitResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Consumer group operations over a {@link KafkaClient}: each goes to the group's coordinator, found with
 * FindCoordinator and looked up again when a broker answers NOT_COORDINATOR.
 */
public final class GroupAdmin {
    /** FindCoordinator's key type for a consumer group (1 would be a transactional id). */
    private static final byte KEY_TYPE_GROUP = 0;
    /** An offset commit from outside the group's generation, as Kafka's admin client and simple consumers send it. */
    private static final int NO_GENERATION = -1;

    private final KafkaClient client;

    public GroupAdmin(KafkaClient client) {
        this.client = client;
    }

    /** The broker coordinating {@code group}. */
    public int coordinator(String group) {
        return client.retrying(() -> findCoordinator(group));
    }

    /** Every group each broker knows, by id. */
    public List<GroupListing> listGroups() {
        Map<String, GroupListing> groups = new TreeMap<>();
        for (int broker : client.brokers().keySet()) {
            ListGroupsResponse response = client.retrying(() -> {
                ListGroupsResponse r = client.send(broker, new ListGroupsRequest());
                KafkaClientException.check(r.errorCode, "ListGroups on broker " + broker, null);
                return r;
            });
            for (ListGroupsResponse.ListedGroup group : response.groups) {
                groups.put(group.groupId, new GroupListing(group.groupId, group.protocolType,
                        group.groupState == null || group.groupState.isEmpty() ? null : group.groupState,
                        group.groupType == null || group.groupType.isEmpty() ? null : group.groupType));
            }
        }
        return List.copyOf(groups.values());
    }

    /**
     * A group's state and members, with each consumer member's assigned partitions.
     *
     * @throws KafkaClientException with GROUP_ID_NOT_FOUND if the coordinator reports the group as Dead
     */
    public GroupDescription describeGroup(String group) {
        return client.retrying(() -> {
            int coordinator = findCoordinator(group);
            // As Kafka's admin client: a coordinator that serves KIP-848 groups is asked about one first, and a group
            // it does not know as such (GROUP_ID_NOT_FOUND: a classic group, or none) is asked about classically.
            if (client.connection(coordinator).brokerVersions(ApiKey.CONSUMER_GROUP_DESCRIBE) != null) {
                GroupDescription consumerGroup = describeConsumerGroup(group, coordinator);
                if (consumerGroup != null) return consumerGroup;
            }
            DescribeGroupsResponse response = client.send(coordinator,
                    new DescribeGroupsRequest().setGroups(new ArrayList<>(List.of(group))));
            for (DescribeGroupsResponse.DescribedGroup described : response.groups) {
                // Kafka 4's coordinator answers an unknown group with GROUP_ID_NOT_FOUND (v6+), older ones with Dead.
                if (described.errorCode == Errors.GROUP_ID_NOT_FOUND.code() || "Dead".equals(described.groupState)) {
                    throw new KafkaClientException(Errors.GROUP_ID_NOT_FOUND, "group '" + group + "' does not exist");
                }
                KafkaClientException.check(described.errorCode, "describing group '" + group + "'",
                        described.errorMessage);
                List<GroupMember> members = new ArrayList<>();
                for (DescribeGroupsResponse.DescribedGroupMember member : described.members) {
                    List<TopicPartition> assignment = "consumer".equals(described.protocolType)
                            ? ConsumerProtocol.assignedPartitions(member.memberAssignment) : List.of();
                    members.add(new GroupMember(member.memberId, member.groupInstanceId, member.clientId,
                            member.clientHost, assignment));
                }
                return new GroupDescription(described.groupId, described.groupState, described.protocolType,
                        described.protocolData, coordinator, List.copyOf(members));
            }
            throw new KafkaClientException(Errors.UNKNOWN_SERVER_ERROR, "DescribeGroups answer names no group");
        });
    }

    /** A KIP-848 consumer group, or null when the coordinator knows no such group by that id. */
    private GroupDescription describeConsumerGroup(String group, int coordinator) {
        ConsumerGroupDescribeRequest request = new ConsumerGroupDescribeRequest();
        request.groupIds.add(group);
        ConsumerGroupDescribeResponse response = client.send(coordinator, request);
        for (ConsumerGroupDescribeResponse.DescribedGroup described : response.groups) {
            if (described.errorCode == Errors.GROUP_ID_NOT_FOUND.code()) return null;
            KafkaClientException.check(described.errorCode, "describing group '" + group + "'", described.errorMessage);
            List<GroupMember> members = new ArrayList<>();
            for (ConsumerGroupDescribeResponse.Member member : described.members) {
                List<TopicPartition> assignment = new ArrayList<>();
                for (ConsumerGroupDescribeResponse.TopicPartitions topic : member.assignment.topicPartitions) {
                    for (int partition : topic.partitions) assignment.add(new TopicPartition(topic.topicName, partition));
                }
                assignment.sort(null);
                members.add(new GroupMember(member.memberId, member.instanceId, member.clientId, member.clientHost,
                        List.copyOf(assignment)));
            }
            // The protocol type and protocol as ListGroups and Kafka's tools name them for such a group.
            return new GroupDescription(described.groupId, described.groupState, "consumer", described.assignorName,
                    coordinator, List.copyOf(members));
        }
        return null;
    }

    /** The group's committed offsets for every partition it has one for. */
    public Map<TopicPartition, Long> committedOffsets(String group) {
        return client.retrying(() -> {
            int coordinator = findCoordinator(group);
            KafkaConnection connection = client.connection(coordinator);
            short version = connection.version(ApiKey.OFFSET_FETCH);
            if (version < 2) {
                throw new KafkaClientException(Errors.UNSUPPORTED_VERSION, "this broker cannot list all of a group's"
                        + " offsets (OffsetFetch v" + version + ")");
            }
            Map<TopicPartition, Long> offsets = new TreeMap<>();
            if (version < 8) {
                OffsetFetchRequest request = new OffsetFetchRequest().setGroupId(group).setTopics(null);
                OffsetFetchResponse response = connection.send(request, version, client.requestTimeout());
                KafkaClientException.check(response.errorCode, "fetching offsets of group '" + group + "'", null);
                for (OffsetFetchResponse.OffsetFetchResponseTopic topic : response.topics) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartition p : topic.partitions) {
                        addCommitted(offsets, new TopicPartition(topic.name, p.partitionIndex), p.errorCode,
                                p.committedOffset);
                    }
                }
                return offsets;
            }
            OffsetFetchRequest request = new OffsetFetchRequest().setGroups(new ArrayList<>(List.of(
                    new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId(group).setTopics(null))));
            OffsetFetchResponse response = connection.send(request, version, client.requestTimeout());
            for (OffsetFetchResponse.OffsetFetchResponseGroup fetched : response.groups) {
                KafkaClientException.check(fetched.errorCode, "fetching offsets of group '" + group + "'", null);
                for (OffsetFetchResponse.OffsetFetchResponseTopics topic : fetched.topics) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartitions p : topic.partitions) {
                        addCommitted(offsets, new TopicPartition(topic.name, p.partitionIndex), p.errorCode,
                                p.committedOffset);
                    }
                }
            }
            return offsets;
        });
    }

    /**
     * Commits offsets for the group from outside any generation. Kafka accepts that only while the group has no
     * active members; otherwise the coordinator refuses (UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION) and this throws.
     */
    public void commitOffsets(String group, Map<TopicPartition, Long> offsets) {
        commitOffsets(group, NO_GENERATION, "", null, offsets);
    }

    /**
     * Commits offsets as member {@code memberId} of generation {@code generation} (a {@link ClassicGroupMember}'s).
     * The coordinator refuses a stale generation or a member it no longer knows (ILLEGAL_GENERATION,
     * UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS once the rebalance has reached its sync): this throws then.
     */
    public void commitOffsets(String group, int generation, String memberId, String groupInstanceId,
                              Map<TopicPartition, Long> offsets) {
        client.retrying(() -> {
            int coordinator = findCoordinator(group);
            Map<String, OffsetCommitRequest.OffsetCommitRequestTopic> topics = new TreeMap<>();
            for (Map.Entry<TopicPartition, Long> entry : offsets.entrySet()) {
                topics.computeIfAbsent(entry.getKey().topic(),
                                t -> new OffsetCommitRequest.OffsetCommitRequestTopic().setName(t))
                        .partitions.add(new OffsetCommitRequest.OffsetCommitRequestPartition()
                                .setPartitionIndex(entry.getKey().partition()).setCommittedOffset(entry.getValue())
                                .setCommittedMetadata(""));
            }
            OffsetCommitRequest request = new OffsetCommitRequest().setGroupId(group)
                    .setGenerationIdOrMemberEpoch(generation).setMemberId(memberId)
                    .setGroupInstanceId(groupInstanceId)
                    .setTopics(new ArrayList<>(topics.values()));
            OffsetCommitResponse response = client.send(coordinator, request);
            for (OffsetCommitResponse.OffsetCommitResponseTopic topic : response.topics) {
                for (OffsetCommitResponse.OffsetCommitResponsePartition p : topic.partitions) {
                    KafkaClientException.check(p.errorCode, "committing offsets of group '" + group + "' for "
                            + topic.name + "-" + p.partitionIndex, null);
                }
            }
            return null;
        });
    }

    /** Deletes a group and its offsets; Kafka refuses (NON_EMPTY_GROUP) while it has members. */
    public void deleteGroup(String group) {
        client.retrying(() -> {
            int coordinator = findCoordinator(group);
            DeleteGroupsResponse response = client.send(coordinator,
                    new DeleteGroupsRequest().setGroupsNames(new ArrayList<>(List.of(group))));
            for (DeleteGroupsResponse.DeletableGroupResult result : response.results) {
                KafkaClientException.check(result.errorCode, "deleting group '" + group + "'", result.errorMessage);
            }
            return null;
        });
    }

    private static void addCommitted(Map<TopicPartition, Long> offsets, TopicPartition tp, short errorCode,
                                     long offset) {
        KafkaClientException.check(errorCode, "fetching the committed offset of " + tp, null);
        if (offset >= 0) {
            offsets.put(tp, offset);
        }
    }

    private int findCoordinator(String group) {
        KafkaConnection connection = client.anyConnection();
        short version = connection.version(ApiKey.FIND_COORDINATOR);
        FindCoordinatorRequest request = new FindCoordinatorRequest().setKeyType(KEY_TYPE_GROUP);
        if (version < 4) {
            request.setKey(group);
        } else {
            request.setCoordinatorKeys(new ArrayList<>(List.of(group)));
        }
        FindCoordinatorResponse response = connection.send(request, version, client.requestTimeout());
        int nodeId;
        if (version < 4) {
            KafkaClientException.check(response.errorCode, "finding the coordinator of group '" + group + "'",
                    response.errorMessage);
            nodeId = response.nodeId;
        } else {
            if (response.coordinators.isEmpty()) {
                throw new KafkaClientException(Errors.COORDINATOR_NOT_AVAILABLE, "no coordinator for '" + group + "'");
            }
            FindCoordinatorResponse.Coordinator coordinator = response.coordinators.get(0);
            KafkaClientException.check(coordinator.errorCode, "finding the coordinator of group '" + group + "'",
                    coordinator.errorMessage);
            nodeId = coordinator.nodeId;
        }
        return nodeId;
    }
}
