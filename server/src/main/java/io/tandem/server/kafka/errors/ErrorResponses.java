package io.tandem.server.kafka.errors;

import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.CreateDelegationTokenResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteGroupsResponse;
import io.tandem.kafka.wire.message.DeleteShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.kafka.wire.message.DescribeAclsResponse;
import io.tandem.kafka.wire.message.DescribeClientQuotasResponse;
import io.tandem.kafka.wire.message.DescribeClusterResponse;
import io.tandem.kafka.wire.message.DescribeGroupsRequest;
import io.tandem.kafka.wire.message.DescribeGroupsResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.JoinGroupResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetCommitResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.UpdateFeaturesResponse;
import io.tandem.server.kafka.security.KafkaPrincipals;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The one place that builds "the error response to request X failing with error E": the response Kafka's
 * {@code AbstractRequest.getErrorResponse(throttleTimeMs, exception)} builds for that request, field for field, with
 * every topic, partition, group or resource the request named carrying the error where Kafka's builder puts it there.
 * The produce, fetch, metadata, group and offset APIs are built here, the admin APIs in {@link AdminErrorResponses},
 * the group, share-state and transaction coordinators' APIs in {@link CoordinatorErrorResponses}; an API whose
 * response has only a top-level error code gets its defaults with that code. The message classes leave out the fields
 * a version lacks, so one builder serves every version.
 */
public final class ErrorResponses {
    /** Kafka's ProduceResponse.INVALID_OFFSET, RecordBatch.NO_TIMESTAMP, and every other "unknown" number. */
    static final long NONE = -1;
    static final UUID ZERO_UUID = new UUID(0, 0);
    /** Kafka's KafkaPrincipal.ANONYMOUS, type and name: the principal CreateDelegationToken's error answer names. */
    private static final String ANONYMOUS_TYPE = KafkaPrincipals.ANONYMOUS.substring(0,
            KafkaPrincipals.ANONYMOUS.indexOf(':'));
    private static final String ANONYMOUS = KafkaPrincipals.ANONYMOUS.substring(ANONYMOUS_TYPE.length() + 1);

    private ErrorResponses() {
    }

