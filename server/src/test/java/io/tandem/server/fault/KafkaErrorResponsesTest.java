package io.tandem.server.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.InitializeShareGroupStateRequest;
import io.tandem.kafka.wire.message.JoinGroupRequest;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.OffsetCommitRequest;
import io.tandem.kafka.wire.message.OffsetFetchRequest;
import io.tandem.kafka.wire.message.ProduceRequest;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractResponse;
import org.junit.jupiter.api.Test;

/**
 * Every error answer fault injection can build, at every version of its API, must be a response Kafka's own client
 * classes parse, carrying the injected error for what the request named.
 */
class KafkaErrorResponsesTest {
    private static final UUID TOPIC_ID = UUID.fromString("6bf1d2b4-0b1e-4c9b-9a1e-3c1f0f3d2a11");

    @Test
    void shouldBuildAnErrorAnswerKafkasClientParsesForEverySupportedApiAndVersion() {
        int checkedByKafka = 0;
        for (ApiKey key : KafkaErrorResponses.SUPPORTED) {
            Errors error = key == ApiKey.FETCH ? Errors.NOT_LEADER_OR_FOLLOWER : Errors.COORDINATOR_NOT_AVAILABLE;
            for (short version = key.minVersion(); version <= key.latestVersion(); version++) {
                ApiMessage response = KafkaErrorResponses.build(key, version, request(key), error);
                ByteBuf bytes = Unpooled.buffer(response.size(version));
                response.write(bytes, version);
                assertEquals(response.size(version), bytes.readableBytes(), key.apiName() + " v" + version);
                ApiKeys theirs = ApiKeys.forId(key.id());
                if (!theirs.isVersionSupported(version)) continue; // removed from Kafka 4; our codec reads it back
                AbstractResponse parsed = AbstractResponse.parseResponse(theirs,
                        new ByteBufferAccessor(bytes.nioBuffer()), version);
                assertTrue(parsed.errorCounts().getOrDefault(org.apache.kafka.common.protocol.Errors.forCode(
                        error.code()), 0) > 0, key.apiName() + " v" + version + " carries the error: "
                        + parsed.errorCounts());
                checkedByKafka++;
            }
        }
        // Thirteen APIs, most of them with ten or more versions Kafka 4 still parses.
        assertTrue(checkedByKafka >= 80, "versions checked by Kafka's classes: " + checkedByKafka);
    }

    @Test
    void shouldAnswerProduceWithTheErrorOnEveryPartitionItNamed() {
        ProduceRequest request = new ProduceRequest().setAcks((short) -1).setTopicData(List.of(
                new ProduceRequest.TopicProduceData().setName("a").setPartitionData(List.of(
                        new ProduceRequest.PartitionProduceData().setIndex(0),
                        new ProduceRequest.PartitionProduceData().setIndex(3)))));
        var response = (io.tandem.kafka.wire.message.ProduceResponse) KafkaErrorResponses.build(ApiKey.PRODUCE,
                (short) 9, request, Errors.NOT_LEADER_OR_FOLLOWER);
        assertEquals("a", response.responses.get(0).name);
        assertEquals(List.of(0, 3), response.responses.get(0).partitionResponses.stream().map(p -> p.index).toList());
        assertTrue(response.responses.get(0).partitionResponses.stream()
                .allMatch(p -> p.errorCode == Errors.NOT_LEADER_OR_FOLLOWER.code() && p.baseOffset == -1));
    }

    /** A request naming one topic, one partition, one group or coordinator key, as the API has them. */
    private static ApiMessage request(ApiKey key) {
        return switch (key) {
            case PRODUCE -> new ProduceRequest().setAcks((short) -1).setTopicData(List.of(
                    new ProduceRequest.TopicProduceData().setName("t").setTopicId(TOPIC_ID).setPartitionData(List.of(
                            new ProduceRequest.PartitionProduceData().setIndex(0)))));
            case FETCH -> new FetchRequest().setTopics(List.of(new FetchRequest.FetchTopic().setTopic("t")
                    .setTopicId(TOPIC_ID).setPartitions(List.of(new FetchRequest.FetchPartition().setPartition(0)))));
            case LIST_OFFSETS -> new ListOffsetsRequest().setTopics(List.of(new ListOffsetsRequest.ListOffsetsTopic()
                    .setName("t").setPartitions(List.of(new ListOffsetsRequest.ListOffsetsPartition()))));
            case METADATA -> new MetadataRequest().setTopics(List.of(new MetadataRequest.MetadataRequestTopic()
                    .setName("t")));
            case OFFSET_COMMIT -> new OffsetCommitRequest().setGroupId("g").setTopics(List.of(
                    new OffsetCommitRequest.OffsetCommitRequestTopic().setName("t").setTopicId(TOPIC_ID)
                            .setPartitions(List.of(new OffsetCommitRequest.OffsetCommitRequestPartition()))));
            case OFFSET_FETCH -> new OffsetFetchRequest().setGroupId("g").setTopics(List.of(
                    new OffsetFetchRequest.OffsetFetchRequestTopic().setName("t").setPartitionIndexes(List.of(0))))
                    .setGroups(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId("g")));
            case FIND_COORDINATOR -> new FindCoordinatorRequest().setKey("g").setCoordinatorKeys(List.of("g"));
            case JOIN_GROUP -> new JoinGroupRequest().setGroupId("g").setMemberId("m");
            case INITIALIZE_SHARE_GROUP_STATE -> new InitializeShareGroupStateRequest().setGroupId("g").setTopics(List.of(
                    new InitializeShareGroupStateRequest.InitializeStateData().setTopicId(TOPIC_ID).setPartitions(
                            List.of(new InitializeShareGroupStateRequest.PartitionData().setPartition(0)))));
            default -> key.newRequest();
        };
    }
}
