package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.ProduceRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Behaviour of the generated classes that handler code relies on, beyond byte compatibility. */
class GeneratedMessagesTest {

    @Test
    void shouldKeepRecordsAsSlicesOfTheInputWithoutCopying() {
        ProduceRequest request = new ProduceRequest().setAcks((short) 1).setTimeoutMs(1000);
        request.topicData.add(new ProduceRequest.TopicProduceData().setName("t").setPartitionData(List.of(
                new ProduceRequest.PartitionProduceData().setIndex(0)
                        .setRecords(Unpooled.wrappedBuffer(new byte[] {1, 2, 3, 4})))));
        ByteBuf frame = Unpooled.buffer();
        request.write(frame, (short) 9);
        ProduceRequest decoded = ProduceRequest.read(frame, (short) 9);
        ByteBuf records = decoded.topicData.get(0).partitionData.get(0).records;
        assertEquals(4, records.readableBytes());
        assertSame(frame.array(), records.array(), "records must be a view of the frame, not a copy");
        frame.setByte(records.arrayOffset() + records.readerIndex() - frame.arrayOffset(), 42);
        assertEquals(42, records.getByte(records.readerIndex()));
    }

    @Test
    void shouldSkipFieldsAVersionDoesNotHaveAndReadThemAsDefaults() {
        FetchResponse response = new FetchResponse().setThrottleTimeMs(5).setErrorCode((short) 7).setSessionId(9);
        ByteBuf v0 = Unpooled.buffer();
        response.write(v0, (short) 0); // v0 has only the topic array: throttle time came in v1, error and session in v7
        assertEquals(4, v0.readableBytes());
        FetchResponse decoded = FetchResponse.read(v0, (short) 0);
        assertEquals(0, decoded.throttleTimeMs);
        assertEquals(0, decoded.errorCode);
    }

    @Test
    void shouldPreserveUnknownTaggedFieldsThroughDecodeAndEncode() {
        ApiVersionsResponse response = new ApiVersionsResponse();
        response.unknownTaggedFields().add(new RawTaggedField(77, new byte[] {9, 8, 7}));
        response.setFinalizedFeaturesEpoch(5); // a known tagged field (tag 1), written before tag 77
        ByteBuf out = Unpooled.buffer();
        response.write(out, (short) 3);
        assertEquals(response.size((short) 3), out.readableBytes());
        ApiVersionsResponse decoded = ApiVersionsResponse.read(out, (short) 3);
        assertFalse(out.isReadable());
        assertEquals(5, decoded.finalizedFeaturesEpoch);
        assertEquals(List.of(new RawTaggedField(77, new byte[] {9, 8, 7})), decoded.unknownTaggedFields());
        assertEquals(response, decoded);
    }

    @Test
    void shouldWriteNullableArraysAsNullOnlyWhereTheVersionAllowsIt() {
        MetadataRequest allTopics = new MetadataRequest().setTopics(null);
        ByteBuf v1 = Unpooled.buffer();
        allTopics.write(v1, (short) 1);
        assertNull(MetadataRequest.read(v1, (short) 1).topics);
        assertThrows(KafkaCodecException.class, () -> allTopics.write(Unpooled.buffer(), (short) 0));
    }

    @Test
    void shouldReportATruncatedMessageWithTheCodecException() {
        ByteBuf out = Unpooled.buffer();
        new MetadataRequest().write(out, (short) 12);
        ByteBuf truncated = out.slice(0, out.readableBytes() - 1);
        assertThrows(KafkaCodecException.class, () -> MetadataRequest.read(truncated, (short) 12));
    }
}
