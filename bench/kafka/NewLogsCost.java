import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogConfig;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What a new topic's logs cost to open: BATCHES times, LOGS new logs (Log.open into fresh directories, as a new
 * __consumer_offsets' LeaderAndIsr does: 50 on the 8 LeaderAndIsr workers), then closed; per batch the wall time of
 * the opens and the process CPU (opens, closes and the JIT) since the start. The first batch runs cold code.
 * Usage (after a build): java -cp "storage/target/classes:server/target/lib/*" bench/kafka/NewLogsCost.java DIR
 *        [LOGS=50] [THREADS=8] [BATCHES=6]    (to compare builds, put another build's storage jar or classes first)
 * Prints figures; asserts nothing.
 */
public class NewLogsCost {
    public static void main(String[] args) throws Exception {
        Path base = Path.of(args[0]);
        int logs = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int batches = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        for (int b = 0; b < batches; b++) {
            Path dir = Files.createDirectories(base.resolve("batch-" + b + "-" + System.nanoTime()));
            long t0 = System.nanoTime();
            List<Future<Log>> opened = new ArrayList<>();
            for (int i = 0; i < logs; i++) {
                Path logDir = dir.resolve("__consumer_offsets-" + i);
                opened.add(pool.submit(() -> Log.open(logDir, LogConfig.defaults(), Log.Checkpoint.NONE, false,
                        System::currentTimeMillis, null)));
            }
            for (Future<Log> f : opened) f.get();
            long wall = System.nanoTime() - t0;
            for (Future<Log> f : opened) f.get().close();
            System.out.printf("batch %d: %d logs on %d threads opened in %.1f ms; process CPU so far %d ms%n", b, logs,
                    threads, wall / 1e6, os.getProcessCpuTime() / 1_000_000);
        }
        pool.shutdown();
    }
}
