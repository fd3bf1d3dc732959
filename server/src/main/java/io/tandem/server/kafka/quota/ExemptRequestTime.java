package io.tandem.server.kafka.quota;

import java.util.function.LongSupplier;

/**
 * Kafka's {@code exempt-request-time} ({@code kafka.server:type=Request}): the handler time of requests exempt from
 * the request quota (between brokers, replica fetches, acks=0 produce), in percent of one thread, as a rate over the
 * quota window. As Kafka's ClientRequestQuotaManager.maybeRecordExempt, recorded only while request quotas are in
 * use (before, nothing measures it and the rate is 0).
 */
public final class ExemptRequestTime {
    private final SampledRate rate;
    private final LongSupplier clockMs;

    ExemptRequestTime(QuotaWindow window, LongSupplier clockMs) {
        this.rate = new SampledRate(window.samples(), window.sizeMs());
        this.clockMs = clockMs;
    }

    synchronized void record(double percent) {
        rate.record(percent, clockMs.getAsLong());
    }

    /** The exempt requests' handler time now, in percent of one thread per second. */
    public synchronized double percent() {
        return rate.measure(clockMs.getAsLong());
    }
}
