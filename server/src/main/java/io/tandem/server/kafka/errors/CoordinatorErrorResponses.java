package io.tandem.server.kafka.errors;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeRequest;
import io.tandem.kafka.wire.message.ConsumerGroupDescribeResponse;
import io.tandem.kafka.wire.message.DeleteShareGroupStateRequest;
import io.tandem.kafka.wire.message.DeleteShareGroupStateResponse;
import io.tandem.kafka.wire.message.DescribeShareGroupOffsetsRequest;
import io.tandem.kafka.wire.message.DescribeShareGroupOffsetsResponse;
import io.tandem.kafka.wire.message.DescribeTransactionsRequest;
import io.tandem.kafka.wire.message.DescribeTransactionsResponse;
import io.tandem.kafka.wire.message.InitializeShareGroupStateRequest;
import io.tandem.kafka.wire.message.InitializeShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryResponse;
import io.tandem.kafka.wire.message.ShareGroupDescribeRequest;
import io.tandem.kafka.wire.message.ShareGroupDescribeResponse;
import io.tandem.kafka.wire.message.TxnOffsetCommitRequest;
import io.tandem.kafka.wire.message.TxnOffsetCommitResponse;
import io.tandem.kafka.wire.message.WriteShareGroupStateRequest;
import io.tandem.kafka.wire.message.WriteShareGroupStateResponse;
import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.kafka.wire.message.WriteTxnMarkersResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link ErrorResponses} for the APIs the group, share-group-state and transaction coordinators serve (the new
 * protocols' describes, the share-group state RPCs, DescribeTransactions, TxnOffsetCommit, WriteTxnMarkers): each as
 * its Kafka request class's getErrorResponse builds it, with the message that builder carries, if any.
 */
final class CoordinatorErrorResponses {
    private CoordinatorErrorResponses() {
    }

    static ApiMessage build(ApiKey key, ApiMessage request, Failure failure) {
        short code = failure.code();
        return switch (key) {
            case CONSUMER_GROUP_DESCRIBE -> consumerGroupDescribe((ConsumerGroupDescribeRequest) request, code);
            case SHARE_GROUP_DESCRIBE -> shareGroupDescribe((ShareGroupDescribeRequest) request, code);
            case DESCRIBE_SHARE_GROUP_OFFSETS -> describeShareGroupOffsets((DescribeShareGroupOffsetsRequest) request,
                    failure);
            case INITIALIZE_SHARE_GROUP_STATE -> initializeState((InitializeShareGroupStateRequest) request, code);
            case READ_SHARE_GROUP_STATE -> readState((ReadShareGroupStateRequest) request, failure);
            case WRITE_SHARE_GROUP_STATE -> writeState((WriteShareGroupStateRequest) request, failure);
            case DELETE_SHARE_GROUP_STATE -> deleteState((DeleteShareGroupStateRequest) request, code);
            case READ_SHARE_GROUP_STATE_SUMMARY -> readStateSummary((ReadShareGroupStateSummaryRequest) request,
                    failure);
            case DESCRIBE_TRANSACTIONS -> describeTransactions((DescribeTransactionsRequest) request, code);
            case TXN_OFFSET_COMMIT -> txnOffsetCommit((TxnOffsetCommitRequest) request, code);
            case WRITE_TXN_MARKERS -> writeTxnMarkers((WriteTxnMarkersRequest) request, code);
            default -> throw new IllegalArgumentException("not a coordinator API: " + key.apiName());
        };
    }

    /** Every group, nothing else known. */
    private static ConsumerGroupDescribeResponse consumerGroupDescribe(ConsumerGroupDescribeRequest request,
                                                                       short code) {
        List<ConsumerGroupDescribeResponse.DescribedGroup> groups = new ArrayList<>();
        for (String group : request.groupIds) {
            groups.add(new ConsumerGroupDescribeResponse.DescribedGroup().setGroupId(group).setErrorCode(code));
        }
        return new ConsumerGroupDescribeResponse().setGroups(groups);
    }

    /** Every group, nothing else known. */
    private static ShareGroupDescribeResponse shareGroupDescribe(ShareGroupDescribeRequest request, short code) {
        List<ShareGroupDescribeResponse.DescribedGroup> groups = new ArrayList<>();
        for (String group : request.groupIds) {
            groups.add(new ShareGroupDescribeResponse.DescribedGroup().setGroupId(group).setErrorCode(code));
        }
        return new ShareGroupDescribeResponse().setGroups(groups);
    }

    /** Every group, with the exception's message (DescribeShareGroupOffsetsResponse's all-groups constructor). */
    private static DescribeShareGroupOffsetsResponse describeShareGroupOffsets(
            DescribeShareGroupOffsetsRequest request, Failure failure) {
        List<DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup> groups = new ArrayList<>();
        for (DescribeShareGroupOffsetsRequest.DescribeShareGroupOffsetsRequestGroup group : request.groups) {
            groups.add(new DescribeShareGroupOffsetsResponse.DescribeShareGroupOffsetsResponseGroup()
                    .setGroupId(group.groupId).setErrorCode(failure.code()).setErrorMessage(failure.apiMessage()));
        }
        return new DescribeShareGroupOffsetsResponse().setGroups(groups);
    }

    /** Every partition of every topic (by id), without a message. */
    private static InitializeShareGroupStateResponse initializeState(InitializeShareGroupStateRequest request,
                                                                     short code) {
        List<InitializeShareGroupStateResponse.InitializeStateResult> results = new ArrayList<>();
        for (InitializeShareGroupStateRequest.InitializeStateData topic : request.topics) {
            List<InitializeShareGroupStateResponse.PartitionResult> partitions = new ArrayList<>();
            for (InitializeShareGroupStateRequest.PartitionData partition : topic.partitions) {
                partitions.add(new InitializeShareGroupStateResponse.PartitionResult()
                        .setPartition(partition.partition).setErrorCode(code));
            }
            results.add(new InitializeShareGroupStateResponse.InitializeStateResult().setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return new InitializeShareGroupStateResponse().setResults(results);
    }

    /** Every partition of every topic (by id), with the error's default message. */
    private static ReadShareGroupStateResponse readState(ReadShareGroupStateRequest request, Failure failure) {
        List<ReadShareGroupStateResponse.ReadStateResult> results = new ArrayList<>();
        for (ReadShareGroupStateRequest.ReadStateData topic : request.topics) {
            List<ReadShareGroupStateResponse.PartitionResult> partitions = new ArrayList<>();
            for (ReadShareGroupStateRequest.PartitionData partition : topic.partitions) {
                partitions.add(new ReadShareGroupStateResponse.PartitionResult().setPartition(partition.partition)
                        .setErrorCode(failure.code()).setErrorMessage(failure.defaultMessage()));
            }
            results.add(new ReadShareGroupStateResponse.ReadStateResult().setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return new ReadShareGroupStateResponse().setResults(results);
    }

    /** Every partition of every topic (by id), with the error's default message. */
    private static WriteShareGroupStateResponse writeState(WriteShareGroupStateRequest request, Failure failure) {
        List<WriteShareGroupStateResponse.WriteStateResult> results = new ArrayList<>();
        for (WriteShareGroupStateRequest.WriteStateData topic : request.topics) {
            List<WriteShareGroupStateResponse.PartitionResult> partitions = new ArrayList<>();
            for (WriteShareGroupStateRequest.PartitionData partition : topic.partitions) {
                partitions.add(new WriteShareGroupStateResponse.PartitionResult().setPartition(partition.partition)
                        .setErrorCode(failure.code()).setErrorMessage(failure.defaultMessage()));
            }
            results.add(new WriteShareGroupStateResponse.WriteStateResult().setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return new WriteShareGroupStateResponse().setResults(results);
    }

    /** Every partition of every topic (by id), without a message. */
    private static DeleteShareGroupStateResponse deleteState(DeleteShareGroupStateRequest request, short code) {
        List<DeleteShareGroupStateResponse.DeleteStateResult> results = new ArrayList<>();
        for (DeleteShareGroupStateRequest.DeleteStateData topic : request.topics) {
            List<DeleteShareGroupStateResponse.PartitionResult> partitions = new ArrayList<>();
            for (DeleteShareGroupStateRequest.PartitionData partition : topic.partitions) {
                partitions.add(new DeleteShareGroupStateResponse.PartitionResult().setPartition(partition.partition)
                        .setErrorCode(code));
            }
            results.add(new DeleteShareGroupStateResponse.DeleteStateResult().setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return new DeleteShareGroupStateResponse().setResults(results);
    }

    /** Every partition of every topic (by id), with the error's default message. */
    private static ReadShareGroupStateSummaryResponse readStateSummary(ReadShareGroupStateSummaryRequest request,
                                                                       Failure failure) {
        List<ReadShareGroupStateSummaryResponse.ReadStateSummaryResult> results = new ArrayList<>();
        for (ReadShareGroupStateSummaryRequest.ReadStateSummaryData topic : request.topics) {
            List<ReadShareGroupStateSummaryResponse.PartitionResult> partitions = new ArrayList<>();
            for (ReadShareGroupStateSummaryRequest.PartitionData partition : topic.partitions) {
                partitions.add(new ReadShareGroupStateSummaryResponse.PartitionResult()
                        .setPartition(partition.partition).setErrorCode(failure.code())
                        .setErrorMessage(failure.defaultMessage()));
            }
            results.add(new ReadShareGroupStateSummaryResponse.ReadStateSummaryResult().setTopicId(topic.topicId)
                    .setPartitions(partitions));
        }
        return new ReadShareGroupStateSummaryResponse().setResults(results);
    }

    /** Every transactional id, nothing else known. */
    private static DescribeTransactionsResponse describeTransactions(DescribeTransactionsRequest request, short code) {
        List<DescribeTransactionsResponse.TransactionState> states = new ArrayList<>();
        for (String id : request.transactionalIds) {
            states.add(new DescribeTransactionsResponse.TransactionState().setTransactionalId(id).setErrorCode(code));
        }
        return new DescribeTransactionsResponse().setTransactionStates(states);
    }

    /** Every partition of every topic, by name and id. */
    private static TxnOffsetCommitResponse txnOffsetCommit(TxnOffsetCommitRequest request, short code) {
        List<TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic> topics = new ArrayList<>();
        for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic topic : request.topics) {
            List<TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition> partitions = new ArrayList<>();
            for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition partition : topic.partitions) {
                partitions.add(new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(partition.partitionIndex).setErrorCode(code));
            }
            topics.add(new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic().setName(topic.name)
                    .setTopicId(topic.topicId).setPartitions(partitions));
        }
        return new TxnOffsetCommitResponse().setTopics(topics);
    }

    /**
     * Every partition of every marker, one result per producer id and per topic name within it, as Kafka's builder
     * merges them through maps; the order here is the request's (Kafka's follows its HashMaps' order, which a client
     * does not rely on: it looks each marker and partition up).
     */
    private static WriteTxnMarkersResponse writeTxnMarkers(WriteTxnMarkersRequest request, short code) {
        Map<Long, Map<String, WriteTxnMarkersResponse.WritableTxnMarkerTopicResult>> byProducer =
                new LinkedHashMap<>();
        for (WriteTxnMarkersRequest.WritableTxnMarker marker : request.markers) {
            Map<String, WriteTxnMarkersResponse.WritableTxnMarkerTopicResult> topics =
                    byProducer.computeIfAbsent(marker.producerId, id -> new LinkedHashMap<>());
            for (WriteTxnMarkersRequest.WritableTxnMarkerTopic topic : marker.topics) {
                WriteTxnMarkersResponse.WritableTxnMarkerTopicResult result = topics.computeIfAbsent(topic.name,
                        name -> new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult().setName(name)
                                .setPartitions(new ArrayList<>()));
                for (int index : topic.partitionIndexes) {
                    result.partitions.add(new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult()
                            .setPartitionIndex(index).setErrorCode(code));
                }
            }
        }
        List<WriteTxnMarkersResponse.WritableTxnMarkerResult> markers = new ArrayList<>();
        byProducer.forEach((producerId, topics) -> markers.add(new WriteTxnMarkersResponse.WritableTxnMarkerResult()
                .setProducerId(producerId).setTopics(new ArrayList<>(topics.values()))));
        return new WriteTxnMarkersResponse().setMarkers(markers);
    }
}
