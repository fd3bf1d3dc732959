package io.tandem.server.kafka.quota;

/**
 * An average measured as Kafka's metrics library measures an {@code Avg} stat (its throttle-time sensors): the sum of
 * the values recorded in the live windows over their count, NaN when none was recorded, with the windows of a
 * {@link SampledRate}. Not thread-safe: its owner synchronizes.
 */
final class SampledAvg {
    private final SampledRate sum;
    private final SampledRate count;

    SampledAvg(int samples, long windowMs) {
        this.sum = new SampledRate(samples, windowMs);
        this.count = new SampledRate(samples, windowMs);
    }

    void record(double value, long nowMs) {
        sum.record(value, nowMs);
        count.record(1, nowMs);
    }

    /** The average at {@code nowMs}; NaN when nothing was recorded in the live windows (as Kafka's Avg). */
    double measure(long nowMs) {
        double n = count.sum(nowMs);
        return n == 0 ? Double.NaN : sum.sum(nowMs) / n;
    }
}
