package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Requests the protocol tests send over a {@link RawKafkaConnection}, built with kafka-wire's message classes. */
public final class TestRequests {
    /** One batch of one record holding {@code value} (no key), stamped now. */
    public static ByteBuf batch(String value) {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
            builder.append(System.currentTimeMillis(), null, value.getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        return records;
    }

    /** A Produce of {@code records} to partition 0 of {@code topic}. */
    public static ProduceRequest produce(String topic, ByteBuf records, short acks, int timeoutMs) {
        ProduceRequest request = new ProduceRequest();
        request.acks = acks;
        request.timeoutMs = timeoutMs;
        ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
        data.name = topic;
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
        partition.index = 0;
        partition.records = records;
        data.partitionData.add(partition);
        request.topicData.add(data);
        return request;
    }

    /** Creates {@code name} with one partition and one replica (CreateTopics v7) and checks it was created. */
    public static void createTopic(RawKafkaConnection c, String name) throws IOException {
        createTopic(c, name, 1);
    }

    /** Creates {@code name} with {@code partitions} partitions of one replica and checks it was created. */
    public static void createTopic(RawKafkaConnection c, String name, int partitions) throws IOException {
        CreateTopicsRequest request = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = name;
        topic.numPartitions = partitions;
        topic.replicationFactor = 1;
        request.topics.add(topic);
        int id = c.send(ApiKey.CREATE_TOPICS, (short) 7, request);
        CreateTopicsResponse response = c.receive(id, (short) 1, (short) 7, CreateTopicsResponse::read);
        assertEquals(Errors.NONE.code(), response.topics.get(0).errorCode);
    }

    /** A consumer's ListOffsets asking the latest offset (timestamp -1) of partition 0 of {@code topic}. */
    public static ListOffsetsRequest latestOffsetRequest(String topic) {
        ListOffsetsRequest request = new ListOffsetsRequest();
        request.replicaId = -1;
        ListOffsetsRequest.ListOffsetsTopic t = new ListOffsetsRequest.ListOffsetsTopic();
        t.name = topic;
        ListOffsetsRequest.ListOffsetsPartition p = new ListOffsetsRequest.ListOffsetsPartition();
        p.partitionIndex = 0;
        p.timestamp = -1;
        t.partitions.add(p);
        request.topics.add(t);
        return request;
    }

    /** The latest offset of partition 0 of {@code topic} (ListOffsets v7, timestamp -1). */
    public static long latestOffset(RawKafkaConnection c, String topic) throws IOException {
        ListOffsetsResponse response = c.roundTrip(ApiKey.LIST_OFFSETS, (short) 7, (short) 1,
                latestOffsetRequest(topic), ListOffsetsResponse::read);
        return response.topics.get(0).partitions.get(0).offset;
    }

    private TestRequests() {
    }
}
