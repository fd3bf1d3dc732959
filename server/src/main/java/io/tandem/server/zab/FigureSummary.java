package io.tandem.server.zab;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.function.BiConsumer;

/**
 * One of Apache ZooKeeper 3.9's summaries (its metrics provider's AvgMinMaxCounter): the count, sum, smallest and
 * largest of the values added, printed by mntr as five lines, {@code zk_avg_<name>} (4 decimals, half up),
 * {@code zk_min_}, {@code zk_max_}, {@code zk_cnt_} and {@code zk_sum_}, each 0 while nothing was added.
 *
 * <p>Thread-safe: a figure is added where its work happens and read by mntr on the commit thread.
 */
public final class FigureSummary {
    private final String name;
    private long count;
    private long sum;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;

    public FigureSummary(String name) {
        this.name = name;
    }

    public synchronized void add(long value) {
        count++;
        sum += value;
        min = Math.min(min, value);
        max = Math.max(max, value);
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
    }
}
