package io.tandem.storage.zk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tandem.storage.log.FileReadsTest;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transaction log's reads into heap memory go in pieces too (FileReads): no direct buffer of their size kept. */
class LogFileReadsTest {
    @Test
    void shouldReadALargeRangeWithoutCachingADirectBufferOfItsSize(@TempDir Path dir) throws Exception {
        byte[] content = new byte[FileReadsTest.READ_BYTES];
        new Random(13).nextBytes(content);
        Path file = Files.write(dir.resolve("log.1"), content);
        ByteBuffer target = ByteBuffer.allocate(content.length);
        try (FileChannel channel = FileChannel.open(file)) {
            long kept = FileReadsTest.directBytesKeptBy(() -> {
                LogFileFormat.readFully(channel, target, 0);
                return null;
            });
            assertArrayEquals(content, target.array());
            FileReadsTest.assertAtMostAFewChunks(kept);
        }
    }
}
