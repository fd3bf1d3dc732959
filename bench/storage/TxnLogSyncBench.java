import io.tandem.storage.zk.TxnLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The ZooKeeper transaction log's append + fsync latency with and without preallocation (zookeeper.preAllocSize): one
 * writer appends a record and syncs it, N times, into a fresh log per mode, as a server under a single client's
 * synchronous writes does. Modes alternate order per round; prints p50 / p90 / p99 / p99.9 / max per mode and round,
 * then the medians over the rounds and the ratio to the unpadded log. Run by bench/run-txnlog-sync.sh; figures are
 * printed, never asserted.
 *
 * <p>Arguments: {@code [--dir DIR] [--ops 2000] [--rounds 3] [--record-bytes 100] [--modes 0,1024,65536]} (modes are
 * preallocation blocks in KiB, 0 = none).
 */
public final class TxnLogSyncBench {
    public static void main(String[] args) throws IOException {
        Map<String, String> options = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path dir = Path.of(options.getOrDefault("dir", "bench/target/txnlog-sync"));
        int ops = Integer.parseInt(options.getOrDefault("ops", "2000"));
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "3"));
        int recordBytes = Integer.parseInt(options.getOrDefault("record-bytes", "100"));
        long[] modesKib = Arrays.stream(options.getOrDefault("modes", "0,1024,65536").split(","))
                .mapToLong(Long::parseLong).toArray();
        System.out.printf("txn log append+fsync: %d ops of %d bytes per mode, %d rounds, dir %s, load %s%n", ops,
                recordBytes, rounds, dir.toAbsolutePath(), load());
        Map<Long, List<double[]>> results = new TreeMap<>();
        for (int round = 0; round < rounds; round++) {
            List<Long> order = new ArrayList<>();
            for (long mode : modesKib) {
                order.add(mode);
            }
            if (round % 2 == 1) {
                java.util.Collections.reverse(order);
            }
            for (long kib : order) {
                double[] figures = run(dir.resolve("round" + round + "-" + kib), ops, recordBytes, kib << 10);
                results.computeIfAbsent(kib, k -> new ArrayList<>()).add(figures);
                System.out.printf("round %d  preAllocSize %6d KiB: p50 %7.3f ms  p90 %7.3f  p99 %7.3f  p99.9 %7.3f  "
                        + "max %8.3f  (load %s)%n", round + 1, kib, figures[0], figures[1], figures[2], figures[3],
                        figures[4], load());
            }
        }
        System.out.println("medians over the rounds:");
        double[] baseline = null;
        for (Map.Entry<Long, List<double[]>> mode : results.entrySet()) {
            double[] median = new double[5];
            for (int i = 0; i < 5; i++) {
                final int index = i;
                double[] values = mode.getValue().stream().mapToDouble(f -> f[index]).sorted().toArray();
                median[i] = values[values.length / 2];
            }
            if (mode.getKey() == 0) {
                baseline = median;
            }
            System.out.printf("preAllocSize %6d KiB: p50 %7.3f ms  p90 %7.3f  p99 %7.3f  p99.9 %7.3f  max %8.3f%s%n",
                    mode.getKey(), median[0], median[1], median[2], median[3], median[4],
                    baseline == null || mode.getKey() == 0 ? ""
                            : String.format("   p50 ratio %.2f, p99 ratio %.2f", median[0] / baseline[0],
                                    median[2] / baseline[2]));
        }
    }

    private static double[] run(Path dir, int ops, int recordBytes, long preAllocBytes) throws IOException {
        deleteRecursively(dir);
        long[] nanos = new long[ops];
        byte[] txn = new byte[recordBytes];
        try (TxnLog log = TxnLog.open(dir, TxnLog.DEFAULT_ROLL_BYTES, preAllocBytes)) {
            for (int i = 0; i < ops; i++) {
                txn[i % recordBytes] = (byte) i;
                long started = System.nanoTime();
                log.append(i + 1, txn);
                log.sync();
                nanos[i] = System.nanoTime() - started;
            }
        }
        deleteRecursively(dir);
        Arrays.sort(nanos);
        return new double[] {ms(nanos, 0.50), ms(nanos, 0.90), ms(nanos, 0.99), ms(nanos, 0.999),
                nanos[ops - 1] / 1e6};
    }

    private static double ms(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * quantile))] / 1e6;
    }

    private static String load() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
