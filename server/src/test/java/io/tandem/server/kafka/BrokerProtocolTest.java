package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.DescribeConfigsRequest;
import io.tandem.kafka.wire.message.DescribeConfigsResponse;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.RequestHeader;
import io.tandem.kafka.wire.message.ResponseHeader;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.*;

/** The broker over a raw socket: exact error codes and connection behaviour that clients rely on. */
class BrokerProtocolTest {
    @TempDir
    Path dir;
    private Tandem tandem;

    @BeforeEach
    void start() throws IOException {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(java.util.Set.of(TandemConfig.Role.KAFKA)));
    }

    @AfterEach
    void stop() {
        tandem.close();
    }

    @Test
    void shouldAnswerOnlyTheNamedBrokerConfigKeysWhenConfigurationKeysIsGiven() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            DescribeConfigsRequest request = new DescribeConfigsRequest().setResources(List.of(
                    new DescribeConfigsRequest.DescribeConfigsResource().setResourceType((byte) 4).setResourceName("0")
                            .setConfigurationKeys(List.of("num.partitions", "log.retention.hours"))));
            int id = c.send(ApiKey.DESCRIBE_CONFIGS, (short) 4, request);
            DescribeConfigsResponse response = c.receive(id, (short) 1, (short) 4, DescribeConfigsResponse::read);
            DescribeConfigsResponse.DescribeConfigsResult result = response.results.get(0);
            assertEquals(Errors.NONE.code(), result.errorCode);
            assertEquals(List.of("num.partitions=1", "log.retention.hours=168"),
                    result.configs.stream().map(e -> e.name + "=" + e.value).toList());
            assertTrue(result.configs.stream().allMatch(e -> e.configSource == 5), "both are Kafka's defaults");
        }
    }

    @Test
    void shouldAnswerApiVersionsWithAV0HeaderAndTheRegisteredRanges() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            int id = c.send(ApiKey.API_VERSIONS, (short) 3, new ApiVersionsRequest().setClientSoftwareName("t")
                    .setClientSoftwareVersion("1"));
            ApiVersionsResponse response = c.receive(id, (short) 0, (short) 3, ApiVersionsResponse::read);
            assertEquals(Errors.NONE.code(), response.errorCode);
            ApiVersionsResponse.ApiVersion produce = response.apiKeys.stream()
                    .filter(k -> k.apiKey == ApiKey.PRODUCE.id()).findFirst().orElseThrow();
            assertEquals(0, produce.minVersion);
            assertEquals(13, produce.maxVersion);
            assertTrue(response.apiKeys.stream().noneMatch(k -> k.apiKey == ApiKey.GET_TELEMETRY_SUBSCRIPTIONS.id()),
                    "telemetry is not served, so it must not be advertised");
        }
    }

    @Test
    void shouldAnswerAnUnknownHigherApiVersionsWithUnsupportedVersionAndOurRanges() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            // A request header v2 for ApiVersions v99 with an empty (flexible) body: what a future client sends.
            ByteBuf frame = Unpooled.buffer();
            RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.API_VERSIONS.id())
                    .setRequestApiVersion((short) 99).setCorrelationId(7).setClientId("future");
            frame.writeInt(header.size((short) 2) + 1);
            header.write(frame, (short) 2);
            frame.writeByte(0);
            c.writeAndRelease(frame);
            ApiVersionsResponse response = c.receive(7, (short) 0, (short) 0, ApiVersionsResponse::read);
            assertEquals(Errors.UNSUPPORTED_VERSION.code(), response.errorCode);
            assertFalse(response.apiKeys.isEmpty());
        }
    }

    private ProduceResponse produce(RawKafkaConnection c, String topic, ByteBuf records, short acks) throws IOException {
        int id = c.send(ApiKey.PRODUCE, (short) 9, TestRequests.produce(topic, records, acks, 5000));
        return acks == 0 ? null : c.receive(id, (short) 1, (short) 9, ProduceResponse::read);
    }

    private long latestOffset(RawKafkaConnection c, String topic) throws IOException {
        return TestRequests.latestOffset(c, topic);
    }

    private static int fetchRequest(RawKafkaConnection c, short version, List<String> topics) throws IOException {
        FetchRequest request = new FetchRequest();
        request.maxWaitMs = 0;
        request.minBytes = 1;
        for (String topic : topics) {
            FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
            t.topic = topic;
            FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
            p.partition = 0;
            p.fetchOffset = 0;
            p.partitionMaxBytes = 1 << 20;
            t.partitions.add(p);
            request.topics.add(t);
        }
        return c.send(ApiKey.FETCH, version, request);
    }

    /** The offsets and values of every record in a v2 record set, checking each batch's CRC. */
    private static List<String> offsetsAndValues(ByteBuf records) {
        List<String> result = new ArrayList<>();
        for (RecordBatch batch : RecordBatches.of(records)) {
            assertTrue(batch.isValid(), "batch CRC");
            try (RecordIterator it = batch.records()) {
                while (it.hasNext()) {
                    Record r = it.next();
                    result.add(r.offset() + ":" + r.value().toString(StandardCharsets.UTF_8));
                }
            }
        }
        return result;
    }

    @Test
    void shouldSendFetchedRecordsFromTheSegmentFilesWithExactFramingForEachTopic() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "zero-a");
            TestRequests.createTopic(c, "zero-b");
            produce(c, "zero-a", TestRequests.batch("a0"), (short) 1);
            produce(c, "zero-a", TestRequests.batch("a1"), (short) 1);
            produce(c, "zero-b", TestRequests.batch("b0"), (short) 1);
            // Two fetches and an ApiVersions pipelined: each answer must start exactly where the last one ended.
            int first = fetchRequest(c, (short) 12, List.of("zero-a", "zero-b"));
            int second = fetchRequest(c, (short) 12, List.of("zero-b"));
            int versions = c.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            FetchResponse both = c.receive(first, (short) 1, (short) 12, FetchResponse::read);
            assertEquals(List.of("0:a0", "1:a1"), offsetsAndValues(both.responses.get(0).partitions.get(0).records));
            assertEquals(List.of("0:b0"), offsetsAndValues(both.responses.get(1).partitions.get(0).records));
            assertEquals(2, both.responses.get(0).partitions.get(0).highWatermark);
            FetchResponse onlyB = c.receive(second, (short) 1, (short) 12, FetchResponse::read);
            assertEquals(List.of("0:b0"), offsetsAndValues(onlyB.responses.get(0).partitions.get(0).records));
            assertEquals(Errors.NONE.code(), c.receive(versions, (short) 0, (short) 0, ApiVersionsResponse::read).errorCode);
        }
    }

    @Test
    void shouldStillDownConvertForAVersion3Fetch() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "old");
            produce(c, "old", TestRequests.batch("legacy"), (short) 1);
            int id = fetchRequest(c, (short) 3, List.of("old"));
            FetchResponse response = c.receive(id, (short) 0, (short) 3, FetchResponse::read);
            ByteBuf records = response.responses.get(0).partitions.get(0).records;
            // Message set v1: offset (8), size (4), crc (4), magic (1) = 1.
            assertEquals(0, records.getLong(0));
            assertEquals(1, records.getByte(16));
            assertTrue(records.toString(StandardCharsets.UTF_8).endsWith("legacy"));
        }
    }

    @Test
    void shouldRejectABatchWithABadCrcAsCorruptMessageAndAppendNothing() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "crc");
            ByteBuf good = TestRequests.batch("fine");
            assertEquals(Errors.NONE.code(), produce(c, "crc", good, (short) 1).responses.get(0).partitionResponses.get(0).errorCode);
            ByteBuf bad = TestRequests.batch("flipped");
            bad.setByte(bad.writerIndex() - 1, bad.getByte(bad.writerIndex() - 1) ^ 0x01);
            ProduceResponse response = produce(c, "crc", bad, (short) 1);
            assertEquals(Errors.CORRUPT_MESSAGE.code(), response.responses.get(0).partitionResponses.get(0).errorCode);
            assertEquals(1, latestOffset(c, "crc"), "nothing of the corrupt batch was appended");
        }
    }

    @Test
    void shouldNotAnswerAcksZeroButKeepAnsweringLaterRequestsInOrder() throws IOException {
        try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(c, "fire");
            produce(c, "fire", TestRequests.batch("a"), (short) 0);
            produce(c, "fire", TestRequests.batch("b"), (short) 0);
            assertEquals(2, latestOffset(c, "fire"));
        }
    }

    @Test
    void shouldCloseOnlyTheConnectionThatSentAnOversizedFrame() throws IOException {
        try (RawKafkaConnection bad = new RawKafkaConnection(tandem.kafkaPort()); RawKafkaConnection good = new RawKafkaConnection(tandem.kafkaPort())) {
            ByteBuf frame = Unpooled.buffer().writeInt(Integer.MAX_VALUE).writeInt(0);
            bad.writeAndRelease(frame);
            assertThrows(EOFException.class, () -> bad.readInt());
            int id = good.send(ApiKey.API_VERSIONS, (short) 0, new ApiVersionsRequest());
            assertEquals(Errors.NONE.code(), good.receive(id, (short) 0, (short) 0, ApiVersionsResponse::read).errorCode);
        }
    }

}
