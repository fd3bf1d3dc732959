package io.tandem.server.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Latencies of one kind of operation, kept in an HdrHistogram in microseconds (3 significant digits, the precision
 * Kafka's and ZooKeeper's own tools report), and the figures {@code tandem perf} prints from them.
 */
final class PerfLatency {
    /** The longest latency recorded exactly (ten minutes); a longer one is recorded as this. */
    private static final long LATENCY_MICROS_MAX = 600_000_000L;

    private final Histogram histogram = new Histogram(LATENCY_MICROS_MAX, 3);

    /** Records one operation that took {@code nanos}. Synchronized: ZooKeeper answers arrive on client threads. */
    synchronized void record(long nanos) {
        histogram.recordValue(Math.min(LATENCY_MICROS_MAX, Math.max(0, nanos / 1_000)));
    }

    /** Records {@code count} operations (the records of one batch) that each took {@code nanos}. */
    synchronized void record(long nanos, long count) {
        histogram.recordValueWithCount(Math.min(LATENCY_MICROS_MAX, Math.max(0, nanos / 1_000)), count);
    }

    synchronized long count() {
        return histogram.getTotalCount();
    }

    /** avg, p50, p99, p99.9 and max, in milliseconds. */
    synchronized Map<String, Double> percentilesMs() {
        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("avg", ms(histogram.getMean()));
        figures.put("p50", ms(histogram.getValueAtPercentile(50)));
        figures.put("p99", ms(histogram.getValueAtPercentile(99)));
        figures.put("p99.9", ms(histogram.getValueAtPercentile(99.9)));
        figures.put("max", ms(histogram.getMaxValue()));
        return figures;
    }

    /** "avg 1.234 ms, p50 1.100 ms, ..." for people. */
    String summary() {
        StringBuilder text = new StringBuilder();
        percentilesMs().forEach((name, value) -> {
            if (!text.isEmpty()) text.append(", ");
            text.append(name).append(' ').append(String.format(java.util.Locale.ROOT, "%.3f", value)).append(" ms");
        });
        return text.toString();
    }

    private static double ms(double micros) {
        return Math.round(micros) / 1000.0;
    }

    /** Operations per second over {@code nanos}. */
    static double perSecond(long count, long nanos) {
        return nanos <= 0 ? 0 : Math.round(count * 1e9 / nanos * 10) / 10.0;
    }

    /** Waits so that operation {@code done} (counted from 0) starts no earlier than the rate allows; rate <= 0: never. */
    static void throttle(long startNanos, long done, double ratePerSecond) throws InterruptedException {
        if (ratePerSecond <= 0) return;
        long due = startNanos + (long) (done * 1e9 / ratePerSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
}
