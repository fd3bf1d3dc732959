package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.kafka.wire.message.DeleteRecordsRequest;
import io.tandem.kafka.wire.message.DeleteRecordsResponse;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.DescribeProducersRequest;
import io.tandem.kafka.wire.message.DescribeProducersResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochRequest;
import io.tandem.kafka.wire.message.OffsetForLeaderEpochResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * One request of each API that names a topic, for a topic the broker may not know, as a client sends them: the
 * error each answer carries for it. For tests of what a broker does for an unknown topic.
 */
final class MissingTopicRequests {
    static final Set<String> APIS = Set.of("Produce", "Fetch", "ListOffsets", "OffsetForLeaderEpoch", "DeleteRecords",
            "DescribeConfigs", "DescribeProducers", "DeleteTopics");
    private static final byte TOPIC_RESOURCE = 2;

    private MissingTopicRequests() {
    }

    /** Each API's error for {@code topic} (partition 0 where the API names partitions). */
    static Map<String, Short> errors(RawKafkaConnection connection, String topic) throws IOException {
        Map<String, Short> errors = new LinkedHashMap<>();
        ProduceResponse produce = ask(connection, ApiKey.PRODUCE, (short) 9, produce(topic), ProduceResponse::read);
        errors.put("Produce", produce.responses.get(0).partitionResponses.get(0).errorCode);

        FetchRequest fetch = new FetchRequest();
        FetchRequest.FetchTopic fetchTopic = new FetchRequest.FetchTopic();
        fetchTopic.topic = topic;
        FetchRequest.FetchPartition fetchPartition = new FetchRequest.FetchPartition();
        fetchPartition.partitionMaxBytes = 1 << 20;
        fetchTopic.partitions = new ArrayList<>(List.of(fetchPartition));
        fetch.topics = new ArrayList<>(List.of(fetchTopic));
        FetchResponse fetched = ask(connection, ApiKey.FETCH, (short) 12, fetch, FetchResponse::read);
        errors.put("Fetch", fetched.responses.get(0).partitions.get(0).errorCode);

        ListOffsetsRequest offsets = new ListOffsetsRequest();
        offsets.replicaId = -1;
        ListOffsetsRequest.ListOffsetsTopic offsetsTopic = new ListOffsetsRequest.ListOffsetsTopic();
        offsetsTopic.name = topic;
        ListOffsetsRequest.ListOffsetsPartition offsetsPartition = new ListOffsetsRequest.ListOffsetsPartition();
        offsetsPartition.timestamp = -1;
        offsetsTopic.partitions = new ArrayList<>(List.of(offsetsPartition));
        offsets.topics = new ArrayList<>(List.of(offsetsTopic));
        ListOffsetsResponse listed = ask(connection, ApiKey.LIST_OFFSETS, (short) 7, offsets, ListOffsetsResponse::read);
        errors.put("ListOffsets", listed.topics.get(0).partitions.get(0).errorCode);

        OffsetForLeaderEpochRequest epochs = new OffsetForLeaderEpochRequest();
        epochs.replicaId = -1;
        OffsetForLeaderEpochRequest.OffsetForLeaderTopic epochTopic = new OffsetForLeaderEpochRequest.OffsetForLeaderTopic();
        epochTopic.topic = topic;
        OffsetForLeaderEpochRequest.OffsetForLeaderPartition epochPartition =
                new OffsetForLeaderEpochRequest.OffsetForLeaderPartition();
        epochTopic.partitions = new ArrayList<>(List.of(epochPartition));
        epochs.topics = new ArrayList<>(List.of(epochTopic));
        OffsetForLeaderEpochResponse ended = ask(connection, ApiKey.OFFSET_FOR_LEADER_EPOCH, (short) 4, epochs,
                OffsetForLeaderEpochResponse::read);
        errors.put("OffsetForLeaderEpoch", ended.topics.get(0).partitions.get(0).errorCode);

        DeleteRecordsRequest deleteRecords = new DeleteRecordsRequest();
        DeleteRecordsRequest.DeleteRecordsTopic deleteTopic = new DeleteRecordsRequest.DeleteRecordsTopic();
        deleteTopic.name = topic;
        deleteTopic.partitions = new ArrayList<>(List.of(new DeleteRecordsRequest.DeleteRecordsPartition()));
        deleteRecords.topics = new ArrayList<>(List.of(deleteTopic));
        deleteRecords.timeoutMs = 1_000;
        DeleteRecordsResponse deleted = ask(connection, ApiKey.DELETE_RECORDS, (short) 2, deleteRecords,
                DeleteRecordsResponse::read);
        errors.put("DeleteRecords", deleted.topics.get(0).partitions.get(0).errorCode);

        DescribeConfigsRequest describe = new DescribeConfigsRequest();
        DescribeConfigsRequest.DescribeConfigsResource resource = new DescribeConfigsRequest.DescribeConfigsResource();
        resource.resourceType = TOPIC_RESOURCE;
        resource.resourceName = topic;
        resource.configurationKeys = null;
        describe.resources = new ArrayList<>(List.of(resource));
        DescribeConfigsResponse described = ask(connection, ApiKey.DESCRIBE_CONFIGS, (short) 4, describe,
                DescribeConfigsResponse::read);
        errors.put("DescribeConfigs", described.results.get(0).errorCode);

        DescribeProducersRequest producers = new DescribeProducersRequest();
        DescribeProducersRequest.TopicRequest producersTopic = new DescribeProducersRequest.TopicRequest();
        producersTopic.name = topic;
        producersTopic.partitionIndexes = new ArrayList<>(List.of(0));
        producers.topics = new ArrayList<>(List.of(producersTopic));
        DescribeProducersResponse producing = ask(connection, ApiKey.DESCRIBE_PRODUCERS, (short) 0, producers,
                DescribeProducersResponse::read);
        errors.put("DescribeProducers", producing.topics.get(0).partitions.get(0).errorCode);

        DeleteTopicsRequest deleteTopics = new DeleteTopicsRequest();
        deleteTopics.topicNames = new ArrayList<>(List.of(topic));
        deleteTopics.timeoutMs = 1_000;
        DeleteTopicsResponse gone = ask(connection, ApiKey.DELETE_TOPICS, (short) 4, deleteTopics,
                DeleteTopicsResponse::read);
        errors.put("DeleteTopics", gone.responses.get(0).errorCode);
        return errors;
    }

