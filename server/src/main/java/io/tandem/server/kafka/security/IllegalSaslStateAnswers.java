package io.tandem.server.kafka.security;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.AlterShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.CreateDelegationTokenResponse;
import io.tandem.kafka.wire.message.DeleteShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.DescribeAclsResponse;
import io.tandem.kafka.wire.message.DescribeClientQuotasResponse;
import io.tandem.kafka.wire.message.DescribeClusterResponse;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.OffsetFetchResponse;
import io.tandem.kafka.wire.message.UpdateFeaturesResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetCommitResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteGroupsResponse;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.kafka.wire.message.DescribeGroupsRequest;
import io.tandem.kafka.wire.message.DescribeGroupsResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What Kafka's SaslServerAuthenticator answers to a request other than SaslAuthenticate once the token exchange of a
 * v1 SaslHandshake began (IllegalSaslStateException): that request's own error response, as its
 * {@code AbstractRequest.getErrorResponse} builds it, with ILLEGAL_SASL_STATE; the close follows once it is written,
 * after connection.failed.authentication.delay.ms like every failed authentication's answer. Produce, Fetch and
 * Metadata carry the error per item as Kafka's builders do; every other API whose response has a top-level error
 * code carries it there. {@link #answer} gives null for an API whose Kafka builder is none of these (its items carry
 * the error and nobody wrote it here yet) and for an acks=0 Produce, which Kafka never answers: the connection then
 * closes without an answer.
 */
public final class IllegalSaslStateAnswers {
    private static final short ERROR = Errors.ILLEGAL_SASL_STATE.code();
    /** Kafka's ProduceResponse.INVALID_OFFSET and RecordBatch.NO_TIMESTAMP. */
    private static final long NONE = -1;
    private static final UUID ZERO_UUID = new UUID(0, 0);
    /** Kafka's KafkaPrincipal.ANONYMOUS, type and name: who a connection is before it authenticates. */
    private static final String ANONYMOUS_TYPE = KafkaPrincipals.ANONYMOUS.substring(0,
            KafkaPrincipals.ANONYMOUS.indexOf(':'));
    private static final String ANONYMOUS = KafkaPrincipals.ANONYMOUS.substring(ANONYMOUS_TYPE.length() + 1);

    private IllegalSaslStateAnswers() {
    }

    /**
     * The IllegalSaslStateException's message, as SaslServerAuthenticator words it; Kafka's ApiKeys prints as its
     * constant name, which Tandem's key names share.
     */
    public static String message(ApiKey key) {
        return "Unexpected Kafka request of type " + key.name() + " during SASL authentication.";
    }

