package io.tandem.zk.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tandem.zk.wire.data.Stat;
import io.tandem.zk.wire.proto.GetDataResponse;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import io.tandem.zk.wire.proto.SetDataRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ZkFrameCodecTest {

    @Test
    void shouldDecodeFramesSplitAtEveryByte() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder());
        ByteBuf stream = Unpooled.buffer();
        stream.writeBytes(frame(request(1, "/a")));
        stream.writeBytes(frame(request(2, "/bb")));
        stream.writeBytes(frame(new byte[0]));

        while (stream.isReadable()) {
            channel.writeInbound(stream.readRetainedSlice(1));
        }
        stream.release();

        assertEquals(new SetDataRequest("/a", bytes("v"), 1), readRequest(channel, 1));
        assertEquals(new SetDataRequest("/bb", bytes("v"), 2), readRequest(channel, 2));
        ByteBuf empty = channel.readInbound();
        assertEquals(0, empty.readableBytes());
        empty.release();
        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void shouldDecodeSeveralFramesArrivingInOneBuffer() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder());
        ByteBuf both = Unpooled.buffer();
        both.writeBytes(frame(request(7, "/x")));
        both.writeBytes(frame(request(8, "/y")));
        byte[] third = frame(request(9, "/z"));
        both.writeBytes(third, 0, 5);

        channel.writeInbound(both);
        assertEquals(new SetDataRequest("/x", bytes("v"), 7), readRequest(channel, 7));
        assertEquals(new SetDataRequest("/y", bytes("v"), 8), readRequest(channel, 8));
        assertNull(channel.readInbound(), "the third frame is still partial");

        channel.writeInbound(Unpooled.wrappedBuffer(third, 5, third.length - 5));
        assertEquals(new SetDataRequest("/z", bytes("v"), 9), readRequest(channel, 9));
        assertFalse(channel.finish());
    }

    @Test
    void shouldAcceptAFrameOfExactlyTheMaximumLength() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder(100));
        channel.writeInbound(Unpooled.wrappedBuffer(frame(new byte[100])));
        ByteBuf body = channel.readInbound();
        assertEquals(100, body.readableBytes());
        body.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldRejectFrameLargerThanMaxAndDropWhatFollows() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder());
        ByteBuf tooLong = Unpooled.buffer().writeInt(JuteLimits.FRAME_BYTES_MAX_DEFAULT + 1).writeBytes(new byte[8]);

        ZkCodecException error = assertThrows(ZkCodecException.class, () -> channel.writeInbound(tooLong));
        assertTrue(error.getMessage().contains("1048576"), error.getMessage());
        assertTrue(error.getMessage().contains("1048575"), error.getMessage());

        channel.writeInbound(Unpooled.wrappedBuffer(frame(request(1, "/a"))));
        assertNull(channel.readInbound(), "nothing after a corrupt length can be trusted");
        assertFalse(channel.finish());
    }

    @Test
    void shouldRejectNegativeFrameLength() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder());
        assertThrows(ZkCodecException.class, () -> channel.writeInbound(Unpooled.buffer().writeInt(-1)));
        assertFalse(channel.finish());
    }

    @Test
    void encoderShouldPrefixRecordsAndBuffersWithTheirLength() {
        EmbeddedChannel channel = new EmbeddedChannel(ZkFrameEncoder.INSTANCE);
        Stat stat = new Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        ZkPacket reply = new ZkPacket(new ReplyHeader(3, 42L, 0), new GetDataResponse(bytes("hello"), stat));
        channel.writeOutbound(reply, Unpooled.wrappedBuffer(new byte[] {9, 8, 7}), ZkPacket.of(new ReplyHeader(-2, 1, 0)));

        ByteBuf first = channel.readOutbound();
        assertEquals(first.readableBytes() - 4, first.readInt());
        JuteInput in = new JuteInput(first);
        assertEquals(new ReplyHeader(3, 42L, 0), ReplyHeader.read(in));
        assertEquals(new GetDataResponse(bytes("hello"), stat), GetDataResponse.read(in));
        assertFalse(first.isReadable());
        first.release();

        ByteBuf second = channel.readOutbound();
        assertEquals(3, second.readInt());
        assertEquals(9, second.readByte());
        second.release();

        ByteBuf third = channel.readOutbound();
        assertEquals(16, third.readInt());
        third.release();
        assertFalse(channel.finish());
    }

    @Test
    void encoderOutputShouldDecodeBackThroughTheDecoder() {
        EmbeddedChannel encoder = new EmbeddedChannel(ZkFrameEncoder.INSTANCE);
        EmbeddedChannel decoder = new EmbeddedChannel(new ZkFrameDecoder());
        SetDataRequest request = new SetDataRequest("/round/trip", bytes("payload"), 12);
        encoder.writeOutbound(new ZkPacket(new RequestHeader(5, OpCode.SET_DATA), request));

        decoder.writeInbound((ByteBuf) encoder.readOutbound());
        ByteBuf body = decoder.readInbound();
        JuteInput in = new JuteInput(body);
        assertEquals(new RequestHeader(5, OpCode.SET_DATA), RequestHeader.read(in));
        assertEquals(request, SetDataRequest.read(in));
        body.release();
        assertFalse(encoder.finish());
        assertFalse(decoder.finish());
    }

    @Test
    void serverDecoderShouldRecogniseAFourLetterWordAsTheFirstPrefixAndIgnoreTheRest() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder(JuteLimits.FRAME_BYTES_MAX_DEFAULT, true));
        channel.writeInbound(Unpooled.copiedBuffer("ru", StandardCharsets.US_ASCII));
        assertNull(channel.readInbound());
        channel.writeInbound(Unpooled.copiedBuffer("ok\r\n", StandardCharsets.US_ASCII));
        assertEquals(new FourLetterWord("ruok", 0), channel.readInbound());
        channel.writeInbound(Unpooled.wrappedBuffer(frame(request(1, "/a"))));
        assertNull(channel.readInbound(), "the server answers a command and closes; nothing else is decoded");
        assertFalse(channel.finish());
    }

    @Test
    void setTraceMaskShouldWaitForItsEightByteArgument() {
        EmbeddedChannel channel = new EmbeddedChannel(new ZkFrameDecoder(JuteLimits.FRAME_BYTES_MAX_DEFAULT, true));
        ByteBuf command = Unpooled.buffer().writeInt(FourLetterWord.code("stmk")).writeLong(0x1234L);
        channel.writeInbound(command.readRetainedSlice(9));
        assertNull(channel.readInbound());
        channel.writeInbound(command);
        assertEquals(new FourLetterWord("stmk", 0x1234L), channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void fourLetterWordsShouldOnlyCountBeforeTheFirstFrameAndOnlyOnServerDecoders() {
        EmbeddedChannel server = new EmbeddedChannel(new ZkFrameDecoder(JuteLimits.FRAME_BYTES_MAX_DEFAULT, true));
        server.writeInbound(Unpooled.wrappedBuffer(frame(request(1, "/a"))));
        ((ByteBuf) server.readInbound()).release();
        assertThrows(ZkCodecException.class,
                () -> server.writeInbound(Unpooled.copiedBuffer("ruok", StandardCharsets.US_ASCII)));
        assertFalse(server.finish());

        EmbeddedChannel client = new EmbeddedChannel(new ZkFrameDecoder());
        assertThrows(ZkCodecException.class,
                () -> client.writeInbound(Unpooled.copiedBuffer("srvr", StandardCharsets.US_ASCII)));
        assertFalse(client.finish());
    }

    @Test
    void fourLetterWordCodesShouldMatchApacheFourLetterCommands() throws Exception {
        Class<?> commands = org.apache.zookeeper.server.command.FourLetterCommands.class;
        int known = 0;
        for (java.lang.reflect.Field field : commands.getDeclaredFields()) {
            if (field.getType() == int.class && field.getName().endsWith("Cmd")) {
                field.setAccessible(true);
                int code = field.getInt(null);
                assertEquals(org.apache.zookeeper.server.command.FourLetterCommands.getCommandString(code),
                        FourLetterWord.commandFor(code), field.getName());
                known++;
            }
        }
        assertTrue(known >= 19, "found " + known + " commands");
    }

    private static SetDataRequest readRequest(EmbeddedChannel channel, int version) {
        ByteBuf body = channel.readInbound();
        try {
            SetDataRequest request = SetDataRequest.read(new JuteInput(body));
            assertFalse(body.isReadable());
            assertEquals(version, request.version());
            return request;
        } finally {
            body.release();
        }
    }

    private static byte[] request(int version, String path) {
        return new SetDataRequest(path, bytes("v"), version).toByteArray();
    }

    private static byte[] frame(byte[] body) {
        ByteBuf buf = Unpooled.buffer().writeInt(body.length).writeBytes(body);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        return bytes;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
