package io.tandem.server.kafka.quota;

/**
 * Kafka's TokenBucket (KIP-599), the measure of the controller mutation quota: the bucket refills at the quota's
 * bound per second up to a burst of {@code samples x window x bound} permits, a mutation takes its permits out, and
 * the quota is exhausted while fewer than none are left. A new bucket starts full (Kafka's starts at 0 tokens with its
 * last update at time 0, so its first refill fills it). Unlike a sampled rate, a large burst does not keep the
 * measure high until its sample expires: the debt is paid back at the refill rate, so the wait is exactly
 * {@code -tokens / bound} seconds. Not thread-safe: its owner synchronizes.
 */
final class TokenBucket {
    private final int samples;
    private final long windowMs;
    private double tokens;
    private long lastUpdateMs;
    private boolean started;

    TokenBucket(int samples, long windowMs) {
        this.samples = samples;
        this.windowMs = windowMs;
    }

    private double burst(double bound) {
        return samples * (windowMs / 1000.0) * bound;
    }

    private void refill(double bound, long nowMs) {
        double burst = burst(bound);
        if (!started) {
            started = true;
            tokens = burst;
        } else {
            tokens = Math.min(burst, tokens + bound * ((nowMs - lastUpdateMs) / 1000.0));
        }
        lastUpdateMs = nowMs;
    }

    /** The permits left at {@code nowMs} under {@code bound} permits per second (negative: in debt). */
    double tokens(double bound, long nowMs) {
        refill(bound, nowMs);
        return tokens;
    }

    /** Takes {@code permits} out (a negative number gives them back), never above the burst. */
    void record(double permits, double bound, long nowMs) {
        refill(bound, nowMs);
        tokens = Math.min(burst(bound), tokens - permits);
    }
}
