package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * State a client's requests leave in the broker goes away by Kafka's rules, so no map grows forever: idempotent
 * producer state (producer.id.expiration.ms), committed offsets (offsets.retention.minutes) and incremental fetch
 * sessions (max.incremental.fetch.session.cache.slots). Over real sockets against an embedded broker.
 */
class BrokerStateExpiryTest {
    @TempDir
    Path dir;

    private TandemConfig config(String... keyValues) {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA));
        for (int i = 0; i < keyValues.length; i += 2) config.set(keyValues[i], keyValues[i + 1]);
        return config;
    }

    private static void createTopic(RawKafkaConnection c, String name) throws Exception {
        CreateTopicsRequest request = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = name;
        topic.numPartitions = 1;
        topic.replicationFactor = 1;
        request.topics.add(topic);
        int id = c.send(ApiKey.CREATE_TOPICS, (short) 7, request);
        assertEquals(Errors.NONE.code(), c.receive(id, (short) 1, (short) 7, CreateTopicsResponse::read).topics.get(0).errorCode);
    }

    /** Produces one idempotent record (producer id, epoch 0, the given sequence); returns the partition's error. */
    private static short produceIdempotent(RawKafkaConnection c, String topic, long producerId, int sequence)
            throws Exception {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records).producer(producerId, (short) 0, sequence)) {
            builder.append(System.currentTimeMillis(), null, ("seq-" + sequence).getBytes());
            builder.build();
        }
        ProduceRequest request = new ProduceRequest();
        request.acks = -1;
        request.timeoutMs = 5000;
        ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
        data.name = topic;
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
        partition.index = 0;
        partition.records = records;
        data.partitionData.add(partition);
        request.topicData.add(data);
        int id = c.send(ApiKey.PRODUCE, (short) 9, request);
        return c.receive(id, (short) 1, (short) 9, ProduceResponse::read).responses.get(0).partitionResponses.get(0).errorCode;
    }

    @Test
    void shouldForgetAnIdleProducerAfterProducerIdExpirationMs() throws Exception {
        try (Tandem tandem = Tandem.start(config("producer.id.expiration.ms", "1000",
                "producer.id.expiration.check.interval.ms", "100"));
             RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            createTopic(c, "idem");
            assertEquals(Errors.NONE.code(), produceIdempotent(c, "idem", 4242, 0));
            assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), produceIdempotent(c, "idem", 4242, 5),
                    "the broker remembers the producer's last sequence");
            long deadline = System.currentTimeMillis() + 10_000;
            short error;
            do {
                Thread.sleep(200);
                error = produceIdempotent(c, "idem", 4242, 5);
            } while (error != Errors.NONE.code() && System.currentTimeMillis() < deadline);
            assertEquals(Errors.NONE.code(), error, "an expired producer is unknown again and any sequence is accepted");
        }
    }
}