    /**
     * The error response to {@code request} (API {@code key} at {@code version}) failing with {@code error}, whose
     * exception's message is {@code message}; null where Kafka has none (an acks=0 Produce is never answered) or for an
     * API whose response has neither items the request named nor a top-level error code.
     */
    public static ApiMessage build(ApiKey key, short version, ApiMessage request, Errors error, String message) {
        Failure failure = new Failure(error, message);
        short code = error.code();
        return switch (key) {
            case PRODUCE -> produce((ProduceRequest) request, failure);
            case FETCH -> fetch((FetchRequest) request, version, error);
            case METADATA -> metadata((MetadataRequest) request, code);
            case LIST_OFFSETS -> listOffsets((ListOffsetsRequest) request, code);
            case OFFSET_COMMIT -> offsetCommit((OffsetCommitRequest) request, code);
            case OFFSET_FETCH -> offsetFetch((OffsetFetchRequest) request, version, code);
            case FIND_COORDINATOR -> findCoordinator((FindCoordinatorRequest) request, version, failure);
            case JOIN_GROUP -> new JoinGroupResponse().setErrorCode(code).setGenerationId(-1)
                    .setProtocolName(version >= 7 ? null : "").setLeader("").setMemberId("");
            case CREATE_TOPICS -> createTopics((CreateTopicsRequest) request, failure);
            case DELETE_TOPICS -> deleteTopics((DeleteTopicsRequest) request, version, code);
            case DESCRIBE_GROUPS -> describeGroups((DescribeGroupsRequest) request, code);
            case DELETE_GROUPS -> deleteGroups((DeleteGroupsRequest) request, code);
            case INIT_PRODUCER_ID -> new InitProducerIdResponse().setErrorCode(code).setProducerId(NONE)
                    .setProducerEpoch((short) -1);
            case CREATE_DELEGATION_TOKEN -> new CreateDelegationTokenResponse().setErrorCode(code)
                    .setPrincipalType(ANONYMOUS_TYPE).setPrincipalName(ANONYMOUS)
                    .setTokenRequesterPrincipalType(ANONYMOUS_TYPE).setTokenRequesterPrincipalName(ANONYMOUS)
                    .setIssueTimestampMs(NONE).setExpiryTimestampMs(NONE).setMaxTimestampMs(NONE);
            case DESCRIBE_CLUSTER -> new DescribeClusterResponse().setErrorCode(code)
                    .setErrorMessage(failure.apiMessage());
            case UPDATE_FEATURES -> new UpdateFeaturesResponse().setErrorCode(code)
                    .setErrorMessage(failure.apiMessage());
            case DESCRIBE_ACLS -> new DescribeAclsResponse().setErrorCode(code).setErrorMessage(failure.apiMessage());
            case DESCRIBE_CLIENT_QUOTAS -> new DescribeClientQuotasResponse().setErrorCode(code)
                    .setErrorMessage(failure.apiMessage()).setEntries(null);
            case ALTER_SHARE_GROUP_OFFSETS -> new AlterShareGroupOffsetsResponse().setErrorCode(code)
                    .setErrorMessage(failure.defaultMessage());
            case DELETE_SHARE_GROUP_OFFSETS -> new DeleteShareGroupOffsetsResponse().setErrorCode(code)
                    .setErrorMessage(failure.defaultMessage());
            case ALTER_CLIENT_QUOTAS, ALTER_CONFIGS, INCREMENTAL_ALTER_CONFIGS, DESCRIBE_CONFIGS, CREATE_ACLS,
                 DELETE_ACLS, CREATE_PARTITIONS, DELETE_RECORDS, ALTER_PARTITION_REASSIGNMENTS,
                 LIST_PARTITION_REASSIGNMENTS, ELECT_LEADERS, ALTER_USER_SCRAM_CREDENTIALS,
                 DESCRIBE_USER_SCRAM_CREDENTIALS, OFFSET_FOR_LEADER_EPOCH, DESCRIBE_PRODUCERS,
                 DESCRIBE_TOPIC_PARTITIONS -> AdminErrorResponses.build(key, version, request, failure);
            case CONSUMER_GROUP_DESCRIBE, SHARE_GROUP_DESCRIBE, DESCRIBE_SHARE_GROUP_OFFSETS,
                 INITIALIZE_SHARE_GROUP_STATE, READ_SHARE_GROUP_STATE, WRITE_SHARE_GROUP_STATE,
                 DELETE_SHARE_GROUP_STATE, READ_SHARE_GROUP_STATE_SUMMARY, DESCRIBE_TRANSACTIONS, TXN_OFFSET_COMMIT,
                 WRITE_TXN_MARKERS -> CoordinatorErrorResponses.build(key, request, failure);
            default -> topLevel(key, code);
        };
    }

    /**
     * A fetch answer with the error on every partition the request named and none at the top: what Kafka's builder
     * sends before v13, and what a partition-level error (not leader, unknown partition) looks like at any version.
     */
    public static FetchResponse fetchPartitionErrors(FetchRequest request, Errors error) {
        List<FetchResponse.FetchableTopicResponse> topics = new ArrayList<>();
        for (FetchRequest.FetchTopic topic : request.topics) {
            List<FetchResponse.PartitionData> partitions = new ArrayList<>();
            for (FetchRequest.FetchPartition partition : topic.partitions) {
                partitions.add(new FetchResponse.PartitionData().setPartitionIndex(partition.partition)
                        .setErrorCode(error.code()).setHighWatermark(NONE).setLastStableOffset(NONE)
                        .setLogStartOffset(NONE).setRecords(Unpooled.EMPTY_BUFFER));
            }
            topics.add(new FetchResponse.FetchableTopicResponse().setTopic(topic.topic).setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return new FetchResponse().setSessionId(request.sessionId).setResponses(topics);
    }

    /** Kafka's FetchRequest.getErrorResponse: at the top alone from v13 on; before, on every partition too. */
    private static FetchResponse fetch(FetchRequest request, short version, Errors error) {
        if (version >= 13) return new FetchResponse().setErrorCode(error.code()).setSessionId(request.sessionId);
        return fetchPartitionErrors(request, error).setErrorCode(error.code());
    }

    /** Kafka's ProduceRequest.getErrorResponse: every partition, with the exception's message; none for acks=0. */
    private static ProduceResponse produce(ProduceRequest request, Failure failure) {
        if (request.acks == 0) return null;
        List<ProduceResponse.TopicProduceResponse> topics = new ArrayList<>();
        for (ProduceRequest.TopicProduceData topic : request.topicData) {
            List<ProduceResponse.PartitionProduceResponse> partitions = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData partition : topic.partitionData) {
                partitions.add(new ProduceResponse.PartitionProduceResponse().setIndex(partition.index)
                        .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()).setBaseOffset(NONE)
                        .setLogAppendTimeMs(NONE).setLogStartOffset(NONE));
            }
            topics.add(new ProduceResponse.TopicProduceResponse().setName(topic.name).setTopicId(topic.topicId)
                    .setPartitionResponses(partitions));
        }
        return new ProduceResponse().setResponses(topics);
    }

