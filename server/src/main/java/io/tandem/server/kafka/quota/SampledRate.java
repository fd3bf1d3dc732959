package io.tandem.server.kafka.quota;

/**
 * A rate measured as Kafka's metrics library measures a quota sensor's {@code Rate}: the sum of up to
 * {@code samples} windows of {@code windowMs} each, divided by the time they cover, where a young sensor counts as
 * if {@code samples - 1} whole windows had already passed (so a first burst is not measured over a few
 * milliseconds). The throttle time of a violation is Kafka's QuotaUtils.throttleTime: how long the measured window
 * would have to grow for the rate to come down to the bound. Not thread-safe: its owner synchronizes.
 */
final class SampledRate {
    private final int samples;
    private final long windowMs;
    /** Each sample's sum and the start of its window; {@code count} of them are in use, {@code current} is newest. */
    private final double[] values;
    private final long[] windowStartMs;
    private int count;
    private int current;

    SampledRate(int samples, long windowMs) {
        if (samples < 1 || windowMs < 1) throw new IllegalArgumentException("samples and window must be at least 1");
        this.samples = samples;
        this.windowMs = windowMs;
        this.values = new double[samples];
        this.windowStartMs = new long[samples];
    }

    /** Adds {@code value} at {@code nowMs}, moving to a new window when the current one is over (SampledStat.record). */
    void record(double value, long nowMs) {
        if (count == 0) {
            count = 1;
            current = 0;
            reset(0, nowMs);
        } else if (nowMs - windowStartMs[current] >= windowMs) {
            // Kafka 3.8+ starts the new window on the grid of the previous one, not at this event.
            long previousEndMs = windowStartMs[current] + windowMs;
            long startMs = nowMs - ((nowMs - previousEndMs) % windowMs);
            current = (current + 1) % samples;
            if (current >= count) count = current + 1;
            reset(current, startMs);
        }
        values[current] += value;
    }

    private void reset(int i, long nowMs) {
        values[i] = 0;
        windowStartMs[i] = nowMs;
    }

    /** Samples older than every window together start over at {@code nowMs} (SampledStat.purgeObsoleteSamples). */
    private void purgeObsolete(long nowMs) {
        long expireAgeMs = (long) samples * windowMs;
        for (int i = 0; i < count; i++) {
            if (nowMs - windowStartMs[i] >= expireAgeMs) reset(i, nowMs);
        }
    }

    /** The time the rate is measured over, in milliseconds (Rate.windowSize). */
    long windowSizeMs(long nowMs) {
        purgeObsolete(nowMs);
        if (count == 0) {
            count = 1;
            current = 0;
            reset(0, nowMs);
        }
        long oldest = windowStartMs[0];
        for (int i = 1; i < count; i++) oldest = Math.min(oldest, windowStartMs[i]);
        long elapsedMs = nowMs - oldest;
        int fullWindows = (int) (elapsedMs / windowMs);
        int minFullWindows = samples - 1;
        if (fullWindows < minFullWindows) elapsedMs += (minFullWindows - fullWindows) * windowMs;
        return elapsedMs == 0 ? 1 : elapsedMs;
    }

    /** The sum of the live windows at {@code nowMs} (a WindowedSum; with a count beside it, an Avg). */
    double sum(long nowMs) {
        purgeObsolete(nowMs);
        double sum = 0;
        for (int i = 0; i < count; i++) sum += values[i];
        return sum;
    }

    /** The rate per second at {@code nowMs} (Rate.measure over a WindowedSum). */
    double measure(long nowMs) {
        return sum(nowMs) / (windowSizeMs(nowMs) / 1000.0);
    }

    /**
     * Records the value and answers the throttle time in ms when the rate is then over {@code bound} (Sensor.record
     * with its quota checked, then QuotaUtils.throttleTime), else 0. The value stays recorded either way, as Kafka's.
     */
    long recordAndThrottleMs(double value, double bound, long nowMs) {
        record(value, nowMs);
        double rate = measure(nowMs);
        if (rate <= bound) return 0;
        return Math.round((rate - bound) / bound * windowSizeMs(nowMs));
    }
}
