package io.tandem.server.kafka.errors;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.AlterClientQuotasRequest;
import io.tandem.kafka.wire.message.AlterClientQuotasResponse;
import io.tandem.kafka.wire.message.AlterConfigsRequest;
import io.tandem.kafka.wire.message.AlterConfigsResponse;
import io.tandem.kafka.wire.message.AlterPartitionReassignmentsRequest;
import io.tandem.kafka.wire.message.AlterPartitionReassignmentsResponse;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsRequest;
import io.tandem.kafka.wire.message.AlterUserScramCredentialsResponse;
import io.tandem.kafka.wire.message.CreateAclsRequest;
import io.tandem.kafka.wire.message.CreateAclsResponse;
import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.kafka.wire.message.DeleteAclsRequest;
import io.tandem.kafka.wire.message.DeleteAclsResponse;
import io.tandem.kafka.wire.message.DeleteRecordsRequest;
import io.tandem.kafka.wire.message.DeleteRecordsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.DescribeProducersRequest;
import io.tandem.kafka.wire.message.DescribeProducersResponse;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsRequest;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsResponse;
import io.tandem.kafka.wire.message.DescribeUserScramCredentialsRequest;
import io.tandem.kafka.wire.message.DescribeUserScramCredentialsResponse;
import io.tandem.kafka.wire.message.ElectLeadersRequest;
import io.tandem.kafka.wire.message.ElectLeadersResponse;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsRequest;
import io.tandem.kafka.wire.message.IncrementalAlterConfigsResponse;
import io.tandem.kafka.wire.message.ListPartitionReassignmentsRequest;
import io.tandem.kafka.wire.message.ListPartitionReassignmentsResponse;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochRequest;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * {@link ErrorResponses} for the admin APIs (configs, ACLs, quotas, SCRAM credentials, partitions, reassignments,
 * leader elections, records, producers, leader epochs): each as its Kafka request class's getErrorResponse builds it.
 * Kafka's builders differ in the message they carry: some the exception's ({@link Failure#apiMessage}), some the
 * error's default ({@link Failure#defaultMessage}), some none; each method follows its own.
 */
final class AdminErrorResponses {
    private AdminErrorResponses() {
    }

    static ApiMessage build(ApiKey key, short version, ApiMessage request, Failure failure) {
        return switch (key) {
            case ALTER_CLIENT_QUOTAS -> alterClientQuotas((AlterClientQuotasRequest) request, failure);
            case ALTER_CONFIGS -> alterConfigs((AlterConfigsRequest) request, failure);
            case INCREMENTAL_ALTER_CONFIGS -> incrementalAlterConfigs((IncrementalAlterConfigsRequest) request,
                    failure);
            case DESCRIBE_CONFIGS -> describeConfigs((DescribeConfigsRequest) request, failure);
            case CREATE_ACLS -> createAcls((CreateAclsRequest) request, failure);
            case DELETE_ACLS -> deleteAcls((DeleteAclsRequest) request, failure);
            case CREATE_PARTITIONS -> createPartitions((CreatePartitionsRequest) request, failure);
            case DELETE_RECORDS -> deleteRecords((DeleteRecordsRequest) request, failure);
            case ALTER_PARTITION_REASSIGNMENTS -> alterReassignments((AlterPartitionReassignmentsRequest) request,
                    failure);
            case LIST_PARTITION_REASSIGNMENTS -> listReassignments((ListPartitionReassignmentsRequest) request,
                    failure);
            case ELECT_LEADERS -> electLeaders((ElectLeadersRequest) request, version, failure);
            case ALTER_USER_SCRAM_CREDENTIALS -> alterScram((AlterUserScramCredentialsRequest) request, failure);
            case DESCRIBE_USER_SCRAM_CREDENTIALS -> describeScram((DescribeUserScramCredentialsRequest) request,
                    failure);
            case OFFSET_FOR_LEADER_EPOCH -> offsetForLeaderEpoch((OffsetForLeaderEpochRequest) request, failure);
            case DESCRIBE_PRODUCERS -> describeProducers((DescribeProducersRequest) request, failure);
            case DESCRIBE_TOPIC_PARTITIONS -> describeTopicPartitions((DescribeTopicPartitionsRequest) request,
                    failure);
            default -> throw new IllegalArgumentException("not an admin API: " + key.apiName());
        };
    }

    /** Every entry, by its entity, with the error's default message. */
    private static AlterClientQuotasResponse alterClientQuotas(AlterClientQuotasRequest request, Failure failure) {
        List<AlterClientQuotasResponse.EntryData> entries = new ArrayList<>();
        for (AlterClientQuotasRequest.EntryData entry : request.entries) {
            List<AlterClientQuotasResponse.EntityData> entity = new ArrayList<>();
            for (AlterClientQuotasRequest.EntityData part : entry.entity) {
                entity.add(new AlterClientQuotasResponse.EntityData().setEntityType(part.entityType)
                        .setEntityName(part.entityName));
            }
            entries.add(new AlterClientQuotasResponse.EntryData().setEntity(entity).setErrorCode(failure.code())
                    .setErrorMessage(failure.defaultMessage()));
        }
        return new AlterClientQuotasResponse().setEntries(entries);
    }

    /** Every resource, with the exception's message. */
    private static AlterConfigsResponse alterConfigs(AlterConfigsRequest request, Failure failure) {
        List<AlterConfigsResponse.AlterConfigsResourceResponse> responses = new ArrayList<>();
        for (AlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            responses.add(new AlterConfigsResponse.AlterConfigsResourceResponse()
                    .setResourceType(resource.resourceType).setResourceName(resource.resourceName)
                    .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
        }
        return new AlterConfigsResponse().setResponses(responses);
    }

    /** Every resource, with the exception's message. */
    private static IncrementalAlterConfigsResponse incrementalAlterConfigs(IncrementalAlterConfigsRequest request,
                                                                           Failure failure) {
        List<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse> responses = new ArrayList<>();
        for (IncrementalAlterConfigsRequest.AlterConfigsResource resource : request.resources) {
            responses.add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
                    .setResourceType(resource.resourceType).setResourceName(resource.resourceName)
                    .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
        }
        return new IncrementalAlterConfigsResponse().setResponses(responses);
    }

    /** Every resource, with the error's default message and no configs. */
    private static DescribeConfigsResponse describeConfigs(DescribeConfigsRequest request, Failure failure) {
        List<DescribeConfigsResponse.DescribeConfigsResult> results = new ArrayList<>();
        for (DescribeConfigsRequest.DescribeConfigsResource resource : request.resources) {
            results.add(new DescribeConfigsResponse.DescribeConfigsResult().setResourceType(resource.resourceType)
                    .setResourceName(resource.resourceName).setErrorCode(failure.code())
                    .setErrorMessage(failure.defaultMessage()));
        }
        return new DescribeConfigsResponse().setResults(results);
    }

    /** One result per creation, in order. */
    private static CreateAclsResponse createAcls(CreateAclsRequest request, Failure failure) {
        List<CreateAclsResponse.AclCreationResult> results = new ArrayList<>();
        for (int i = 0; i < request.creations.size(); i++) {
            results.add(new CreateAclsResponse.AclCreationResult().setErrorCode(failure.code())
                    .setErrorMessage(failure.apiMessage()));
        }
        return new CreateAclsResponse().setResults(results);
    }

    /** One result per filter, in order, matching nothing. */
    private static DeleteAclsResponse deleteAcls(DeleteAclsRequest request, Failure failure) {
        List<DeleteAclsResponse.DeleteAclsFilterResult> results = new ArrayList<>();
        for (int i = 0; i < request.filters.size(); i++) {
            results.add(new DeleteAclsResponse.DeleteAclsFilterResult().setErrorCode(failure.code())
                    .setErrorMessage(failure.apiMessage()));
        }
        return new DeleteAclsResponse().setFilterResults(results);
    }

    /** Every topic, with the exception's message. */
    private static CreatePartitionsResponse createPartitions(CreatePartitionsRequest request, Failure failure) {
        List<CreatePartitionsResponse.CreatePartitionsTopicResult> results = new ArrayList<>();
        for (CreatePartitionsRequest.CreatePartitionsTopic topic : request.topics) {
            results.add(new CreatePartitionsResponse.CreatePartitionsTopicResult().setName(topic.name)
                    .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
        }
        return new CreatePartitionsResponse().setResults(results);
    }

    /** Every partition, low watermark unknown (-1). */
    private static DeleteRecordsResponse deleteRecords(DeleteRecordsRequest request, Failure failure) {
        List<DeleteRecordsResponse.DeleteRecordsTopicResult> topics = new ArrayList<>();
        for (DeleteRecordsRequest.DeleteRecordsTopic topic : request.topics) {
            List<DeleteRecordsResponse.DeleteRecordsPartitionResult> partitions = new ArrayList<>();
            for (DeleteRecordsRequest.DeleteRecordsPartition partition : topic.partitions) {
                partitions.add(new DeleteRecordsResponse.DeleteRecordsPartitionResult()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(failure.code())
                        .setLowWatermark(ErrorResponses.NONE));
            }
            topics.add(new DeleteRecordsResponse.DeleteRecordsTopicResult().setName(topic.name)
                    .setPartitions(partitions));
        }
        return new DeleteRecordsResponse().setTopics(topics);
    }

    /** At the top and on every partition, with the exception's message. */
    private static AlterPartitionReassignmentsResponse alterReassignments(AlterPartitionReassignmentsRequest request,
                                                                          Failure failure) {
        List<AlterPartitionReassignmentsResponse.ReassignableTopicResponse> topics = new ArrayList<>();
        for (AlterPartitionReassignmentsRequest.ReassignableTopic topic : request.topics) {
            List<AlterPartitionReassignmentsResponse.ReassignablePartitionResponse> partitions = new ArrayList<>();
            for (AlterPartitionReassignmentsRequest.ReassignablePartition partition : topic.partitions) {
                partitions.add(new AlterPartitionReassignmentsResponse.ReassignablePartitionResponse()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(failure.code())
                        .setErrorMessage(failure.apiMessage()));
            }
            topics.add(new AlterPartitionReassignmentsResponse.ReassignableTopicResponse().setName(topic.name)
                    .setPartitions(partitions));
        }
        return new AlterPartitionReassignmentsResponse().setResponses(topics).setErrorCode(failure.code())
                .setErrorMessage(failure.apiMessage());
    }

    /** At the top; each named partition listed with no replicas (Kafka's builder puts no error there). */
    private static ListPartitionReassignmentsResponse listReassignments(ListPartitionReassignmentsRequest request,
                                                                        Failure failure) {
        List<ListPartitionReassignmentsResponse.OngoingTopicReassignment> topics = new ArrayList<>();
        if (request.topics != null) {
            for (ListPartitionReassignmentsRequest.ListPartitionReassignmentsTopics topic : request.topics) {
                List<ListPartitionReassignmentsResponse.OngoingPartitionReassignment> partitions = new ArrayList<>();
                for (int index : topic.partitionIndexes) {
                    partitions.add(new ListPartitionReassignmentsResponse.OngoingPartitionReassignment()
                            .setPartitionIndex(index));
                }
                topics.add(new ListPartitionReassignmentsResponse.OngoingTopicReassignment().setName(topic.name)
                        .setPartitions(partitions));
            }
        }
        return new ListPartitionReassignmentsResponse().setTopics(topics).setErrorCode(failure.code())
                .setErrorMessage(failure.apiMessage());
    }

    /** On every named partition with the exception's message; at the top too from v1 on (v0 has no field). */
    private static ElectLeadersResponse electLeaders(ElectLeadersRequest request, short version, Failure failure) {
        List<ElectLeadersResponse.ReplicaElectionResult> results = new ArrayList<>();
        if (request.topicPartitions != null) {
            for (ElectLeadersRequest.TopicPartitions topic : request.topicPartitions) {
                List<ElectLeadersResponse.PartitionResult> partitions = new ArrayList<>();
                for (int partition : topic.partitions) {
                    partitions.add(new ElectLeadersResponse.PartitionResult().setPartitionId(partition)
                            .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
                }
                results.add(new ElectLeadersResponse.ReplicaElectionResult().setTopic(topic.topic)
                        .setPartitionResult(partitions));
            }
        }
        ElectLeadersResponse response = new ElectLeadersResponse().setReplicaElectionResults(results);
        return version >= 1 ? response.setErrorCode(failure.code()) : response;
    }

    /** Every user deleted or upserted, once each and sorted by name (Kafka collects them in a set). */
    private static AlterUserScramCredentialsResponse alterScram(AlterUserScramCredentialsRequest request,
                                                                Failure failure) {
        TreeSet<String> users = new TreeSet<>();
        request.deletions.forEach(deletion -> users.add(deletion.name));
        request.upsertions.forEach(upsertion -> users.add(upsertion.name));
        List<AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult> results = new ArrayList<>();
        for (String user : users) {
            results.add(new AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult().setUser(user)
                    .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
        }
        return new AlterUserScramCredentialsResponse().setResults(results);
    }

    /** At the top, and one nameless result per user asked for, with the exception's message. */
    private static DescribeUserScramCredentialsResponse describeScram(DescribeUserScramCredentialsRequest request,
                                                                      Failure failure) {
        List<DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult> results = new ArrayList<>();
        if (request.users != null) {
            for (int i = 0; i < request.users.size(); i++) {
                results.add(new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult()
                        .setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
            }
        }
        return new DescribeUserScramCredentialsResponse().setErrorCode(failure.code())
                .setErrorMessage(failure.apiMessage()).setResults(results);
    }

    /** Every partition, leader epoch and end offset unknown (-1). */
    private static OffsetForLeaderEpochResponse offsetForLeaderEpoch(OffsetForLeaderEpochRequest request,
                                                                     Failure failure) {
        List<OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult> topics = new ArrayList<>();
        for (OffsetForLeaderEpochRequest.OffsetForLeaderTopic topic : request.topics) {
            List<OffsetForLeaderEpochResponse.EpochEndOffset> partitions = new ArrayList<>();
            for (OffsetForLeaderEpochRequest.OffsetForLeaderPartition partition : topic.partitions) {
                partitions.add(new OffsetForLeaderEpochResponse.EpochEndOffset().setPartition(partition.partition)
                        .setErrorCode(failure.code()).setLeaderEpoch(-1).setEndOffset(ErrorResponses.NONE));
            }
            topics.add(new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult().setTopic(topic.topic)
                    .setPartitions(partitions));
        }
        return new OffsetForLeaderEpochResponse().setTopics(topics);
    }

    /** Every partition, no producers. */
    private static DescribeProducersResponse describeProducers(DescribeProducersRequest request, Failure failure) {
        List<DescribeProducersResponse.TopicResponse> topics = new ArrayList<>();
        for (DescribeProducersRequest.TopicRequest topic : request.topics) {
            List<DescribeProducersResponse.PartitionResponse> partitions = new ArrayList<>();
            for (int index : topic.partitionIndexes) {
                partitions.add(new DescribeProducersResponse.PartitionResponse().setPartitionIndex(index)
                        .setErrorCode(failure.code()));
            }
            topics.add(new DescribeProducersResponse.TopicResponse().setName(topic.name).setPartitions(partitions));
        }
        return new DescribeProducersResponse().setTopics(topics);
    }

    /** Every topic asked for, not internal and without partitions. */
    private static DescribeTopicPartitionsResponse describeTopicPartitions(DescribeTopicPartitionsRequest request,
                                                                           Failure failure) {
        List<DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic> topics = new ArrayList<>();
        for (DescribeTopicPartitionsRequest.TopicRequest topic : request.topics) {
            topics.add(new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic().setName(topic.name)
                    .setErrorCode(failure.code()).setIsInternal(false));
        }
        return new DescribeTopicPartitionsResponse().setTopics(topics);
    }
}
