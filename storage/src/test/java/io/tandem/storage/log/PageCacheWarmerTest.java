package io.tandem.storage.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static io.tandem.storage.log.Batches.batch;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PageCacheWarmerTest {
    @TempDir
    Path dir;

    @Test
    void shouldLoadAColdSliceOnceAndOnlyCheckAResidentOne() throws Exception {
        Path file = dir.resolve("00000000000000000000.log");
        byte[] bytes = new byte[1 << 20];
        new Random(7).nextBytes(bytes);
        Files.write(file, bytes);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.force(true);
            evict(file);
            assumeTrue(!resident(file, 4096, 512 << 10), "dd iflag=nocache did not drop " + file
                    + " from the page cache on this machine: cannot make a cold file");
            PageCacheWarmer warmer = new PageCacheWarmer();
            LogSlice slice = new LogSlice(channel, file, 4096, 512 << 10, 0, 100);
            assertTrue(warmer.warm(slice), "cold: read from the disk");
            assertTrue(resident(file, 4096, 512 << 10), "the whole slice is in the page cache now");
            assertFalse(warmer.warm(slice), "resident: nothing to read");
            PageCacheWarmer.Stats stats = warmer.stats();
            assertEquals(2, stats.checked());
            assertEquals(1, stats.warmed());
            assertEquals(512 << 10, stats.warmedBytes());
            assertEquals(Thread.currentThread().getName(), stats.lastWarmedOn());
        }
    }

    @Test
    void shouldNeverExtendASegmentCutShorterThanTheSlice() throws Exception {
        // FileChannel.map extends the file of a writable channel whose file ends before the mapped range: the
        // segment's own channel is writable, so warming through it would append zeros to a truncated segment.
        Path file = dir.resolve("00000000000000000000.log");
        Files.write(file, new byte[64 << 10]);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            LogSlice slice = new LogSlice(channel, file, 0, 64 << 10, 0, 10);
            channel.truncate(4096);
            PageCacheWarmer warmer = new PageCacheWarmer();
            assertFalse(warmer.warm(slice));
            assertEquals(4096, channel.size(), "the file keeps its size");
            assertEquals(1, warmer.stats().failed());
        }
    }

    @Test
    void shouldLeaveATailReadOfTheActiveSegmentUnchecked() throws Exception {
        try (Log log = Log.open(dir, LogConfig.defaults(), Log.Checkpoint.NONE, false, System::currentTimeMillis,
                null)) {
            log.appendAsLeader(batch(3, 1000), 0, -1);
            PageCacheWarmer warmer = new PageCacheWarmer();
            assertFalse(warmer.warm(log, log.read(0, 1 << 20, Long.MAX_VALUE, true)));
            PageCacheWarmer.Stats stats = warmer.stats();
            assertEquals(1, stats.tailReads());
            assertEquals(0, stats.checked(), "no residency check for the tail: " + stats);
        }
    }

    static void evict(Path file) throws IOException, InterruptedException {
        Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0").redirectErrorStream(true).start();
        String output = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(dd.waitFor() == 0, "GNU dd with iflag=nocache is needed to evict a file's pages: " + output);
    }

    /** mincore(2) through a mapping that is never touched (so the probe faults nothing in). */
    static boolean resident(Path file, long position, int length) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, position, length);
            return mapped.isLoaded();
        }
    }
}
