package io.tandem.server.zab;

import java.math.BigDecimal;
import org.HdrHistogram.Histogram;
import java.math.RoundingMode;
import java.util.function.BiConsumer;

/**
 * One of Apache ZooKeeper 3.9's summaries (its metrics provider's AvgMinMaxCounter): the count, sum, smallest and
 * largest of the values added, printed by mntr as five lines, {@code zk_avg_<name>} (4 decimals, half up),
 * {@code zk_min_}, {@code zk_max_}, {@code zk_cnt_} and {@code zk_sum_}, each 0 while nothing was added.
 *
 * <p>Apache's ADVANCED summaries (its AvgMinMaxPercentileCounter: {@code readlatency}, {@code updatelatency},
 * {@code propagation_latency}, ...) add four lines, {@code zk_p50_<name>}, {@code p95_}, {@code p99_} and
 * {@code p999_}, whole numbers, 0 while nothing was added: {@link #withPercentiles}. Apache takes them from a uniform
 * sample of at most 4096 values (Dropwizard's reservoir, interpolated and rounded); Tandem takes them from an
 * HdrHistogram of every value added (3 significant digits, so exact for values below 2048), which costs a few array
 * increments per value and no allocation after the histogram has grown to the largest value seen, and agrees with
 * Apache's figure wherever the sample would be representative.
 *
 * <p>Thread-safe: a figure is added where its work happens and read by mntr on the commit thread.
 */
public final class FigureSummary {
    private final String name;
    private long count;
    private long sum;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;
    /** Every value added, for the percentile lines; null for a BASIC summary, which has none. */
    private final Histogram histogram;

    /** A BASIC summary: five lines. */
    public FigureSummary(String name) {
        this(name, false);
    }

    private FigureSummary(String name, boolean percentiles) {
        this.name = name;
        // Auto-resizing, so any value fits; 3 significant digits keep a millisecond figure exact up to 2047.
        this.histogram = percentiles ? new Histogram(3) : null;
    }

    /** An ADVANCED summary: the five lines and the four percentile lines. */
    public static FigureSummary withPercentiles(String name) {
        return new FigureSummary(name, true);
    }

    public synchronized void add(long value) {
        count++;
        sum += value;
        min = Math.min(min, value);
        max = Math.max(max, value);
        // HdrHistogram counts values from 0 up; a negative figure (a clock step) counts as 0 in the percentiles.
        if (histogram != null) histogram.recordValue(Math.max(0, value));
    }

    public synchronized long count() {
        return count;
    }

    /** mntr's five lines, under Apache's names. */
    public synchronized void report(BiConsumer<String, Object> line) {
        double avg = count == 0 ? 0.0
                : new BigDecimal(sum / (double) count).setScale(4, RoundingMode.HALF_UP).doubleValue();
        line.accept("zk_avg_" + name, avg);
        line.accept("zk_min_" + name, count == 0 ? 0 : min);
        line.accept("zk_max_" + name, count == 0 ? 0 : max);
        line.accept("zk_cnt_" + name, count);
        line.accept("zk_sum_" + name, sum);
        if (histogram != null) {
            line.accept("zk_p50_" + name, percentile(50));
            line.accept("zk_p95_" + name, percentile(95));
            line.accept("zk_p99_" + name, percentile(99));
            line.accept("zk_p999_" + name, percentile(99.9));
        }
    }

    /** The value at {@code percent}, 0 while nothing was added (as Apache's empty sample gives). */
    private long percentile(double percent) {
        return count == 0 ? 0 : histogram.getValueAtPercentile(percent);
    }
}
