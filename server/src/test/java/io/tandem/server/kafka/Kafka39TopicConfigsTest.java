package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ResponseHeader;
import io.tandem.server.Tandem;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Topic configs that Kafka 3.9 accepted and 4.0 removed are accepted, described and applied as Kafka 3.9 did, with
 * its validation messages (observed against a real 3.9.1 broker).
 */
class Kafka39TopicConfigsTest extends OfficialClientBrokerTest {
    private static final byte TOPIC = 2;
    private CreateTopicsResponseData.CreatableTopicResult create(String topic, boolean validateOnly,
                                                                 Map<String, String> configs) throws IOException {
        return createTopic(topic, (short) 7, validateOnly, configs);
    }

    private static String shown(CreateTopicsResponseData.CreatableTopicResult result, String name) {
        return result.configs().stream().filter(c -> c.name().equals(name)).map(c -> c.value()).findFirst().orElse(null);
    }

    @Test
    void shouldAcceptAndDescribeTheConfigsKafka40RemovedWithKafka39Defaults() throws IOException {
        CreateTopicsResponseData.CreatableTopicResult plain = create("plain", false, Map.of());
        assertEquals(Errors.NONE.code(), plain.errorCode());
        assertEquals("3.0-IV1", shown(plain, "message.format.version"));
        assertEquals("true", shown(plain, "message.downconversion.enable"));
        assertEquals("9223372036854775807", shown(plain, "message.timestamp.difference.max.ms"));
        assertEquals("-2", shown(plain, "local.retention.ms"));
        assertEquals("false", shown(plain, "remote.storage.enable"));
        assertEquals("", shown(plain, "leader.replication.throttled.replicas"));

        CreateTopicsResponseData.CreatableTopicResult set = create("old-style", false, Map.of(
                "message.timestamp.difference.max.ms", "1000", "message.format.version", "2.8",
                "message.downconversion.enable", "false"));
        assertEquals(Errors.NONE.code(), set.errorCode(), set.errorMessage());
        assertEquals("1000", shown(set, "message.timestamp.difference.max.ms"));
        assertEquals("2.8", shown(set, "message.format.version"));

        DescribeConfigsRequestData describe = new DescribeConfigsRequestData();
        describe.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType(TOPIC)
                .setResourceName("old-style").setConfigurationKeys(List.of("message.timestamp.difference.max.ms")));
        DescribeConfigsResponse described = connection.call(new DescribeConfigsRequest.Builder(describe).build((short) 4));
        DescribeConfigsResponseData.DescribeConfigsResourceResult entry = described.data().results().get(0).configs().get(0);
        assertEquals("1000", entry.value());
        assertEquals(1, entry.configSource()); // TOPIC_CONFIG
    }

    @Test
    void shouldAlterARemovedConfig() throws IOException {
        create("altered", false, Map.of());
        AlterConfigsRequestData alter = new AlterConfigsRequestData();
        AlterConfigsRequestData.AlterConfigsResource resource = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(TOPIC).setResourceName("altered");
        resource.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("message.format.version")
                .setValue("0.10.0"));
        alter.resources().add(resource);
        AlterConfigsResponse response = connection.call(new AlterConfigsRequest(alter, (short) 2));
        assertEquals(Errors.NONE.code(), response.data().responses().get(0).errorCode());
    }

    @Test
    void shouldRefuseWhatKafka39RefusedWithItsMessages() throws IOException {
        Map<String, String> expected = Map.of(
                "message.format.version=abc",
                "Invalid value abc for configuration message.format.version: Version abc is not a valid version",
                "message.timestamp.difference.max.ms=-1",
                "Invalid value -1 for configuration message.timestamp.difference.max.ms: Value must be at least 0",
                "message.downconversion.enable=maybe",
                "Invalid value maybe for configuration message.downconversion.enable: Expected value to be either true or false",
                "remote.storage.enable=true",
                "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.",
                "local.retention.ms=-5", "Invalid value -5 for configuration local.retention.ms: Value must be at least -2",
                "remote.log.copy.disable=true",
                "It is invalid to set `remote.log.delete.on.disable` or `remote.log.copy.disable` under Zookeeper's mode.");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String[] kv = e.getKey().split("=", 2);
            CreateTopicsResponseData.CreatableTopicResult result = create("refused", true, Map.of(kv[0], kv[1]));
            assertEquals(Errors.INVALID_CONFIG.code(), result.errorCode(), e.getKey());
            assertEquals(e.getValue(), result.errorMessage(), e.getKey());
        }
    }

    @Test
    void shouldRefuseReplicationThrottlesTandemCannotApply() throws IOException {
        CreateTopicsResponseData.CreatableTopicResult result =
                create("throttled", true, Map.of("leader.replication.throttled.replicas", "*"));
        assertEquals(Errors.INVALID_CONFIG.code(), result.errorCode());
        assertEquals("Tandem does not throttle replication: leader.replication.throttled.replicas must be empty",
                result.errorMessage());
    }

    @Test
    void shouldAnswerOldFetchWithUnsupportedVersionWhenDownConversionIsDisabled() throws IOException {
        create("no-down", false, Map.of("message.downconversion.enable", "false"));
        create("down", false, Map.of());
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), fetchError("no-down", (short) 3));
        assertEquals(Errors.NONE.code(), fetchError("down", (short) 3));
        assertEquals(Errors.NONE.code(), fetchError("no-down", (short) 4)); // no conversion needed from v4
    }

    /** The partition error of a Fetch at an old version, which kafka-clients 4.x can no longer build. */
    private short fetchError(String topic, short version) throws IOException {
        FetchRequest request = new FetchRequest();
        request.maxWaitMs = 0;
        request.minBytes = 1;
        request.maxBytes = 1 << 20;
        FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
        t.topic = topic;
        FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
        p.partitionMaxBytes = 1 << 20;
        t.partitions.add(p);
        request.topics.add(t);
        ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, 7, "old", ApiKey.FETCH, version, request);
        try (Socket socket = new Socket("127.0.0.1", tandem.kafkaPort())) {
            socket.setSoTimeout(10_000);
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            ByteBuf buf = Unpooled.wrappedBuffer(response);
            assertEquals(7, ResponseHeader.read(buf, (short) 0).correlationId);
            FetchResponse.PartitionData data = FetchResponse.read(buf, version).responses.get(0).partitions.get(0);
            if (data.errorCode != 0) assertEquals(-1, data.highWatermark);
            return data.errorCode;
        } finally {
            frame.release();
        }
    }
}
