package io.tandem.server.kafka.network;

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

import static org.junit.jupiter.api.Assertions.*;

class SegmentFileRegionTest {
    @TempDir
    Path dir;

    @Test
    void transfersItsRangeAndLeavesTheSegmentChannelOpenWhenReleased() throws IOException {
        Path file = Files.writeString(dir.resolve("segment.log"), "0123456789abcdef");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SegmentFileRegion region = new SegmentFileRegion(channel, 4, 8);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            WritableByteChannel target = Channels.newChannel(out);
            while (region.transferred() < region.count()) region.transferTo(target, region.transferred());
            assertEquals("456789ab", out.toString(StandardCharsets.US_ASCII));
            assertTrue(region.release());
            assertTrue(channel.isOpen(), "the channel belongs to the segment");
            assertEquals(16, channel.size());
        }
    }

    @Test
    void failsInsteadOfSpinningWhenTheSegmentIsShorterThanTheRegion() throws IOException {
        Path file = Files.writeString(dir.resolve("short.log"), "0123");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SegmentFileRegion region = new SegmentFileRegion(channel, 4, 8);
            WritableByteChannel target = Channels.newChannel(new ByteArrayOutputStream());
            assertThrows(IOException.class, () -> region.transferTo(target, 0));
            region.release();
        }
    }
}