    /**
     * The error answer to the request in {@code frame} (its body, after the header of API {@code key} at
     * {@code version}), or null when there is none.
     *
     * @throws RuntimeException when the request cannot be parsed (Kafka's InvalidRequestException: no answer)
     */
    public static ApiMessage answer(ApiKey key, short version, ByteBuf frame) {
        if (version < key.minVersion() || version > key.latestVersion()) {
            throw new IllegalArgumentException(key.apiName() + " v" + version + " is not a version of the API");
        }
        ApiMessage request = key.readRequest(frame, version);
        String message = message(key);
        return switch (key) {
            case PRODUCE -> produce((ProduceRequest) request, message);
            case FETCH -> fetch((FetchRequest) request, version);
            case METADATA -> metadata((MetadataRequest) request);
            case LIST_OFFSETS -> listOffsets((ListOffsetsRequest) request);
            case OFFSET_COMMIT -> offsetCommit((OffsetCommitRequest) request);
            case CREATE_TOPICS -> createTopics((CreateTopicsRequest) request, message);
            case DELETE_TOPICS -> deleteTopics((DeleteTopicsRequest) request, version);
            case DESCRIBE_GROUPS -> describeGroups((DescribeGroupsRequest) request);
            case DELETE_GROUPS -> deleteGroups((DeleteGroupsRequest) request);
            case FIND_COORDINATOR -> findCoordinator((FindCoordinatorRequest) request, version);
            case OFFSET_FETCH -> offsetFetch((OffsetFetchRequest) request, version);
            case INIT_PRODUCER_ID -> new InitProducerIdResponse().setErrorCode(ERROR).setProducerId(NONE)
                    .setProducerEpoch((short) -1);
            // Kafka answers with the request's principal, which is nobody yet (ANONYMOUS), and no token.
            case CREATE_DELEGATION_TOKEN -> new CreateDelegationTokenResponse().setErrorCode(ERROR)
                    .setPrincipalType(ANONYMOUS_TYPE).setPrincipalName(ANONYMOUS)
                    .setTokenRequesterPrincipalType(ANONYMOUS_TYPE).setTokenRequesterPrincipalName(ANONYMOUS)
                    .setIssueTimestampMs(NONE).setExpiryTimestampMs(NONE).setMaxTimestampMs(NONE);
            case DESCRIBE_CLUSTER -> new DescribeClusterResponse().setErrorCode(ERROR).setErrorMessage(message);
            case UPDATE_FEATURES -> new UpdateFeaturesResponse().setErrorCode(ERROR).setErrorMessage(message);
            case DESCRIBE_ACLS -> new DescribeAclsResponse().setErrorCode(ERROR).setErrorMessage(message);
            case DESCRIBE_CLIENT_QUOTAS -> new DescribeClientQuotasResponse().setErrorCode(ERROR)
                    .setErrorMessage(message).setEntries(null);
            case ALTER_SHARE_GROUP_OFFSETS -> new AlterShareGroupOffsetsResponse().setErrorCode(ERROR)
                    .setErrorMessage(Errors.ILLEGAL_SASL_STATE.message());
            case DELETE_SHARE_GROUP_OFFSETS -> new DeleteShareGroupOffsetsResponse().setErrorCode(ERROR)
                    .setErrorMessage(Errors.ILLEGAL_SASL_STATE.message());
            // Kafka puts the error on each named item as well; not built here yet.
            case ALTER_PARTITION_REASSIGNMENTS, LIST_PARTITION_REASSIGNMENTS, ELECT_LEADERS,
                 DESCRIBE_USER_SCRAM_CREDENTIALS -> null;
            default -> topLevel(key);
        };
    }

    /** Kafka's CreateTopicsRequest.getErrorResponse: every topic, with the exception's message. */
    private static CreateTopicsResponse createTopics(CreateTopicsRequest request, String message) {
        List<CreateTopicsResponse.CreatableTopicResult> topics = new ArrayList<>();
        for (CreateTopicsRequest.CreatableTopic topic : request.topics) {
            topics.add(new CreateTopicsResponse.CreatableTopicResult().setName(topic.name).setErrorCode(ERROR)
                    .setErrorMessage(message));
        }
        return new CreateTopicsResponse().setTopics(topics);
    }

    /** Kafka's DeleteTopicsRequest.getErrorResponse: every topic, by name and id from v6 on, by name before. */
    private static DeleteTopicsResponse deleteTopics(DeleteTopicsRequest request, short version) {
        List<DeleteTopicsResponse.DeletableTopicResult> topics = new ArrayList<>();
        if (version >= 6) {
            for (DeleteTopicsRequest.DeleteTopicState topic : request.topics) {
                topics.add(new DeleteTopicsResponse.DeletableTopicResult().setName(topic.name)
                        .setTopicId(topic.topicId).setErrorCode(ERROR));
            }
        } else {
            for (String name : request.topicNames) {
                topics.add(new DeleteTopicsResponse.DeletableTopicResult().setName(name).setErrorCode(ERROR));
            }
        }
        return new DeleteTopicsResponse().setResponses(topics);
    }

