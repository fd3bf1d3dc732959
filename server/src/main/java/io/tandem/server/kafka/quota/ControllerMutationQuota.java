package io.tandem.server.kafka.quota;

import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.network.ChannelThrottle;

import java.util.function.LongSupplier;

/**
 * One request's controller mutation quota (Kafka's ControllerMutationQuota): CreateTopics, CreatePartitions and
 * DeleteTopics {@link #record} the partitions each topic creates or deletes before they write it, and the answer
 * carries {@link #throttleTimeMs}. A strict quota (new enough request versions, whose clients understand
 * THROTTLING_QUOTA_EXCEEDED) refuses a topic once the client's bucket is in debt and admits any topic while it is not,
 * so one request may take the bucket below zero; a permissive quota (older versions) admits every topic and only
 * throttles the connection afterwards. Used by one request at a time.
 */
public abstract class ControllerMutationQuota implements ChannelThrottle.Owner {
    /** No quota applies: nothing is recorded or throttled. */
    public static final ControllerMutationQuota UNBOUNDED = new ControllerMutationQuota() {
        @Override
        public void record(double permits) {
        }

        @Override
        public int throttleTimeMs() {
            return 0;
        }

        @Override
        public boolean enabled() {
            return false;
        }

        @Override
        public void throttled(int throttleMs) {
        }
    };

    private ControllerMutationQuota() {
    }

    /**
     * Takes the permits for one topic's mutation; a strict quota already in debt throws ApiException
     * THROTTLING_QUOTA_EXCEEDED instead, and the topic is not to be written.
     */
    public abstract void record(double permits);

    /** The throttle time to answer with: the last violation's, less the time since it was measured. */
    public abstract int throttleTimeMs();

    /** Whether the client has a quota at all (worth a dry run before a write to know its size). */
    public abstract boolean enabled();

    /**
     * The answer goes out throttled for {@code throttleMs} by this quota (the longest of the request's): the client's
     * throttle-time metric and the quota's delay queue record it.
     */
    @Override
    public abstract void throttled(int throttleMs);

    /** A quota over one client's bucket; {@code bucket} calls run under the manager's lock. */
    static final class Bounded extends ControllerMutationQuota {
        private final ControllerMutationQuotaManager manager;
        private final ClientQuotaManager.Tags tags;
        private final boolean strict;
        private final LongSupplier clock;
        private long lastThrottleMs;
        private long lastRecordedMs;

        Bounded(ControllerMutationQuotaManager manager, ClientQuotaManager.Tags tags, boolean strict,
                LongSupplier clock) {
            this.manager = manager;
            this.tags = tags;
            this.strict = strict;
            this.clock = clock;
        }

        @Override
        public synchronized void record(double permits) {
            long now = clock.getAsLong();
            long throttleMs = manager.record(tags, permits, strict, now);
            if (throttleMs <= 0) return;
            lastThrottleMs = throttleMs;
            lastRecordedMs = now;
            if (strict) {
                throw new ApiException(Errors.THROTTLING_QUOTA_EXCEEDED.code(),
                        Errors.THROTTLING_QUOTA_EXCEEDED.message());
            }
        }

        @Override
        public synchronized int throttleTimeMs() {
            // The answer may go out long after the violation (a request waits for its topics' leaders): the time
            // waited since counts, as Kafka's AbstractControllerMutationQuota.throttleTime deducts it.
            long elapsedMs = clock.getAsLong() - lastRecordedMs;
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, lastThrottleMs - elapsedMs));
        }

        @Override
        public boolean enabled() {
            return true;
        }

        @Override
        public void throttled(int throttleMs) {
            manager.recordThrottle(tags, throttleMs, clock.getAsLong());
        }
    }
}