    /**
     * Kafka's MetadataRequest.getErrorResponse: each named topic carries the error, no brokers and no controller (a
     * client takes an answer without brokers as a failed update and asks again); the top-level error_code, from v13 on.
     */
    private static MetadataResponse metadata(MetadataRequest request, short code) {
        List<MetadataResponse.MetadataResponseTopic> topics = new ArrayList<>();
        if (request.topics != null) {
            for (MetadataRequest.MetadataRequestTopic topic : request.topics) {
                topics.add(new MetadataResponse.MetadataResponseTopic().setErrorCode(code)
                        .setName(topic.name == null ? "" : topic.name)
                        .setTopicId(topic.topicId == null ? ZERO_UUID : topic.topicId));
            }
        }
        return new MetadataResponse().setControllerId(-1).setTopics(topics).setErrorCode(code);
    }

    /** Kafka's ListOffsetsRequest.getErrorResponse: every partition, offset and timestamp unknown (-1). */
    private static ListOffsetsResponse listOffsets(ListOffsetsRequest request, short code) {
        List<ListOffsetsResponse.ListOffsetsTopicResponse> topics = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic topic : request.topics) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> partitions = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition partition : topic.partitions) {
                partitions.add(new ListOffsetsResponse.ListOffsetsPartitionResponse()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(code).setTimestamp(NONE)
                        .setOffset(NONE));
            }
            topics.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(topic.name)
                    .setPartitions(partitions));
        }
        return new ListOffsetsResponse().setTopics(topics);
    }

    /** Kafka's OffsetCommitRequest.getErrorResponse: every partition of every topic. */
    private static OffsetCommitResponse offsetCommit(OffsetCommitRequest request, short code) {
        List<OffsetCommitResponse.OffsetCommitResponseTopic> topics = new ArrayList<>();
        for (OffsetCommitRequest.OffsetCommitRequestTopic topic : request.topics) {
            List<OffsetCommitResponse.OffsetCommitResponsePartition> partitions = new ArrayList<>();
            for (OffsetCommitRequest.OffsetCommitRequestPartition partition : topic.partitions) {
                partitions.add(new OffsetCommitResponse.OffsetCommitResponsePartition()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(code));
            }
            topics.add(new OffsetCommitResponse.OffsetCommitResponseTopic().setName(topic.name)
                    .setTopicId(topic.topicId).setPartitions(partitions));
        }
        return new OffsetCommitResponse().setTopics(topics);
    }

    /**
     * Kafka's OffsetFetchRequest.getErrorResponse: v8 and later on every group, v2-7 at the top with no partitions,
     * v0-1 on every named partition.
     */
    private static OffsetFetchResponse offsetFetch(OffsetFetchRequest request, short version, short code) {
        OffsetFetchResponse response = new OffsetFetchResponse();
        if (version >= 8) {
            List<OffsetFetchResponse.OffsetFetchResponseGroup> groups = new ArrayList<>();
            for (OffsetFetchRequest.OffsetFetchRequestGroup group : request.groups) {
                groups.add(new OffsetFetchResponse.OffsetFetchResponseGroup().setGroupId(group.groupId)
                        .setErrorCode(code));
            }
            return response.setGroups(groups);
        }
        if (version >= 2) return response.setErrorCode(code);
        List<OffsetFetchResponse.OffsetFetchResponseTopic> topics = new ArrayList<>();
        if (request.topics != null) {
            for (OffsetFetchRequest.OffsetFetchRequestTopic topic : request.topics) {
                List<OffsetFetchResponse.OffsetFetchResponsePartition> partitions = new ArrayList<>();
                for (int index : topic.partitionIndexes) {
                    partitions.add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(index)
                            .setCommittedOffset(NONE).setMetadata("").setErrorCode(code));
                }
                topics.add(new OffsetFetchResponse.OffsetFetchResponseTopic().setName(topic.name)
                        .setPartitions(partitions));
            }
        }
        return response.setTopics(topics);
    }

    /** Kafka's FindCoordinatorRequest.getErrorResponse: v4 and later on every key, before at the top. */
    private static FindCoordinatorResponse findCoordinator(FindCoordinatorRequest request, short version,
                                                           Failure failure) {
        FindCoordinatorResponse response = new FindCoordinatorResponse();
        if (version < 4) {
            return response.setErrorCode(failure.code()).setErrorMessage(failure.defaultMessage()).setNodeId(-1)
                    .setHost("").setPort(-1);
        }
        List<FindCoordinatorResponse.Coordinator> coordinators = new ArrayList<>();
        for (String key : request.coordinatorKeys) {
            coordinators.add(new FindCoordinatorResponse.Coordinator().setKey(key).setNodeId(-1).setHost("")
                    .setPort(-1).setErrorCode(failure.code()).setErrorMessage(failure.defaultMessage()));
        }
        return response.setCoordinators(coordinators);
    }

    /** Kafka's CreateTopicsRequest.getErrorResponse: every topic, with the exception's message. */
    private static CreateTopicsResponse createTopics(CreateTopicsRequest request, Failure failure) {
        List<CreateTopicsResponse.CreatableTopicResult> topics = new ArrayList<>();
        for (CreateTopicsRequest.CreatableTopic topic : request.topics) {
            topics.add(new CreateTopicsResponse.CreatableTopicResult().setName(topic.name)
                    .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
        }
        return new CreateTopicsResponse().setTopics(topics);
    }

    /** Kafka's DeleteTopicsRequest.getErrorResponse: every topic, by name and id from v6 on, by name before. */
    private static DeleteTopicsResponse deleteTopics(DeleteTopicsRequest request, short version, short code) {
        List<DeleteTopicsResponse.DeletableTopicResult> topics = new ArrayList<>();
        if (version >= 6) {
            for (DeleteTopicsRequest.DeleteTopicState topic : request.topics) {
                topics.add(new DeleteTopicsResponse.DeletableTopicResult().setName(topic.name)
                        .setTopicId(topic.topicId).setErrorCode(code));
            }
        } else {
            for (String name : request.topicNames) {
                topics.add(new DeleteTopicsResponse.DeletableTopicResult().setName(name).setErrorCode(code));
            }
        }
        return new DeleteTopicsResponse().setResponses(topics);
    }

    /** Kafka's DescribeGroupsResponse.getErrorDescribedGroupList: every group, state and protocol unknown (""). */
    private static DescribeGroupsResponse describeGroups(DescribeGroupsRequest request, short code) {
        List<DescribeGroupsResponse.DescribedGroup> groups = new ArrayList<>();
        for (String group : request.groups) {
            groups.add(new DescribeGroupsResponse.DescribedGroup().setGroupId(group).setErrorCode(code));
        }
        return new DescribeGroupsResponse().setGroups(groups);
    }

    /** Kafka's DeleteGroupsRequest.getErrorResponse: every group. */
    private static DeleteGroupsResponse deleteGroups(DeleteGroupsRequest request, short code) {
        List<DeleteGroupsResponse.DeletableGroupResult> groups = new ArrayList<>();
        for (String group : request.groupsNames) {
            groups.add(new DeleteGroupsResponse.DeletableGroupResult().setGroupId(group).setErrorCode(code));
        }
        return new DeleteGroupsResponse().setResults(groups);
    }

    /** The response's own defaults with the error in its top-level error_code; null when it has none. */
    private static ApiMessage topLevel(ApiKey key, short code) {
        ApiMessage response = key.newResponse();
        Field field;
        try {
            field = response.getClass().getField("errorCode");
        } catch (NoSuchFieldException itemsOnly) {
            return null;
        }
        try {
            field.setShort(response, code);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return response;
    }
}