    /** Kafka's DescribeGroupsResponse.getErrorDescribedGroupList: every group, state and protocol unknown (""). */
    private static DescribeGroupsResponse describeGroups(DescribeGroupsRequest request) {
        List<DescribeGroupsResponse.DescribedGroup> groups = new ArrayList<>();
        for (String group : request.groups) {
            groups.add(new DescribeGroupsResponse.DescribedGroup().setGroupId(group).setErrorCode(ERROR));
        }
        return new DescribeGroupsResponse().setGroups(groups);
    }

    /** Kafka's DeleteGroupsRequest.getErrorResponse: every group. */
    private static DeleteGroupsResponse deleteGroups(DeleteGroupsRequest request) {
        List<DeleteGroupsResponse.DeletableGroupResult> groups = new ArrayList<>();
        for (String group : request.groupsNames) {
            groups.add(new DeleteGroupsResponse.DeletableGroupResult().setGroupId(group).setErrorCode(ERROR));
        }
        return new DeleteGroupsResponse().setResults(groups);
    }

    /** Kafka's ListOffsetsRequest.getErrorResponse: every partition, offset and timestamp unknown (-1). */
    private static ListOffsetsResponse listOffsets(ListOffsetsRequest request) {
        List<ListOffsetsResponse.ListOffsetsTopicResponse> topics = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic topic : request.topics) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> partitions = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition partition : topic.partitions) {
                partitions.add(new ListOffsetsResponse.ListOffsetsPartitionResponse()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(ERROR).setTimestamp(NONE)
                        .setOffset(NONE));
            }
            topics.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(topic.name)
                    .setPartitions(partitions));
        }
        return new ListOffsetsResponse().setTopics(topics);
    }

    /** Kafka's OffsetCommitRequest.getErrorResponse: every partition of every topic. */
    private static OffsetCommitResponse offsetCommit(OffsetCommitRequest request) {
        List<OffsetCommitResponse.OffsetCommitResponseTopic> topics = new ArrayList<>();
        for (OffsetCommitRequest.OffsetCommitRequestTopic topic : request.topics) {
            List<OffsetCommitResponse.OffsetCommitResponsePartition> partitions = new ArrayList<>();
            for (OffsetCommitRequest.OffsetCommitRequestPartition partition : topic.partitions) {
                partitions.add(new OffsetCommitResponse.OffsetCommitResponsePartition()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(ERROR));
            }
            topics.add(new OffsetCommitResponse.OffsetCommitResponseTopic().setName(topic.name)
                    .setTopicId(topic.topicId).setPartitions(partitions));
        }
        return new OffsetCommitResponse().setTopics(topics);
    }

    /** Kafka's FindCoordinatorRequest.getErrorResponse: v4 and later on every key, before at the top. */
    private static FindCoordinatorResponse findCoordinator(FindCoordinatorRequest request, short version) {
        String message = Errors.ILLEGAL_SASL_STATE.message();
        FindCoordinatorResponse response = new FindCoordinatorResponse();
        if (version < 4) return response.setErrorCode(ERROR).setErrorMessage(message).setNodeId(-1).setPort(-1);
        List<FindCoordinatorResponse.Coordinator> coordinators = new ArrayList<>();
        for (String key : request.coordinatorKeys) {
            coordinators.add(new FindCoordinatorResponse.Coordinator().setKey(key).setNodeId(-1).setHost("")
                    .setPort(-1).setErrorCode(ERROR).setErrorMessage(message));
        }
        return response.setCoordinators(coordinators);
    }

    /** Kafka's OffsetFetchRequest.getErrorResponse: v8 and later on every group, v2-7 at the top, before per partition. */
    private static OffsetFetchResponse offsetFetch(OffsetFetchRequest request, short version) {
        OffsetFetchResponse response = new OffsetFetchResponse();
        if (version >= 8) {
            List<OffsetFetchResponse.OffsetFetchResponseGroup> groups = new ArrayList<>();
            for (OffsetFetchRequest.OffsetFetchRequestGroup group : request.groups) {
                groups.add(new OffsetFetchResponse.OffsetFetchResponseGroup().setGroupId(group.groupId)
                        .setErrorCode(ERROR));
            }
            return response.setGroups(groups);
        }
        if (version >= 2) return response.setErrorCode(ERROR);
        List<OffsetFetchResponse.OffsetFetchResponseTopic> topics = new ArrayList<>();
        if (request.topics != null) {
            for (OffsetFetchRequest.OffsetFetchRequestTopic topic : request.topics) {
                List<OffsetFetchResponse.OffsetFetchResponsePartition> partitions = new ArrayList<>();
                for (int index : topic.partitionIndexes) {
                    partitions.add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(index)
                            .setCommittedOffset(NONE).setMetadata("").setErrorCode(ERROR));
                }
                topics.add(new OffsetFetchResponse.OffsetFetchResponseTopic().setName(topic.name)
                        .setPartitions(partitions));
            }
        }
        return response.setTopics(topics);
    }

    private static ProduceResponse produce(ProduceRequest request, String message) {
        if (request.acks == 0) return null;
        List<ProduceResponse.TopicProduceResponse> topics = new ArrayList<>();
        for (ProduceRequest.TopicProduceData topic : request.topicData) {
            List<ProduceResponse.PartitionProduceResponse> partitions = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData partition : topic.partitionData) {
                partitions.add(new ProduceResponse.PartitionProduceResponse().setIndex(partition.index)
                        .setErrorCode(ERROR).setErrorMessage(message).setBaseOffset(NONE)
                        .setLogAppendTimeMs(NONE).setLogStartOffset(NONE));
            }
            topics.add(new ProduceResponse.TopicProduceResponse().setName(topic.name).setTopicId(topic.topicId)
                    .setPartitionResponses(partitions));
        }
        return new ProduceResponse().setResponses(topics);
    }

    /** Kafka's FetchRequest.getErrorResponse: v13 and later at the top alone; before, on every partition too. */
    private static FetchResponse fetch(FetchRequest request, short version) {
        FetchResponse response = new FetchResponse().setErrorCode(ERROR).setSessionId(request.sessionId);
        if (version >= 13) return response;
        List<FetchResponse.FetchableTopicResponse> topics = new ArrayList<>();
        for (FetchRequest.FetchTopic topic : request.topics) {
            List<FetchResponse.PartitionData> partitions = new ArrayList<>();
            for (FetchRequest.FetchPartition partition : topic.partitions) {
                partitions.add(new FetchResponse.PartitionData().setPartitionIndex(partition.partition)
                        .setErrorCode(ERROR).setHighWatermark(NONE).setLastStableOffset(NONE)
                        .setLogStartOffset(NONE).setRecords(Unpooled.EMPTY_BUFFER));
            }
            topics.add(new FetchResponse.FetchableTopicResponse().setTopic(topic.topic).setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return response.setResponses(topics);
    }

    /** Kafka's MetadataRequest.getErrorResponse: each named topic carries the error, nothing else is filled. */
    private static MetadataResponse metadata(MetadataRequest request) {
        List<MetadataResponse.MetadataResponseTopic> topics = new ArrayList<>();
        if (request.topics != null) {
            for (MetadataRequest.MetadataRequestTopic topic : request.topics) {
                topics.add(new MetadataResponse.MetadataResponseTopic().setErrorCode(ERROR)
                        .setName(topic.name == null ? "" : topic.name)
                        .setTopicId(topic.topicId == null ? ZERO_UUID : topic.topicId));
            }
        }
        // The top-level error_code only exists from v13 on; Kafka sets it there too.
        return new MetadataResponse().setTopics(topics).setErrorCode(ERROR);
    }

    /** The response's own defaults with the error in its top-level error_code; null when it has none. */
    private static ApiMessage topLevel(ApiKey key) {
        ApiMessage response = key.newResponse();
        Field code;
        try {
            code = response.getClass().getField("errorCode");
        } catch (NoSuchFieldException itemsOnly) {
            return null;
        }
        try {
            code.setShort(response, ERROR);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return response;
    }
}
