package io.tandem.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * CPU time of a process's threads from /proc/[pid]/task/[tid]/stat, grouped by thread name with digits stripped
 * (so Netty's numbered event loops count as one group). On a shared machine a rate moves with everyone else's load;
 * CPU spent per operation by each stage does not, so it is what compares two builds. Linux only; elsewhere empty.
 */
public final class ThreadCpu {
    /** Linux's USER_HZ: utime and stime are counted in 1/100 s on every common configuration. */
    private static final double TICKS_PER_SECOND = 100.0;

    private ThreadCpu() {
    }

    /** CPU seconds per thread group of {@code pid} now; threads that ended since are not counted (none do here). */
    public static Map<String, Double> snapshot(long pid) {
        Map<String, Double> byGroup = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(tasks)) {
            for (Path task : stream) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException e) {
                    continue; // the thread ended between the listing and the read
                }
                // "tid (name) state ppid ...": the name may hold spaces and parentheses, so cut at the last ')'.
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String name = stat.substring(open + 1, close).replaceAll("[0-9]+", "#");
                String[] fields = stat.substring(close + 2).split(" ");
                // After the name: state is field 3 of the line, utime 14 and stime 15, i.e. indexes 11 and 12 here.
                double seconds = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
                byGroup.merge(name, seconds, Double::sum);
            }
        } catch (IOException e) {
            return Map.of();
        }
        return byGroup;
    }

    /**
     * Microseconds of CPU per operation between two snapshots: the total, then the {@code top} busiest groups, e.g.
     * {@code "412 us/op (zk-commit 180, multiThreadIoEv 120, ...)"}.
     */
    public static String perOperation(Map<String, Double> before, Map<String, Double> after, long ops, int top) {
        Map<String, Double> used = new HashMap<>();
        for (Map.Entry<String, Double> entry : after.entrySet()) {
            used.put(entry.getKey(), entry.getValue() - before.getOrDefault(entry.getKey(), 0.0));
        }
        double total = used.values().stream().mapToDouble(Double::doubleValue).sum();
        List<Map.Entry<String, Double>> busiest = used.entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()))
                .limit(top).toList();
        String groups = busiest.stream()
                .map(e -> String.format(Locale.ROOT, "%s %.1f", e.getKey(), e.getValue() * 1e6 / ops))
                .collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "%.1f us/op (%s)", total * 1e6 / ops, groups);
    }

    /** Total CPU seconds of the snapshot. */
    public static double total(Map<String, Double> snapshot) {
        return snapshot.values().stream().mapToDouble(Double::doubleValue).sum();
    }
}