    /**
     * CreatePartitions' error for {@code topic}. Not one of {@link #APIS}: Kafka 3.9's ZkAdminManager reads the topic's
     * assignment from ZooKeeper, not from the cache, and so does Tandem.
     */
    static short createPartitionsError(RawKafkaConnection connection, String topic) throws IOException {
        CreatePartitionsRequest partitions = new CreatePartitionsRequest();
        CreatePartitionsRequest.CreatePartitionsTopic more = new CreatePartitionsRequest.CreatePartitionsTopic();
        more.name = topic;
        more.count = 3;
        more.assignments = null;
        partitions.topics = new ArrayList<>(List.of(more));
        partitions.timeoutMs = 1_000;
        CreatePartitionsResponse created = ask(connection, ApiKey.CREATE_PARTITIONS, (short) 3, partitions,
                CreatePartitionsResponse::read);
        return created.results.get(0).errorCode;
    }

    private static ProduceRequest produce(String topic) {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
            builder.append(System.currentTimeMillis(), "k".getBytes(), "v".getBytes());
            builder.build();
        }
        ProduceRequest request = new ProduceRequest();
        request.acks = 1;
        request.timeoutMs = 1_000;
        ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
        data.name = topic;
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
        partition.records = records;
        data.partitionData = new ArrayList<>(List.of(partition));
        request.topicData = new ArrayList<>(List.of(data));
        return request;
    }

    private static <R> R ask(RawKafkaConnection connection, ApiKey key, short version, ApiMessage request,
                             BiFunction<ByteBuf, Short, R> reader) throws IOException {
        return connection.roundTrip(key, version, key.responseHeaderVersion(version), request, reader);
    }
}
