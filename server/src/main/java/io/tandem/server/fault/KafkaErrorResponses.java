package io.tandem.server.fault;

import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.HeartbeatResponse;
import io.tandem.kafka.wire.message.InitProducerIdResponse;
import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.JoinGroupResponse;
import io.tandem.kafka.wire.message.LeaveGroupResponse;
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
import io.tandem.kafka.wire.message.SyncGroupResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Builds the answer a broker would send when a request fails as a whole with one error: the response of the request's
 * API, every topic, partition, group or coordinator the request named carrying the error, every other field at the
 * value Kafka sends with an error (offsets -1, empty records, no brokers). The message classes leave out the fields a
 * version lacks, so one builder serves every version. Only the APIs below have a builder; a rule that would answer any
 * other API with an error is refused when it is made ({@link #supports}).
 */
final class KafkaErrorResponses {
    /** The APIs an error can be injected into: those clients' retry logic most depends on. */
    static final Set<ApiKey> SUPPORTED = Set.of(ApiKey.PRODUCE, ApiKey.FETCH, ApiKey.LIST_OFFSETS, ApiKey.METADATA,
            ApiKey.OFFSET_COMMIT, ApiKey.OFFSET_FETCH, ApiKey.FIND_COORDINATOR, ApiKey.JOIN_GROUP, ApiKey.HEARTBEAT,
            ApiKey.LEAVE_GROUP, ApiKey.SYNC_GROUP, ApiKey.INIT_PRODUCER_ID);
    /** Errors a fetch session has as a whole: Kafka sends them at the top with no partitions. */
    private static final Set<Errors> FETCH_SESSION_ERRORS = Set.of(Errors.FETCH_SESSION_ID_NOT_FOUND,
            Errors.INVALID_FETCH_SESSION_EPOCH);
    private static final UUID ZERO_UUID = new UUID(0, 0);

    private KafkaErrorResponses() {
    }

    static boolean supports(ApiKey key) {
        return SUPPORTED.contains(key);
    }

    /** The error answer to {@code request} of API {@code key}; {@link #supports} must hold. */
    static ApiMessage build(ApiKey key, short version, ApiMessage request, Errors error) {
        short code = error.code();
        return switch (key) {
            case PRODUCE -> produce((ProduceRequest) request, code);
            case FETCH -> fetch((FetchRequest) request, error);
            case LIST_OFFSETS -> listOffsets((ListOffsetsRequest) request, code);
            case METADATA -> metadata((MetadataRequest) request, code);
            case OFFSET_COMMIT -> offsetCommit((OffsetCommitRequest) request, code);
            case OFFSET_FETCH -> offsetFetch((OffsetFetchRequest) request, version, code);
            case FIND_COORDINATOR -> findCoordinator((FindCoordinatorRequest) request, version, error);
            case JOIN_GROUP -> new JoinGroupResponse().setErrorCode(code).setGenerationId(-1)
                    .setProtocolName(version >= 7 ? null : "").setLeader("")
                    .setMemberId(((JoinGroupRequest) request).memberId);
            case SYNC_GROUP -> new SyncGroupResponse().setErrorCode(code).setAssignment(new byte[0]);
            case HEARTBEAT -> new HeartbeatResponse().setErrorCode(code);
            case LEAVE_GROUP -> new LeaveGroupResponse().setErrorCode(code);
            case INIT_PRODUCER_ID -> new InitProducerIdResponse().setErrorCode(code).setProducerId(-1)
                    .setProducerEpoch((short) -1);
            default -> throw new IllegalArgumentException("no error answer for " + key.apiName());
        };
    }

    private static ProduceResponse produce(ProduceRequest request, short code) {
        List<ProduceResponse.TopicProduceResponse> topics = new ArrayList<>();
        for (ProduceRequest.TopicProduceData topic : request.topicData) {
            List<ProduceResponse.PartitionProduceResponse> partitions = new ArrayList<>();
            for (ProduceRequest.PartitionProduceData partition : topic.partitionData) {
                partitions.add(new ProduceResponse.PartitionProduceResponse().setIndex(partition.index)
                        .setErrorCode(code).setBaseOffset(-1));
            }
            topics.add(new ProduceResponse.TopicProduceResponse().setName(topic.name).setTopicId(topic.topicId)
                    .setPartitionResponses(partitions));
        }
        return new ProduceResponse().setResponses(topics);
    }

    private static FetchResponse fetch(FetchRequest request, Errors error) {
        FetchResponse response = new FetchResponse().setSessionId(request.sessionId);
        if (FETCH_SESSION_ERRORS.contains(error)) return response.setErrorCode(error.code()).setSessionId(0);
        List<FetchResponse.FetchableTopicResponse> topics = new ArrayList<>();
        for (FetchRequest.FetchTopic topic : request.topics) {
            List<FetchResponse.PartitionData> partitions = new ArrayList<>();
            for (FetchRequest.FetchPartition partition : topic.partitions) {
                partitions.add(new FetchResponse.PartitionData().setPartitionIndex(partition.partition)
                        .setErrorCode(error.code()).setHighWatermark(-1).setLastStableOffset(-1)
                        .setLogStartOffset(-1).setRecords(Unpooled.EMPTY_BUFFER));
            }
            topics.add(new FetchResponse.FetchableTopicResponse().setTopic(topic.topic).setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return response.setResponses(topics);
    }

    private static ListOffsetsResponse listOffsets(ListOffsetsRequest request, short code) {
        List<ListOffsetsResponse.ListOffsetsTopicResponse> topics = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic topic : request.topics) {
            List<ListOffsetsResponse.ListOffsetsPartitionResponse> partitions = new ArrayList<>();
            for (ListOffsetsRequest.ListOffsetsPartition partition : topic.partitions) {
                partitions.add(new ListOffsetsResponse.ListOffsetsPartitionResponse()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(code).setTimestamp(-1)
                        .setOffset(-1).setLeaderEpoch(-1));
            }
            topics.add(new ListOffsetsResponse.ListOffsetsTopicResponse().setName(topic.name)
                    .setPartitions(partitions));
        }
        return new ListOffsetsResponse().setTopics(topics);
    }

    /**
     * No brokers and no controller: a client treats an answer without brokers as a failed update and asks again,
     * which is what a failing Metadata request should make it do. Each named topic carries the error.
     */
    private static MetadataResponse metadata(MetadataRequest request, short code) {
        List<MetadataResponse.MetadataResponseTopic> topics = new ArrayList<>();
        if (request.topics != null) {
            for (MetadataRequest.MetadataRequestTopic topic : request.topics) {
                topics.add(new MetadataResponse.MetadataResponseTopic().setErrorCode(code).setName(topic.name)
                        .setTopicId(topic.topicId == null ? ZERO_UUID : topic.topicId));
            }
        }
        return new MetadataResponse().setControllerId(-1).setTopics(topics).setErrorCode(code);
    }

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
     * As Kafka's {@code OffsetFetchRequest.getErrorResponse}: v0-1 put the error on every named partition, v2-7 at
     * the top with no partitions, v8+ on every group with no topics.
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
                            .setCommittedOffset(-1).setMetadata("").setErrorCode(code));
                }
                topics.add(new OffsetFetchResponse.OffsetFetchResponseTopic().setName(topic.name)
                        .setPartitions(partitions));
            }
        }
        return response.setTopics(topics);
    }

    private static FindCoordinatorResponse findCoordinator(FindCoordinatorRequest request, short version,
                                                           Errors error) {
        FindCoordinatorResponse response = new FindCoordinatorResponse();
        if (version < 4) {
            return response.setErrorCode(error.code()).setErrorMessage(error.message()).setNodeId(-1).setHost("")
                    .setPort(-1);
        }
        List<FindCoordinatorResponse.Coordinator> coordinators = new ArrayList<>();
        for (String key : request.coordinatorKeys) {
            coordinators.add(new FindCoordinatorResponse.Coordinator().setKey(key).setNodeId(-1).setHost("")
                    .setPort(-1).setErrorCode(error.code()).setErrorMessage(error.message()));
        }
        return response.setCoordinators(coordinators);
    }
}
