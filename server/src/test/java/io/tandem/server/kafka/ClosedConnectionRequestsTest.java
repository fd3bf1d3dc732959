package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Requests a client sent just before closing its connection are still handled, as Kafka's SocketServer handles the
 * receives it completed before a disconnect: an {@code acks=0} producer that sends and closes (the Java producer's
 * close, kcat's exit) loses nothing. Frames read before the close used to be dropped with the connection.
 */
class ClosedConnectionRequestsTest {
    private static final int CONNECTIONS = 60;
    private static final int PRODUCES_PER_CONNECTION = 3;

    @TempDir
    Path dir;

    @Test
    void shouldAppendEveryAcksZeroProduceSentRightBeforeTheClientClosed() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             RawKafkaConnection admin = new RawKafkaConnection(tandem.kafkaPort())) {
            createTopic(admin, "fire-and-forget");
            for (int c = 0; c < CONNECTIONS; c++) {
                // All of a connection's requests in one write, then the close: they reach the broker with the FIN.
                ByteBuf bytes = Unpooled.buffer();
                for (int p = 0; p < PRODUCES_PER_CONNECTION; p++) {
                    ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, p, "acks0", ApiKey.PRODUCE,
                            (short) 9, acksZero("fire-and-forget", c + "/" + p));
                    bytes.writeBytes(frame);
                    frame.release();
                }
                try (Socket socket = new Socket("127.0.0.1", tandem.kafkaPort())) {
                    OutputStream out = socket.getOutputStream();
                    out.write(ByteBufUtil.getBytes(bytes));
                    out.flush();
                }
            }
            long expected = (long) CONNECTIONS * PRODUCES_PER_CONNECTION;
            long deadline = System.nanoTime() + 10_000_000_000L;
            long end = latestOffset(admin, "fire-and-forget");
            while (end < expected && System.nanoTime() < deadline) {
                Thread.sleep(20);
                end = latestOffset(admin, "fire-and-forget");
            }
            assertEquals(expected, end, "every record sent before a close is appended");
        }
    }

    private static ProduceRequest acksZero(String topic, String value) {
        ByteBuf records = Unpooled.buffer();
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(records)) {
            builder.append(System.currentTimeMillis(), null, value.getBytes(StandardCharsets.UTF_8));
            builder.build();
        }
        ProduceRequest request = new ProduceRequest();
        request.acks = 0;
        request.timeoutMs = 5000;
        ProduceRequest.TopicProduceData data = new ProduceRequest.TopicProduceData();
        data.name = topic;
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData();
        partition.index = 0;
        partition.records = records;
        data.partitionData.add(partition);
        request.topicData.add(data);
        return request;
    }

    private static void createTopic(RawKafkaConnection connection, String name) throws IOException {
        CreateTopicsRequest request = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = name;
        topic.numPartitions = 1;
        topic.replicationFactor = 1;
        request.topics.add(topic);
        CreateTopicsResponse response = connection.roundTrip(ApiKey.CREATE_TOPICS, (short) 7, (short) 1, request,
                CreateTopicsResponse::read);
        assertEquals(Errors.NONE.code(), response.topics.get(0).errorCode, response.topics.get(0).errorMessage);
    }

    private static long latestOffset(RawKafkaConnection connection, String topic) throws IOException {
        ListOffsetsRequest request = new ListOffsetsRequest();
        request.replicaId = -1;
        ListOffsetsRequest.ListOffsetsTopic t = new ListOffsetsRequest.ListOffsetsTopic();
        t.name = topic;
        ListOffsetsRequest.ListOffsetsPartition p = new ListOffsetsRequest.ListOffsetsPartition();
        p.partitionIndex = 0;
        p.timestamp = -1;
        t.partitions.add(p);
        request.topics.add(t);
        ListOffsetsResponse response = connection.roundTrip(ApiKey.LIST_OFFSETS, (short) 7, (short) 1, request,
                ListOffsetsResponse::read);
        return response.topics.get(0).partitions.get(0).offset;
    }
}
