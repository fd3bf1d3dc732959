package io.tandem.kafka.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tandem.kafka.wire.message.ApiVersionsRequest;
import io.tandem.kafka.wire.message.ApiVersionsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.RequestHeader;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.junit.jupiter.api.Test;

class KafkaFramesTest {

    @Test
    void shouldSplitFramesDeliveredInArbitraryPieces() {
        EmbeddedChannel channel = new EmbeddedChannel(new KafkaFrameDecoder(1024));
        ByteBuf stream = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            stream.writeInt(5).writeBytes(new byte[] {(byte) i, 1, 2, 3, 4});
        }
        stream.writeInt(0); // an empty frame is a frame
        while (stream.isReadable()) {
            channel.writeInbound(stream.readRetainedSlice(Math.min(2, stream.readableBytes())));
        }
        stream.release();
        for (int i = 0; i < 3; i++) {
            ByteBuf frame = channel.readInbound();
            assertEquals(5, frame.readableBytes());
            assertEquals(i, frame.getByte(0));
            frame.release();
        }
        ByteBuf empty = channel.readInbound();
        assertEquals(0, empty.readableBytes());
        empty.release();
        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseTheConnectionOnAFrameLargerThanMax() {
        EmbeddedChannel channel = new EmbeddedChannel(new KafkaFrameDecoder(100));
        channel.writeInbound(Unpooled.buffer().writeInt(101).writeBytes(new byte[10]));
        assertNull(channel.readInbound());
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseTheConnectionOnANegativeLength() {
        EmbeddedChannel channel = new EmbeddedChannel(new KafkaFrameDecoder(100));
        channel.writeInbound(Unpooled.buffer().writeInt(-1));
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void shouldAcceptAFrameOfExactlyMax() {
        EmbeddedChannel channel = new EmbeddedChannel(new KafkaFrameDecoder(100));
        channel.writeInbound(Unpooled.buffer().writeInt(100).writeBytes(new byte[100]));
        ByteBuf frame = channel.readInbound();
        assertEquals(100, frame.readableBytes());
        frame.release();
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void shouldPrefixOutgoingFramesWithTheirLength() {
        EmbeddedChannel channel = new EmbeddedChannel(KafkaFrameEncoder.INSTANCE);
        channel.writeOutbound(Unpooled.wrappedBuffer(new byte[] {7, 8, 9}));
        ByteBuf length = channel.readOutbound();
        ByteBuf body = channel.readOutbound();
        assertEquals(3, length.readInt());
        assertEquals(3, body.readableBytes());
        length.release();
        body.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldReadRequestHeadersTheJavaClientWrites() {
        for (short version : new short[] {0, 3, 4}) {
            org.apache.kafka.common.requests.RequestHeader theirs = new org.apache.kafka.common.requests.RequestHeader(
                    org.apache.kafka.common.protocol.ApiKeys.API_VERSIONS, version, "client-é", 42);
            org.apache.kafka.common.protocol.ObjectSerializationCache cache =
                    new org.apache.kafka.common.protocol.ObjectSerializationCache();
            ByteBuffer bytes = ByteBuffer.allocate(theirs.data().size(cache, theirs.headerVersion()));
            theirs.data().write(new ByteBufferAccessor(bytes), cache, theirs.headerVersion());
            bytes.flip();
            ByteBuf frame = Unpooled.wrappedBuffer(bytes);
            RequestHeader ours = KafkaFrames.readRequestHeader(frame);
            assertEquals(18, ours.requestApiKey);
            assertEquals(version, ours.requestApiVersion);
            assertEquals(42, ours.correlationId);
            assertEquals("client-é", ours.clientId);
            assertFalse(frame.isReadable());
        }
    }

    @Test
    void shouldWriteRequestFramesTheJavaClientParses() {
        ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, 7, "c", ApiKey.METADATA, (short) 12,
                new MetadataRequest().setTopics(null));
        try {
            assertEquals(frame.readableBytes() - 4, frame.readInt());
            ByteBuffer nio = frame.nioBuffer();
            org.apache.kafka.common.requests.RequestHeader theirs = org.apache.kafka.common.requests.RequestHeader.parse(nio);
            assertEquals(7, theirs.correlationId());
            assertEquals("c", theirs.clientId());
            assertEquals(12, theirs.apiVersion());
        } finally {
            frame.release();
        }
    }

    @Test
    void shouldAnswerApiVersionsWithAV0HeaderTheJavaClientParses() {
        ApiVersionsResponse response = new ApiVersionsResponse();
        response.apiKeys.add(new ApiVersionsResponse.ApiVersion().setApiKey((short) 0).setMinVersion((short) 0)
                .setMaxVersion((short) 13));
        ByteBuf frame = KafkaFrames.encodeResponse(ByteBufAllocator.DEFAULT, 99, ApiKey.API_VERSIONS, (short) 4, response);
        try {
            assertEquals(frame.readableBytes() - 4, frame.readInt());
            ByteBuffer nio = frame.nioBuffer();
            assertEquals(99, nio.getInt()); // header v0: correlation id only, no tagged fields
            ApiVersionsResponseData theirs = new ApiVersionsResponseData(new ByteBufferAccessor(nio), (short) 4);
            assertEquals(13, theirs.apiKeys().find((short) 0).maxVersion());
            assertFalse(nio.hasRemaining());
        } finally {
            frame.release();
        }
    }

    @Test
    void shouldGatherLargeRecordSetsIntoTheResponseWithoutCopyingThem() {
        ByteBuf big = Unpooled.directBuffer(5000).writeBytes(new byte[5000]).setByte(0, 7);
        ByteBuf small = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
        io.tandem.kafka.wire.message.FetchResponse response = new io.tandem.kafka.wire.message.FetchResponse();
        io.tandem.kafka.wire.message.FetchResponse.FetchableTopicResponse topic =
                new io.tandem.kafka.wire.message.FetchResponse.FetchableTopicResponse().setTopic("t");
        topic.partitions.add(new io.tandem.kafka.wire.message.FetchResponse.PartitionData().setPartitionIndex(0)
                .setRecords(big));
        topic.partitions.add(new io.tandem.kafka.wire.message.FetchResponse.PartitionData().setPartitionIndex(1)
                .setRecords(small));
        response.responses.add(topic);
        for (short version : new short[] {4, 12}) {
            ByteBuf gathered = KafkaFrames.encodeResponseGathering(ByteBufAllocator.DEFAULT, 5, ApiKey.FETCH, version,
                    response, 1024);
            ByteBuf copied = KafkaFrames.encodeResponse(ByteBufAllocator.DEFAULT, 5, ApiKey.FETCH, version, response);
            try {
                assertEquals(copied, gathered, "same bytes either way");
                big.setByte(10, 42); // visible through the gathered frame only: it holds the records, not a copy
                assertFalse(copied.equals(gathered), "the large record set is a component, not a copy");
                big.setByte(10, 0);
                ByteBuffer nio = ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(gathered));
                nio.getInt();
                new org.apache.kafka.common.message.ResponseHeaderData(new ByteBufferAccessor(nio),
                        ApiKey.FETCH.responseHeaderVersion(version));
                org.apache.kafka.common.message.FetchResponseData theirs =
                        new org.apache.kafka.common.message.FetchResponseData(new ByteBufferAccessor(nio), version);
                assertEquals(5000, theirs.responses().get(0).partitions().get(0).records().sizeInBytes());
                assertFalse(nio.hasRemaining());
            } finally {
                gathered.release();
                copied.release();
            }
        }
        assertEquals(1, big.refCnt(), "the gathered response released its slices");
        big.release();
    }

    @Test
    void shouldRejectAHeaderOfAnUnknownApiKey() {
        ByteBuf frame = Unpooled.buffer().writeShort(9999).writeShort(0).writeInt(1).writeShort(-1);
        assertThrows(KafkaCodecException.class, () -> KafkaFrames.readRequestHeader(frame));
        assertThrows(KafkaCodecException.class, () -> KafkaFrames.readRequestHeader(Unpooled.buffer().writeShort(18)));
    }

    @Test
    void shouldRejectUnsupportedVersionsWithTheCodecException() {
        assertThrows(KafkaCodecException.class, () -> ApiVersionsRequest.read(Unpooled.buffer(), (short) 99));
        assertThrows(KafkaCodecException.class, () -> new ApiVersionsRequest().size((short) -1));
    }
}
