import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Does mincore (MappedByteBuffer.isLoaded, PageCacheWarmer's check) count a page whose read is still in flight as
 * resident? For each 8 MiB region of an evicted file, one thread asks for the whole region at once
 * (MappedByteBuffer.load: madvise(WILLNEED) puts every page of the region in the page cache and submits its reads,
 * then touches each page, waiting for it) while this thread polls isLoaded() over the region's last 1 MiB through a
 * mapping of its own that it never touches. If in-flight pages counted, the last MiB would look resident as soon as
 * madvise had queued the reads, long before the loader's touches finish; if only completed reads count, it looks
 * resident only when the reads are done.
 * Usage: java bench/kafka/InFlightReadProbe.java [regions, default 16]  (GNU dd iflag=nocache evicts the file)
 * Prints figures; asserts nothing.
 */
public class InFlightReadProbe {
    private static final int REGION = 8 << 20;
    private static final int TAIL = 1 << 20;

    public static void main(String[] args) throws Exception {
        int regions = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        Path file = Files.createTempFile("in-flight-read-probe", ".log");
        try {
            byte[] chunk = new byte[1 << 20];
            Random random = new Random(1);
            try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
                for (int i = 0; i < regions * (REGION >> 20); i++) {
                    random.nextBytes(chunk);
                    out.write(java.nio.ByteBuffer.wrap(chunk));
                }
                out.force(true);
            }
            evict(file);
            List<long[]> rows = new ArrayList<>();
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                for (int r = 0; r < regions; r++) {
                    long base = (long) r * REGION;
                    MappedByteBuffer whole = channel.map(FileChannel.MapMode.READ_ONLY, base, REGION);
                    MappedByteBuffer tail = channel.map(FileChannel.MapMode.READ_ONLY, base + REGION - TAIL, TAIL);
                    if (tail.isLoaded()) throw new IllegalStateException("region " + r + " was not evicted");
                    long[] done = {-1, -1};
                    long t0 = System.nanoTime();
                    Thread loader = new Thread(() -> {
                        if (MADVISE != null) {
                            try {
                                MADVISE.invoke(null, address(whole), (long) REGION);
                            } catch (ReflectiveOperationException e) {
                                throw new IllegalStateException(e);
                            }
                            done[1] = System.nanoTime();
                        }
                        whole.load();
                        done[0] = System.nanoTime();
                    });
                    loader.start();
                    long seen = -1;
                    int polls = 0;
                    while (seen < 0) {
                        polls++;
                        if (tail.isLoaded()) seen = System.nanoTime();
                        else Thread.onSpinWait();
                    }
                    loader.join();
                    rows.add(new long[] {(seen - t0) / 1000, (done[0] - t0) / 1000, polls,
                            done[1] < 0 ? -1 : (done[1] - t0) / 1000});
                }
            }
            long seenBeforeDoneByHalf = 0;
            for (int r = 0; r < rows.size(); r++) {
                long[] row = rows.get(r);
                System.out.printf("region %2d: madvise(WILLNEED) returned after %,7d us; last MiB seen resident "
                        + "after %,7d us; loader done after %,7d us (%,d polls)%n", r, row[3], row[0], row[1], row[2]);
                if (row[0] * 2 < row[1]) seenBeforeDoneByHalf++;
            }
            System.out.printf("regions whose last MiB looked resident before half the load time: %d of %d%n",
                    seenBeforeDoneByHalf, rows.size());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * java.nio.MappedMemoryUtils.load0(address, isSync, length): the madvise(WILLNEED) alone, without load()'s touch
     * loop, so the time the reads were queued is known (needs --add-opens java.base/java.nio=ALL-UNNAMED; without it
     * only load() as a whole is timed).
     */
    private static final java.lang.reflect.Method MADVISE = madvise();

    private static java.lang.reflect.Method madvise() {
        try {
            Class<?> utils = Class.forName("java.nio.MappedMemoryUtils");
            java.lang.reflect.Method m = utils.getDeclaredMethod("load0", long.class, long.class);
            m.setAccessible(true);
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.out.println("madvise alone not available (" + e + "); timing load() as a whole");
            return null;
        }
    }

    private static long address(MappedByteBuffer buffer) {
        try {
            java.lang.reflect.Field f = java.nio.Buffer.class.getDeclaredField("address");
            f.setAccessible(true);
            return f.getLong(buffer);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void evict(Path file) throws Exception {
        Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0").inheritIO().start();
        if (dd.waitFor() != 0) throw new IllegalStateException("dd failed");
    }
}
