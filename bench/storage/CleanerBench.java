import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.storage.log.Log;
import io.tandem.storage.log.LogConfig;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Compaction throughput of the Kafka log engine: writes a compacted log of keyed batches (every key rewritten many
 * times), then times one forced cleaning pass (the dirty range read twice, mapped and rewritten) and a second one
 * (already clean segments re-read and, where small, merged). Prints MB/s of log read by each pass, the segments before
 * and after, and the load average.
 *
 * Usage: bench/run-cleaner.sh [--dir bench/target/cleaner] [--records 1000000] [--keys 20000] [--value-bytes 100]
 *        [--batch 50] [--segment-bytes 8388608] [--rounds 3]
 */
public final class CleanerBench {
    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new java.util.HashMap<>(Map.of("--dir", "bench/target/cleaner",
                "--records", "1000000", "--keys", "20000", "--value-bytes", "100", "--batch", "50",
                "--segment-bytes", "8388608", "--rounds", "3"));
        for (int i = 0; i + 1 < args.length; i += 2) opts.put(args[i], args[i + 1]);
        Path root = Path.of(opts.get("--dir"));
        int records = Integer.parseInt(opts.get("--records"));
        int keys = Integer.parseInt(opts.get("--keys"));
        int valueBytes = Integer.parseInt(opts.get("--value-bytes"));
        int batch = Integer.parseInt(opts.get("--batch"));
        int rounds = Integer.parseInt(opts.get("--rounds"));
        LogConfig config = LogConfig.fromTopicConfig(Map.of("cleanup.policy", "compact",
                "segment.bytes", opts.get("--segment-bytes"), "file.delete.delay.ms", "0"));
        byte[] value = "v".repeat(valueBytes).getBytes(StandardCharsets.UTF_8);
        List<Double> first = new ArrayList<>();
        List<Double> second = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            Path dir = root.resolve("round-" + round);
            delete(dir);
            long now = System.currentTimeMillis();
            try (Log log = Log.open(dir, config, Log.Checkpoint.NONE, false, System::currentTimeMillis, null)) {
                for (int written = 0; written < records; written += batch) {
                    ByteBuf out = Unpooled.buffer();
                    try (RecordBatchBuilder builder = RecordBatchBuilder.create(out)) {
                        for (int i = 0; i < batch; i++) {
                            byte[] key = ("key-" + ((written + i) % keys)).getBytes(StandardCharsets.UTF_8);
                            builder.append(now - 60_000, key, value);
                        }
                        builder.build();
                    }
                    log.appendAsLeader(out, 0, -1);
                    out.release();
                }
                log.roll();
                log.updateHighWatermark(log.logEndOffset());
                long bytes = size(dir);
                int segmentsBefore = log.segmentCount();
                long start = System.nanoTime();
                long removed = log.compactNow();
                double firstSeconds = (System.nanoTime() - start) / 1e9;
                int segmentsAfterFirst = log.segmentCount();
                long cleanedBytes = size(dir);
                start = System.nanoTime();
                log.compactNow();
                double secondSeconds = (System.nanoTime() - start) / 1e9;
                first.add(bytes / 1e6 / firstSeconds);
                second.add(cleanedBytes / 1e6 / secondSeconds);
                System.out.printf("round %d: %,d records, %.1f MB in %d segments; pass 1 removed %,d in %.2f s "
                        + "(%.1f MB/s), %d segments; pass 2 over %.1f MB in %.3f s (%.1f MB/s), %d segments%n",
                        round, records, bytes / 1e6, segmentsBefore, removed, firstSeconds, first.get(round),
                        segmentsAfterFirst, cleanedBytes / 1e6, secondSeconds, second.get(round), log.segmentCount());
            }
            delete(dir);
        }
        first.sort(null);
        second.sort(null);
        System.out.printf("median: pass 1 %.1f MB/s, pass 2 %.1f MB/s; load average %.2f%n",
                first.get(first.size() / 2), second.get(second.size() / 2),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
