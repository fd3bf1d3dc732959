package io.tandem.server.kafka.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.storage.log.LogSlice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FileRecordsTest {
    @TempDir
    Path dir;

    private static FetchResponse response(ByteBuf first, ByteBuf second) {
        FetchResponse response = new FetchResponse();
        FetchResponse.FetchableTopicResponse topic = new FetchResponse.FetchableTopicResponse();
        topic.topic = "t";
        for (ByteBuf records : List.of(first, second)) {
            FetchResponse.PartitionData data = new FetchResponse.PartitionData();
            data.partitionIndex = topic.partitions.size();
            data.records = records;
            topic.partitions.add(data);
        }
        response.responses.add(topic);
        return response;
    }

    @Test
    void splicedFrameForAnEncryptedConnectionHoldsOnlyByteBufsWithTheRecordsBytes() throws IOException {
        // An SslHandler takes ByteBufs only: a FileRegion written to a TLS connection would fail the write.
        Path file = Files.writeString(dir.resolve("00000000000000000000.log"), "xxAAAAAyyBBBzz");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            LogSlice a = new LogSlice(channel, file, 2, 5, 0, 1);
            LogSlice b = new LogSlice(channel, file, 9, 3, 1, 2);
            short version = 12;
            ByteBuf copied = KafkaFrames.encodeResponse(ByteBufAllocator.DEFAULT, 42, ApiKey.FETCH, version,
                    response(Unpooled.copiedBuffer("AAAAA", StandardCharsets.US_ASCII),
                            Unpooled.copiedBuffer("BBB", StandardCharsets.US_ASCII)));
            ByteBuf gathered = KafkaFrames.encodeResponseGathering(ByteBufAllocator.DEFAULT, 42, ApiKey.FETCH, version,
                    response(FileRecords.placeholder(a), FileRecords.placeholder(b)), 1);
            List<Object> parts = FileRecords.splice((CompositeByteBuf) gathered, List.of(a, b), UnpooledByteBufAllocator.DEFAULT);
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            for (Object part : parts) {
                ByteBuf bytes = assertInstanceOf(ByteBuf.class, part);
                bytes.readBytes(sent, bytes.readableBytes());
            }
            FileRecords.release(parts);
            byte[] expected = new byte[copied.readableBytes()];
            copied.readBytes(expected);
            copied.release();
            assertArrayEquals(expected, sent.toByteArray());
        }
    }

    @Test
    void splicedFrameSendsTheSameBytesAsACopiedOneWithTheRecordsAsFileRegions() throws IOException {
        Path file = Files.writeString(dir.resolve("00000000000000000000.log"), "xxAAAAAyyBBBzz");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            LogSlice a = new LogSlice(channel, file, 2, 5, 0, 1);
            LogSlice b = new LogSlice(channel, file, 9, 3, 1, 2);
            short version = 12;
            ByteBuf copied = KafkaFrames.encodeResponse(ByteBufAllocator.DEFAULT, 42, ApiKey.FETCH, version,
                    response(Unpooled.copiedBuffer("AAAAA", StandardCharsets.US_ASCII),
                            Unpooled.copiedBuffer("BBB", StandardCharsets.US_ASCII)));
            ByteBuf gathered = KafkaFrames.encodeResponseGathering(ByteBufAllocator.DEFAULT, 42, ApiKey.FETCH, version,
                    response(FileRecords.placeholder(a), FileRecords.placeholder(b)), 1);
            List<Object> parts = FileRecords.splice((CompositeByteBuf) gathered, List.of(a, b), null);
            assertEquals(0, gathered.refCnt(), "the composite is released once split");

            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            WritableByteChannel socket = Channels.newChannel(sent);
            int regions = 0;
            for (Object part : parts) {
                if (part instanceof SegmentFileRegion region) {
                    regions++;
                    while (region.transferred() < region.count()) region.transferTo(socket, region.transferred());
                } else {
                    ByteBuf bytes = (ByteBuf) part;
                    bytes.readBytes(sent, bytes.readableBytes());
                }
            }
            FileRecords.release(parts);
            assertEquals(2, regions);
            byte[] expected = new byte[copied.readableBytes()];
            copied.readBytes(expected);
            copied.release();
            assertArrayEquals(expected, sent.toByteArray());
            assertTrue(channel.isOpen());
        }
    }

    @Test
    void refusesWhenSlicesAndPlaceholdersDoNotMatch() throws IOException {
        Path file = Files.writeString(dir.resolve("00000000000000000000.log"), "AAAAABBB");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            LogSlice a = new LogSlice(channel, file, 0, 5, 0, 1);
            LogSlice b = new LogSlice(channel, file, 5, 3, 1, 2);
            ByteBuf gathered = KafkaFrames.encodeResponseGathering(ByteBufAllocator.DEFAULT, 1, ApiKey.FETCH, (short) 12,
                    response(FileRecords.placeholder(a), FileRecords.placeholder(b)), 1);
            assertThrows(IllegalStateException.class, () -> FileRecords.splice((CompositeByteBuf) gathered, List.of(a), null));
            assertEquals(0, gathered.refCnt());
        }
    }
}
