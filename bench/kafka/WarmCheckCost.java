import io.tandem.storage.log.LogSlice;
import io.tandem.storage.log.PageCacheWarmer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * What PageCacheWarmer costs a fetch: CPU per check of a resident slice (open a read-only channel, map, mincore,
 * unmap, close) at three slice sizes, and the time to warm evicted 1 MiB slices (GNU dd iflag=nocache evicts).
 * Usage (after a build): java -cp storage/target/classes bench/kafka/WarmCheckCost.java [file size MiB, default 64]
 * Prints figures; asserts nothing.
 */
public class WarmCheckCost {
    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        Path file = Files.createTempFile("warm-check-cost", ".log");
        try {
            byte[] chunk = new byte[1 << 20];
            Random random = new Random(1);
            try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
                for (int i = 0; i < mib; i++) {
                    random.nextBytes(chunk);
                    out.write(java.nio.ByteBuffer.wrap(chunk));
                }
                out.force(true);
            }
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = channel.size();
                Files.readAllBytes(file); // resident
                for (int length : new int[] {4096, 64 << 10, 1 << 20}) {
                    PageCacheWarmer warmer = new PageCacheWarmer();
                    int n = 20_000;
                    for (int round = 0; round < 2; round++) { // the first round warms up the JIT
                        long cpu0 = threads.getCurrentThreadCpuTime();
                        long wall0 = System.nanoTime();
                        for (int i = 0; i < n; i++) {
                            long position = (i * 7919L * 4096) % (size - length);
                            warmer.warm(new LogSlice(channel, file, position, length, 0, 1));
                        }
                        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
                        long wall = System.nanoTime() - wall0;
                        if (round == 1) {
                            System.out.printf("resident %7d-byte slices: %,6d ns CPU per check (%,d ns wall), "
                                    + "%d of %d needed loading%n", length, cpu / n, wall / n, warmer.stats().warmed(), n);
                        }
                    }
                }
                Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0").inheritIO().start();
                if (dd.waitFor() != 0) throw new IllegalStateException("dd failed");
                PageCacheWarmer warmer = new PageCacheWarmer();
                long wall0 = System.nanoTime();
                for (long position = 0; position + (1 << 20) <= size; position += 1 << 20) {
                    warmer.warm(new LogSlice(channel, file, position, 1 << 20, 0, 1));
                }
                long wall = System.nanoTime() - wall0;
                PageCacheWarmer.Stats stats = warmer.stats();
                System.out.printf("evicted 1 MiB slices: %d of %d loaded, %.2f ms per slice (%.0f MB/s)%n",
                        stats.warmed(), stats.checked(), wall / 1e6 / stats.checked(),
                        stats.warmedBytes() / 1e6 / (wall / 1e9));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
